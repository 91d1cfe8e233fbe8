// The benchmark's cases and plans. These plain objects are the whole contract between the two
// implementations: ours.ts runs them through our TypeScript API and peer.py receives the very
// same objects as JSON, so neither side can drift to other shapes, seeds or repetition counts.

export interface MatmulCase {
  kind: 'matmul';
  id: string;
  m: number;
  k: number;
  n: number;
}

export interface AddCase {
  kind: 'add';
  id: string;
  numel: number;
}

export interface BlockCase {
  kind: 'block';
  id: string;
  batch: number;
  seq: number;
  dModel: number;
  heads: number;
}

export type CaseSpec = MatmulCase | AddCase | BlockCase;

/** One side's work in one round. */
export interface RoundRequest {
  spec: CaseSpec;
  /** Untimed samples before the timed ones. */
  warmup: number;
  samples: number;
  /** Units of work (matmuls, adds, forward+backward passes) per sample, timed together. */
  inner: number;
  /** Both sides seed libtorch's generator with it, so they draw identical inputs. */
  seed: number;
  /** Also compute the check sums (outside the timed region). */
  check: boolean;
}

/** What one side reports for one round. */
export interface RoundResult {
  /** Seconds per unit of work, one per timed sample. */
  seconds: number[];
  /** Block only: the forward pass's share of each timed sample, in seconds per unit. */
  forwardSeconds?: number[];
  /** Sums of a result, compared across the two sides to show they computed the same thing. */
  check?: number[];
  /** Peer only: CPU seconds its process used during the round (all threads). */
  cpuSeconds?: number;
}

export const SEED = 1234;

export const CASES: readonly CaseSpec[] = [
  { kind: 'add', id: 'add4', numel: 4 },
  { kind: 'matmul', id: 'matmul-512x768x768', m: 512, k: 768, n: 768 },
  { kind: 'matmul', id: 'matmul-1024x1024x1024', m: 1024, k: 1024, n: 1024 },
  { kind: 'matmul', id: 'matmul-2048x768x3072', m: 2048, k: 768, n: 3072 },
  { kind: 'block', id: 'gpt2-block', batch: 4, seq: 128, dModel: 768, heads: 12 },
];

export interface Plan {
  mode: 'full' | 'quick';
  /** Each round runs every side once per case; the side that goes first alternates by round. */
  rounds: number;
  /** Aimed-at duration of one timed sample (units are batched up to it). */
  sampleSeconds: number;
  /** Time each side may spend on one case in one round, warm-up included. */
  roundSeconds: number;
  warmup: number;
  maxSamples: number;
  cases: readonly CaseSpec[];
}

// Repetition counts follow from measured speed rather than being fixed, because the same
// machine can be 30x apart: Debian's libtorch does its matmuls in the system BLAS, ~7 GFLOP/s
// with the reference BLAS and ~240 with OpenBLAS on 2 cores. With OpenBLAS a full run takes
// about 90 s, with the reference BLAS 150-175 s (one sample per round for the slowest cases).
export function makePlan(quick: boolean, only: readonly string[] | null): Plan {
  const cases = only === null ? CASES : CASES.filter((c) => only.includes(c.id));
  return quick
    ? { mode: 'quick', rounds: 2, sampleSeconds: 0.05, roundSeconds: 0.5, warmup: 1, maxSamples: 8, cases }
    : { mode: 'full', rounds: 4, sampleSeconds: 0.1, roundSeconds: 1.5, warmup: 1, maxSamples: 15, cases };
}

/** Units per sample and samples per round, from the measured seconds per unit. */
export function repetitions(plan: Plan, unitSeconds: number): { inner: number; samples: number } {
  const inner = Math.max(1, Math.ceil(plan.sampleSeconds / unitSeconds));
  const fit = Math.floor(plan.roundSeconds / (inner * unitSeconds)) - plan.warmup;
  return { inner, samples: Math.min(plan.maxSamples, Math.max(1, fit)) };
}
