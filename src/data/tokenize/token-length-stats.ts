// Token length percentiles of a tokenised dataset, and what max_length / max_prompt_length do to
// it, for `data inspect`.
import type { PairTokenLengths } from './tokenized-pair.js';

export const PERCENTILES = [50, 90, 95, 99, 100] as const;

/** Nearest-rank percentiles: the p-th is the smallest value with at least p% of values ≤ it (p = 100: the maximum). */
export function percentiles(values: readonly number[], ps: readonly number[] = PERCENTILES): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of ps) {
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    out[`p${p}`] = sorted.length === 0 ? 0 : (sorted[rank - 1] as number);
  }
  return out;
}

export interface TokenLengthStats {
  pairs: number;
  /** Percentiles (p50, p90, p95, p99, p100) of prompt tokens, of each completion's tokens, and of the longer whole sequence. */
  prompt: Record<string, number>;
  chosen: Record<string, number>;
  rejected: Record<string, number>;
  sequence: Record<string, number>;
}

export function tokenLengthStats(lengths: readonly PairTokenLengths[]): TokenLengthStats {
  return {
    pairs: lengths.length,
    prompt: percentiles(lengths.map((l) => l.prompt)),
    chosen: percentiles(lengths.map((l) => l.chosen)),
    rejected: percentiles(lengths.map((l) => l.rejected)),
    sequence: percentiles(lengths.map((l) => l.prompt + Math.max(l.chosen, l.rejected))),
  };
}
