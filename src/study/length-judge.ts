// The judge that labels LenTrap's preference pairs: a stand-in for a GPT-4 judge with its length
// bias. r_J(x, y) = q(x, y) + λ · tanh((|y| − μ_L) / σ_L), with μ_L and σ_L the mean and standard
// deviation of SFT samples' lengths (words), and λ calibrated so that, over pairs of SFT samples
// to the same prompt with different lengths, the longer one wins the judge's comparison ≈ 68% of
// the time (GPT-4's measured rate; AlpacaEval found 0.65–0.79). λ = 0 is the control: the judge
// is the gold reward itself.

export interface LengthJudge {
  lambda: number;
  meanLength: number;
  sdLength: number;
}

/** The judge's reward of a response with gold reward `q` and `length` words. */
export function judgeReward(judge: LengthJudge, q: number, length: number): number {
  return q + judge.lambda * Math.tanh((length - judge.meanLength) / judge.sdLength);
}

/** Two responses to one prompt: their gold rewards and lengths. */
export interface ScoredPair {
  qA: number;
  lengthA: number;
  qB: number;
  lengthB: number;
}

/** Share of `pairs` with different lengths in which the longer response has the larger judge reward (ties ½). */
export function longerWinsRate(judge: LengthJudge, pairs: readonly ScoredPair[]): number {
  let wins = 0;
  let counted = 0;
  for (const p of pairs) {
    if (p.lengthA === p.lengthB) continue;
    const a = judgeReward(judge, p.qA, p.lengthA);
    const b = judgeReward(judge, p.qB, p.lengthB);
    const longerIsA = p.lengthA > p.lengthB;
    const longerWins = a === b ? 0.5 : a > b === longerIsA ? 1 : 0;
    wins += longerWins;
    counted += 1;
  }
  return counted === 0 ? Number.NaN : wins / counted;
}

/** Mean and (N − 1) standard deviation. */
function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, sd };
}

/**
 * Calibrates λ by bisection so that longerWinsRate ≈ `target` on `pairs` (SFT samples); `lengths`
 * are all SFT sample lengths (for μ_L, σ_L). The rate rises with λ (a larger λ only helps the
 * longer response), so bisection on [0, 16] finds the smallest λ reaching the target to 1e-4.
 */
export function calibrateJudge(pairs: readonly ScoredPair[], lengths: readonly number[], target: number): LengthJudge {
  const { mean, sd } = meanSd(lengths);
  const judge = (lambda: number): LengthJudge => ({ lambda, meanLength: mean, sdLength: sd > 0 ? sd : 1 });
  let lo = 0;
  let hi = 16;
  if (longerWinsRate(judge(lo), pairs) >= target) return judge(0);
  for (let i = 0; i < 40 && hi - lo > 1e-4; i++) {
    const mid = (lo + hi) / 2;
    if (longerWinsRate(judge(mid), pairs) >= target) hi = mid;
    else lo = mid;
  }
  return judge(hi);
}

/** The control: the gold reward, with the same μ_L and σ_L. */
export function unbiasedJudge(calibrated: LengthJudge): LengthJudge {
  return { ...calibrated, lambda: 0 };
}
