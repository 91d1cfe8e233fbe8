// Data-parallel training over torch.distributed (docs/distributed.md): every rank holds the whole
// model and runs the same optimiser step on gradients averaged over the global batch. What crosses
// the process group, and when:
//   - once, before step 1: rank 0's weights, broadcast to every rank (identical starting points);
//   - per micro-batch, for losses with batch statistics (α-DPO's gap, bco_pair's δ): the per-pair
//     values, gathered so the statistics are those of the global batch (gatherPairs);
//   - per optimiser step: the accumulated gradients, averaged in buckets of BUCKET_BYTES (as
//     PyTorch's DDP, without its overlap with the backward pass), then the step's metrics, and
//     whether any rank was asked to stop.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

/** DDP's default bucket_cap_mb (25 MiB): few enough collectives, small enough copies. */
const BUCKET_BYTES = 25 * 1024 * 1024;

const BYTES: Record<string, number> = { float64: 8, float32: 4, bfloat16: 2, float16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** Consecutive tensors of one dtype, up to BUCKET_BYTES each (a larger tensor is a bucket of its own). */
function buckets(tensors: readonly Tensor[]): Tensor[][] {
  const out: Tensor[][] = [];
  let current: Tensor[] = [];
  let bytes = 0;
  for (const t of tensors) {
    const size = t.numel * (BYTES[t.dtype] ?? 4);
    if (current.length > 0 && (bytes + size > BUCKET_BYTES || (current[0] as Tensor).dtype !== t.dtype)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Runs `collective` on one flat copy of each bucket of `tensors`, then copies the results back in place. */
function bucketed(tensors: readonly Tensor[], collective: (flat: Tensor) => void): void {
  torch.noGrad(() => {
    for (const bucket of buckets(tensors)) {
      torch.tidy(() => {
        const flat =
          bucket.length === 1 ? (bucket[0] as Tensor).reshape([-1]).contiguous().clone() : torch.cat(bucket.map((t) => t.reshape([-1])));
        collective(flat);
        let offset = 0;
        for (const t of bucket) {
          t.copy_(flat.narrow(0, offset, t.numel).view(t.shape));
          offset += t.numel;
        }
      });
    }
  });
}

/** A step's loss, metrics and token count, with the number of pairs behind them. */
export interface StepReport {
  loss: number;
  metrics: Record<string, number>;
  tokens: number;
  pairs: number;
}

export class DataParallel {
  readonly rank: number;
  readonly worldSize: number;

  constructor(rank: number, worldSize: number) {
    this.rank = rank;
    this.worldSize = worldSize;
  }

  /** The process group's ranks when torch.distributed is initialised with more than one process; null otherwise. */
  static fromProcessGroup(): DataParallel | null {
    if (!torch.distributed.isInitialized()) return null;
    const worldSize = torch.distributed.getWorldSize();
    return worldSize > 1 ? new DataParallel(torch.distributed.getRank(), worldSize) : null;
  }

  /** Whether this rank writes files (metrics, checkpoints, the final model): rank 0 only. */
  get writes(): boolean {
    return this.rank === 0;
  }

  /** Overwrites every rank's parameters with rank 0's. */
  broadcastParameters(parameters: readonly Tensor[]): void {
    bucketed(parameters, (flat) => torch.distributed.broadcast(flat, 0));
  }

  /** Replaces each accumulated gradient with its mean over the ranks. Parameters without a gradient have none on any rank. */
  averageGradients(parameters: readonly Tensor[]): void {
    const grads = parameters.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    try {
      bucketed(grads, (flat) => torch.distributed.allReduce(flat, 'avg'));
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /** Concatenates a per-pair tensor over the ranks, in rank order (shares may differ in size by one pair). */
  readonly gatherPairs = (perPair: Tensor): Tensor =>
    torch.tidy(() => {
      const counts = torch.distributed.allGather(torch.tensor([perPair.size(0)], { dtype: 'int64' })).map((t) => t.item());
      const longest = Math.max(...counts);
      const padded =
        perPair.size(0) === longest
          ? perPair.detach().contiguous()
          : torch.cat([perPair.detach(), torch.zeros([longest - perPair.size(0)], { dtype: perPair.dtype })]);
      const parts = torch.distributed.allGather(padded);
      return torch.cat(parts.map((p, r) => p.narrow(0, 0, counts[r] as number)));
    });

  /**
   * The step's loss and metrics over the global batch: each rank's values weighted by its pairs
   * (equal shares: the plain mean), metrics named …/min and …/max reduced as minimum and maximum,
   * tokens summed. Every rank gets the same report.
   */
  reduceStep(local: StepReport): StepReport {
    const names = Object.keys(local.metrics).sort();
    const extreme = (name: string) => /\/(min|max)$/.test(name);
    const weighted = names.filter((n) => !extreme(n));
    const extremes = names.filter(extreme);
    const w = local.pairs;
    const sums = torch.tensor(
      new Float64Array([w * local.loss, ...weighted.map((n) => w * (local.metrics[n] as number)), local.tokens, w]),
    );
    try {
      torch.distributed.allReduce(sums, 'sum');
      const [lossSum, ...rest] = sums.toNumbers();
      const pairs = rest.at(-1) as number;
      const metrics: Record<string, number> = {};
      weighted.forEach((n, i) => {
        metrics[n] = (rest[i] as number) / pairs;
      });
      if (extremes.length > 0) {
        // max(x) and max(−x) = −min(x) in one reduction.
        const signed = extremes.map((n) => (n.endsWith('/min') ? -1 : 1) * (local.metrics[n] as number));
        const ext = torch.tensor(new Float64Array(signed));
        try {
          torch.distributed.allReduce(ext, 'max');
          ext.toNumbers().forEach((v, i) => {
            const n = extremes[i] as string;
            metrics[n] = n.endsWith('/min') ? -v : v;
          });
        } finally {
          ext.dispose();
        }
      }
      return { loss: (lossSum as number) / pairs, metrics, tokens: rest.at(-2) as number, pairs };
    } finally {
      sums.dispose();
    }
  }

  /** Whether any rank's `flag` is true (e.g. a stop request), so every rank takes the same branch. */
  anyRank(flag: boolean): boolean {
    const t = torch.tensor(new Float64Array([flag ? 1 : 0]));
    try {
      torch.distributed.allReduce(t, 'max');
      return t.item() > 0;
    } finally {
      t.dispose();
    }
  }

  /** Waits for every rank (e.g. before leaving the group, so rank 0's store outlives the others' last collective). */
  barrier(): void {
    torch.distributed.barrier();
  }
}
