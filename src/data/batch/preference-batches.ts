// The stream of training batches over epochs, with a cursor that can be saved and restored: a
// resumed stream yields exactly the batches the uninterrupted one would have yielded next.
import type { Tensor } from '../../tensor/tensor.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { type DataConfig, type DataConfigInput, resolveDataConfig } from '../data-config.js';
import { DataConfigError, DataCursorError } from '../errors.js';
import type { RowLocation } from '../row-location.js';
import { pairLength, type TokenizedPair } from '../tokenize/tokenized-pair.js';
import { type BatchOrderOptions, epochBatches } from './batch-order.js';
import { collateArrays, collatedTensors } from './collate-pairs.js';
import { type DataCursor, dataFingerprint, parseDataCursor } from './data-cursor.js';

export interface PreferenceBatch {
  /** [2B, T] int64: rows 0..B−1 the pairs' chosen sequences, rows B..2B−1 their rejected ones. */
  inputIds: Tensor;
  /** [2B, T] int64, 1 on tokens, 0 on padding. */
  attentionMask: Tensor;
  /** [2B, T] int64, the completion ids, −100 on prompt and padding. */
  labels: Tensor;
  /** [2B, T] int64, 1 on completion tokens. */
  completionMask: Tensor;
  /** B, the number of pairs. */
  pairCount: number;
  /** Pairs in the whole batch across every process (= pairCount without a shard). */
  globalPairCount: number;
  /** The pairs' indices in the dataset, in row order. */
  indices: number[];
  /** The pairs' source rows, in row order. */
  sources: RowLocation[];
  /** 0-based epoch and batch-in-epoch of this batch. */
  epoch: number;
  batch: number;
  /** Frees the four tensors. */
  dispose(): void;
}

export interface PreferenceBatchesOptions {
  /** Pairs per batch (the trainer's per_device_train_batch_size); rows per batch are twice this. */
  batchSize: number;
  /** The run's seed: epoch e's order is drawn from (seed, e) only. */
  seed: number;
  /** pad_to_multiple_of, padding_value, shuffle, group_by_length, dataloader_drop_last come from here. */
  config?: DataConfigInput | DataConfig;
  /** Needed when config.padding_value is null: its pad token, else its EOS, else 0 is used. */
  tokenizer?: Pick<Tokenizer, 'padTokenId' | 'eosTokenId'>;
  /** Where to start: a cursor saved from a stream over the same pairs and settings. */
  cursor?: unknown;
  /**
   * Data-parallel training: this process's share of every batch. batchSize is then the global
   * batch (the same on every process) and this process keeps its pairs at positions rank,
   * rank + worldSize, … (as PyTorch's DistributedSampler), so the cursor counts global batches.
   */
  shard?: { rank: number; worldSize: number };
}

/** The padding id: padding_value, else the tokenizer's pad token, else its EOS, else 0. */
export function resolvePaddingValue(config: DataConfig, tokenizer?: Pick<Tokenizer, 'padTokenId' | 'eosTokenId'>): number {
  return config.padding_value ?? tokenizer?.padTokenId ?? tokenizer?.eosTokenId ?? 0;
}

export class PreferenceBatches {
  readonly batchesPerEpoch: number;
  private readonly pairs: readonly TokenizedPair[];
  private readonly lengths: number[];
  private readonly order: BatchOrderOptions;
  private readonly paddingValue: number;
  private readonly padToMultipleOf: number | null;
  private readonly fingerprint: string;
  private readonly shard: { rank: number; worldSize: number } | null;
  private epoch = 0;
  private batch = 0;
  private epochOrder: { epoch: number; batches: number[][] } | null = null;

  constructor(pairs: readonly TokenizedPair[], options: PreferenceBatchesOptions) {
    const config = resolveDataConfig(options.config ?? {});
    if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) {
      throw new DataConfigError('batch_size', `must be a whole number ≥ 1, got ${options.batchSize}.`);
    }
    if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
      throw new DataConfigError('seed', `must be a non-negative whole number, got ${options.seed}.`);
    }
    if (pairs.length === 0)
      throw new DataConfigError('data', 'there are no pairs to batch: every row was dropped or the data is empty (see the report).');
    this.pairs = pairs;
    this.lengths = pairs.map(pairLength);
    this.order = {
      batchSize: options.batchSize,
      seed: options.seed,
      shuffle: config.shuffle,
      groupByLength: config.group_by_length,
      dropLast: config.dataloader_drop_last,
    };
    const full = Math.floor(pairs.length / options.batchSize);
    this.batchesPerEpoch = config.dataloader_drop_last || pairs.length % options.batchSize === 0 ? full : full + 1;
    if (this.batchesPerEpoch === 0) {
      throw new DataConfigError(
        'dataloader_drop_last',
        `${pairs.length} pairs make no full batch of ${options.batchSize}: lower the batch size or set dataloader_drop_last: false.`,
      );
    }
    this.shard = options.shard ?? null;
    if (this.shard) checkShard(this.shard, options.batchSize, pairs.length, this.order.dropLast);
    this.paddingValue = resolvePaddingValue(config, options.tokenizer);
    this.padToMultipleOf = config.pad_to_multiple_of;
    this.fingerprint = dataFingerprint(pairs);
    if (options.cursor !== undefined) this.restore(options.cursor);
  }

  /** Where the stream stands: the next batch to be yielded. Save it (JSON) with a checkpoint. */
  get cursor(): DataCursor {
    return {
      version: 1,
      epoch: this.epoch,
      batch: this.batch,
      seed: this.order.seed,
      batchSize: this.order.batchSize,
      shuffle: this.order.shuffle,
      groupByLength: this.order.groupByLength,
      dropLast: this.order.dropLast,
      pairs: this.pairs.length,
      fingerprint: this.fingerprint,
    };
  }

  private restore(value: unknown): void {
    const cursor = parseDataCursor(value);
    const mine = this.cursor;
    for (const key of ['seed', 'batchSize', 'shuffle', 'groupByLength', 'dropLast', 'pairs', 'fingerprint'] as const) {
      if (cursor[key] !== mine[key]) {
        throw new DataCursorError(
          `the saved data cursor has ${key} ${JSON.stringify(cursor[key])} but this run has ${JSON.stringify(mine[key])}: ` +
            'resume with the same data files, data settings, tokenizer, seed and batch size, or start without the cursor.',
        );
      }
    }
    if (cursor.batch >= this.batchesPerEpoch) {
      throw new DataCursorError(`the saved data cursor points at batch ${cursor.batch} of an epoch that has ${this.batchesPerEpoch}.`);
    }
    this.epoch = cursor.epoch;
    this.batch = cursor.batch;
  }

  /** The pair indices of each batch of `epoch`, recomputed from (seed, epoch). */
  batchesOf(epoch: number): number[][] {
    if (this.epochOrder?.epoch !== epoch) this.epochOrder = { epoch, batches: epochBatches(this.lengths, epoch, this.order) };
    return this.epochOrder.batches;
  }

  /** The next batch; epochs follow one another without end (the trainer decides when to stop). */
  next(): PreferenceBatch {
    const global = this.batchesOf(this.epoch)[this.batch] as number[];
    const shard = this.shard;
    const indices = shard ? global.filter((_, k) => k % shard.worldSize === shard.rank) : global;
    const pairs = indices.map((i) => this.pairs[i] as TokenizedPair);
    const arrays = collateArrays(pairs, { paddingValue: this.paddingValue, padToMultipleOf: this.padToMultipleOf });
    const tensors = collatedTensors(arrays);
    const batch: PreferenceBatch = {
      ...tensors,
      pairCount: pairs.length,
      globalPairCount: global.length,
      indices,
      sources: pairs.map((p) => p.source),
      epoch: this.epoch,
      batch: this.batch,
      dispose() {
        for (const t of [tensors.inputIds, tensors.attentionMask, tensors.labels, tensors.completionMask]) t.dispose();
      },
    };
    this.batch += 1;
    if (this.batch === this.batchesPerEpoch) {
      this.batch = 0;
      this.epoch += 1;
    }
    return batch;
  }
}

/** Every process must get at least one pair of every batch, the short last one included. */
function checkShard(shard: { rank: number; worldSize: number }, batchSize: number, pairCount: number, dropLast: boolean): void {
  const { rank, worldSize } = shard;
  if (!Number.isSafeInteger(worldSize) || worldSize < 1 || !Number.isSafeInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new DataConfigError('shard', `rank must be a whole number in [0, worldSize), got rank ${rank} of ${worldSize}.`);
  }
  const last = dropLast ? 0 : pairCount % batchSize;
  if (batchSize < worldSize || (last > 0 && last < worldSize)) {
    throw new DataConfigError(
      'dataloader_drop_last',
      `a batch of ${last > 0 ? last : batchSize} pairs cannot give each of ${worldSize} processes a pair: ` +
        `${last > 0 ? `the ${pairCount} pairs leave a last batch of ${last}; set dataloader_drop_last: true or use fewer processes.` : 'use fewer processes.'}`,
    );
  }
}
