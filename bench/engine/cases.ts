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
  /** Operations per timed sample: one op is far below the timer's useful resolution. */
  opsPerSample: number;
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

/** One side's work in one round: `warmup` untimed samples, then `samples` timed ones. */
export interface RoundRequest {
  spec: CaseSpec;
  warmup: number;
  samples: number;
  /** Both sides seed libtorch's generator with it, so they draw identical inputs. */
  seed: number;
}

/** What one side reports for one round. */
export interface RoundResult {
  /** Seconds per unit of work (one matmul, one add, one forward+backward), one per timed sample. */
  seconds: number[];
  /** Block only: the forward pass's share of each timed sample, in seconds. */
  forwardSeconds?: number[];
  /** Sums of the last result, compared across the two sides to show they computed the same thing. */
  check: number[];
}

export interface CasePlan {
  spec: CaseSpec;
  warmup: number;
  samples: number;
}

export interface Plan {
  mode: 'full' | 'quick';
  /** Each round runs every side once per case; the side that goes first alternates by round. */
  rounds: number;
  cases: CasePlan[];
}

export const SEED = 1234;

const ADD: AddCase = { kind: 'add', id: 'add4', numel: 4, opsPerSample: 20_000 };
const MATMULS: MatmulCase[] = [
  { kind: 'matmul', id: 'matmul-512x768x768', m: 512, k: 768, n: 768 },
  { kind: 'matmul', id: 'matmul-1024x1024x1024', m: 1024, k: 1024, n: 1024 },
  { kind: 'matmul', id: 'matmul-2048x768x3072', m: 2048, k: 768, n: 3072 },
];
const BLOCK: BlockCase = { kind: 'block', id: 'gpt2-block', batch: 4, seq: 128, dModel: 768, heads: 12 };

// Counts are sized for the whole run to stay under ~3 minutes on a 2-core machine with one
// intra-op thread and the reference BLAS (~7 GFLOP/s), where one block forward+backward takes
// ~3.7 s and the largest matmul ~1.4 s: the expensive cases get few samples per round and rely
// on the rounds for their spread. One warm-up per round, because every round starts from freshly
// allocated inputs and the other process has just had the caches.
export function makePlan(quick: boolean, only: readonly string[] | null): Plan {
  const [m512, m1024, m2048] = MATMULS as [MatmulCase, MatmulCase, MatmulCase];
  const cases: CasePlan[] = quick
    ? [
        { spec: ADD, warmup: 1, samples: 3 },
        { spec: m512, warmup: 1, samples: 2 },
        { spec: m1024, warmup: 1, samples: 1 },
        { spec: m2048, warmup: 1, samples: 1 },
        { spec: BLOCK, warmup: 1, samples: 1 },
      ]
    : [
        { spec: ADD, warmup: 1, samples: 5 },
        { spec: m512, warmup: 1, samples: 4 },
        { spec: m1024, warmup: 1, samples: 3 },
        { spec: m2048, warmup: 1, samples: 2 },
        { spec: BLOCK, warmup: 1, samples: 2 },
      ];
  const selected = only === null ? cases : cases.filter((c) => only.includes(c.spec.id));
  return { mode: quick ? 'quick' : 'full', rounds: quick ? 2 : 3, cases: selected };
}

export const CASE_IDS: readonly string[] = [ADD.id, ...MATMULS.map((m) => m.id), BLOCK.id];
