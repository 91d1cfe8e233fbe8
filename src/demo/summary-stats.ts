// Means with a normal-approximation 95% confidence interval, for the demo's table.

export interface MeanWithInterval {
  mean: number;
  /** Half-width of the 95% interval: 1.96 · standard error (sample std, N − 1). 0 for fewer than 2 values. */
  halfWidth95: number;
  n: number;
}

/** 1.96: the two-sided 97.5% quantile of the standard normal. */
const Z_95 = 1.959963984540054;

export function meanWithInterval(values: readonly number[]): MeanWithInterval {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, halfWidth95: Number.NaN, n };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, halfWidth95: 0, n };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth95: Z_95 * Math.sqrt(variance / n), n };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
