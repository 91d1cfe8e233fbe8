// The study's statistics: hierarchical bootstrap intervals (seeds, then prompts within each seed),
// two-sided bootstrap p-values, Holm's step-down correction, Welch's t-test over seed means, and
// the probability that a run of one method beats a run of another.
import { SeededRandom } from '../random/seeded-random.js';

/** A statistic of a resample: `seeds[i]` is the i-th drawn seed index, `prompts[i]` the prompt indices drawn within it. */
export type ResampleStatistic = (seeds: readonly number[], prompts: readonly (readonly number[])[]) => number;

export interface BootstrapInterval {
  estimate: number;
  low: number;
  high: number;
  /** Two-sided p-value of "the statistic is 0" (meaningful for differences): 2·min(P(b ≤ 0), P(b ≥ 0)), floored at 1/replicates. */
  pValue: number;
  replicates: number;
}

/** Linear-interpolated quantile of sorted values (type 7, R's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

export interface HierarchicalBootstrapOptions {
  seeds: number;
  prompts: number;
  replicates: number;
  /** Seed of the resampling stream. */
  rngSeed: number;
}

/**
 * 95% percentile interval of `statistic` by a two-level bootstrap: draw seeds with replacement,
 * then prompts with replacement independently within each drawn seed. With a single seed only the
 * prompts are resampled (and the interval ignores run-to-run variation, which the report says).
 */
export function hierarchicalBootstrap(statistic: ResampleStatistic, options: HierarchicalBootstrapOptions): BootstrapInterval {
  const { seeds, prompts, replicates } = options;
  const all = Array.from({ length: prompts }, (_, i) => i);
  const estimate = statistic(
    Array.from({ length: seeds }, (_, i) => i),
    Array.from({ length: seeds }, () => all),
  );
  const rng = SeededRandom.forStream(options.rngSeed, 7);
  const values: number[] = [];
  for (let r = 0; r < replicates; r++) {
    const s = Array.from({ length: seeds }, () => rng.nextBelow(seeds));
    const p = s.map(() => Array.from({ length: prompts }, () => rng.nextBelow(prompts)));
    values.push(statistic(s, p));
  }
  values.sort((a, b) => a - b);
  const below = values.filter((v) => v <= 0).length / replicates;
  const above = values.filter((v) => v >= 0).length / replicates;
  return {
    estimate,
    low: quantile(values, 0.025),
    high: quantile(values, 0.975),
    pValue: Math.max(1 / replicates, Math.min(1, 2 * Math.min(below, above))),
    replicates,
  };
}

/** Holm's step-down adjusted p-values, in the input order: p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)). */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error < 1e-13). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-14) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, ½). */
export function studentTwoSidedP(t: number, df: number): number {
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

export interface WelchResult {
  difference: number;
  t: number;
  df: number;
  pValue: number;
}

/** Welch's unequal-variance t-test of mean(a) − mean(b); NaN when either side has fewer than 2 values. */
export function welchTest(a: readonly number[], b: readonly number[]): WelchResult {
  const stats = (xs: readonly number[]) => {
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    return { m, v: xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1), n: xs.length };
  };
  const A = stats(a);
  const B = stats(b);
  const difference = A.m - B.m;
  if (A.n < 2 || B.n < 2) return { difference, t: Number.NaN, df: Number.NaN, pValue: Number.NaN };
  const sa = A.v / A.n;
  const sb = B.v / B.n;
  const se = Math.sqrt(sa + sb);
  if (se === 0) return { difference, t: Number.NaN, df: Number.NaN, pValue: difference === 0 ? 1 : 0 };
  const t = difference / se;
  const df = (sa + sb) ** 2 / (sa ** 2 / (A.n - 1) + sb ** 2 / (B.n - 1));
  return { difference, t, df, pValue: studentTwoSidedP(t, df) };
}

/** P(a run of A scores above a run of B) over all pairs of runs, ties ½. */
export function probabilityOfSuperiority(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (const x of a) for (const y of b) s += x > y ? 1 : x === y ? 0.5 : 0;
  return s / (a.length * b.length);
}
