// AlpacaEval 2's length-controlled win rate, as LenTrap uses it: a logistic GLM of the judge's
// preference for the policy's response over the baseline's,
//   P(policy wins) = σ(θ + φ · tanh(Δlen / sd(Δlen)))
// fitted by maximum likelihood on soft labels (1 win, 0 loss, ½ tie), no other intercept; the
// length-controlled win rate is σ(θ): the predicted win rate when the lengths are equal
// (Dubois et al. 2024, "Length-Controlled AlpacaEval", eq. 2 without the instruction term).
// Newton's method on two parameters; a tiny ridge (RIDGE) keeps it finite when every label is
// the same (perfect separation), without moving a well-posed fit by more than ~1e-6.

export interface LcObservation {
  /** Soft label: the judge's preference for the policy's response (1, ½ or 0). */
  label: number;
  /** Policy length − baseline length (words). */
  lengthDiff: number;
}

export interface LcFit {
  theta: number;
  phi: number;
  /** σ(θ): the win rate at equal lengths. */
  lcWinRate: number;
  /** The raw (unadjusted) mean label. */
  winRate: number;
}

const RIDGE = 1e-6;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Standard deviation (N − 1) of the length differences; 1 when they do not vary. */
export function lengthDiffScale(observations: readonly LcObservation[]): number {
  const n = observations.length;
  const mean = observations.reduce((a, o) => a + o.lengthDiff, 0) / n;
  const sd = Math.sqrt(observations.reduce((a, o) => a + (o.lengthDiff - mean) ** 2, 0) / Math.max(1, n - 1));
  return sd > 0 ? sd : 1;
}

export function fitLcWinRate(observations: readonly LcObservation[], scale = lengthDiffScale(observations)): LcFit {
  const n = observations.length;
  if (n === 0) return { theta: Number.NaN, phi: Number.NaN, lcWinRate: Number.NaN, winRate: Number.NaN };
  const x = observations.map((o) => Math.tanh(o.lengthDiff / scale));
  let theta = 0;
  let phi = 0;
  for (let iter = 0; iter < 100; iter++) {
    // Gradient and Hessian of −(log-likelihood) + (RIDGE·n/2)(θ² + φ²).
    let g0 = RIDGE * n * theta;
    let g1 = RIDGE * n * phi;
    let h00 = RIDGE * n;
    let h01 = 0;
    let h11 = RIDGE * n;
    for (let i = 0; i < n; i++) {
      const xi = x[i] as number;
      const p = sigmoid(theta + phi * xi);
      const r = p - (observations[i] as LcObservation).label;
      const w = p * (1 - p);
      g0 += r;
      g1 += r * xi;
      h00 += w;
      h01 += w * xi;
      h11 += w * xi * xi;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    theta -= d0;
    phi -= d1;
    if (Math.abs(d0) + Math.abs(d1) < 1e-10) break;
  }
  const winRate = observations.reduce((a, o) => a + o.label, 0) / n;
  return { theta, phi, lcWinRate: sigmoid(theta), winRate };
}
