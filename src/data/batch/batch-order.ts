// Which pairs form each batch of an epoch: a function of (seed, epoch) and the settings only,
// so any batch can be recomputed on resume without replaying the ones before it.
import { SeededRandom } from '../../random/seeded-random.js';

/** Megabatch size in batches for group_by_length (Hugging Face's LengthGroupedSampler default, mega_batch_mult = 50). */
export const MEGABATCH_BATCHES = 50;

export interface BatchOrderOptions {
  batchSize: number;
  seed: number;
  shuffle: boolean;
  groupByLength: boolean;
  dropLast: boolean;
}

/**
 * The batches (lists of pair indices) of epoch `epoch` (0-based). Shuffling draws a permutation
 * from SeededRandom.forStream(seed, epoch). With groupByLength the permutation is cut into
 * megabatches of 50 batches, each sorted by length, longest first (ties keep their shuffled order).
 */
export function epochBatches(lengths: readonly number[], epoch: number, options: BatchOrderOptions): number[][] {
  const order = Array.from(lengths, (_, i) => i);
  if (options.shuffle) SeededRandom.forStream(options.seed, epoch).shuffle(order);
  if (options.groupByLength) {
    const size = MEGABATCH_BATCHES * options.batchSize;
    for (let start = 0; start < order.length; start += size) {
      const mega = order.slice(start, start + size);
      mega.sort((a, b) => (lengths[b] as number) - (lengths[a] as number));
      order.splice(start, mega.length, ...mega);
    }
  }
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += options.batchSize) {
    const batch = order.slice(start, start + options.batchSize);
    if (batch.length < options.batchSize && options.dropLast) break;
    batches.push(batch);
  }
  return batches;
}
