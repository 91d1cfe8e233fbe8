// Batches: the [chosen; rejected] layout with exact ids, masks and labels (the issue's example),
// padding to a multiple, the seeded order (xoshiro128** known answers), length grouping, epochs,
// and a cursor that resumes exactly where a run stopped.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { epochBatches } from '../src/data/batch/batch-order.js';
import {
  collateArrays,
  DataCursorError,
  loadPreferenceDataset,
  PreferenceBatches,
  SeededRandom,
  type TokenizedPair,
  tokenizePreferencePairs,
} from '../src/data/index.js';
import { torch } from '../src/index.js';
import { FakeTokenizer } from './fixtures/data/fake-tokenizer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);

/** Every standard fixture tokenises to the issue's ids with this vocabulary: "a b c" → [1, 2, 3], " k l m" → [11, 12, 13]. */
const ISSUE_TOKENIZER = new FakeTokenizer({
  vocab: { '<pad>': 0, a: 1, ' b': 2, ' c': 3, ' d': 4, ' e': 5, ' f': 6, g: 7, ' h': 8, ' i': 9, ' j': 10, ' k': 11, ' l': 12, ' m': 13 },
  pad: '<pad>',
});

// The issue's example: prompts [1,2,3] and [7,8], chosen [4,5] and [9,10], rejected [6] and [11,12,13], pad 0.
const ISSUE = {
  inputIds: [
    [1, 2, 3, 4, 5],
    [7, 8, 9, 10, 0],
    [1, 2, 3, 6, 0],
    [7, 8, 11, 12, 13],
  ],
  attentionMask: [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0],
    [1, 1, 1, 1, 0],
    [1, 1, 1, 1, 1],
  ],
  completionMask: [
    [0, 0, 0, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 1, 1, 1],
  ],
  labels: [
    [-100, -100, -100, 4, 5],
    [-100, -100, 9, 10, -100],
    [-100, -100, -100, 6, -100],
    [-100, -100, 11, 12, 13],
  ],
};

const side = (prompt: number[], completion: number[]) => ({ prompt: Int32Array.from(prompt), completion: Int32Array.from(completion) });
const location = (index: number) => ({ file: 'hand', index, line: index + 1 });
const pair = (index: number, prompt: number[], chosen: number[], rejected: number[]): TokenizedPair => ({
  chosen: side(prompt, chosen),
  rejected: side(prompt, rejected),
  source: location(index),
  metadata: {},
});
const ISSUE_PAIRS = [pair(0, [1, 2, 3], [4, 5], [6]), pair(1, [7, 8], [9, 10], [11, 12, 13])];

const rows = (values: BigInt64Array, width: number) =>
  Array.from({ length: values.length / width }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width), Number));

describe('collation', () => {
  test("the issue's example: input_ids, attention_mask, completion mask and labels, exactly", () => {
    const arrays = collateArrays(ISSUE_PAIRS, { paddingValue: 0, padToMultipleOf: null });
    assert.equal(arrays.rows, 4);
    assert.equal(arrays.length, 5);
    assert.deepEqual(rows(arrays.inputIds, 5), ISSUE.inputIds);
    assert.deepEqual(rows(arrays.attentionMask, 5), ISSUE.attentionMask);
    assert.deepEqual(rows(arrays.completionMask, 5), ISSUE.completionMask);
    assert.deepEqual(rows(arrays.labels, 5), ISSUE.labels);
  });

  test('pad_to_multiple_of 4 pads the length 5 to 8 with padding_value 99', () => {
    const arrays = collateArrays(ISSUE_PAIRS, { paddingValue: 99, padToMultipleOf: 4 });
    assert.equal(arrays.length, 8);
    assert.deepEqual(rows(arrays.inputIds, 8)[1], [7, 8, 9, 10, 99, 99, 99, 99]);
    assert.deepEqual(rows(arrays.labels, 8)[1], [-100, -100, 9, 10, -100, -100, -100, -100]);
    assert.deepEqual(rows(arrays.attentionMask, 8)[1], [1, 1, 1, 1, 0, 0, 0, 0]);
  });

  for (const name of [
    'standard.jsonl',
    'standard.jsonl.gz',
    'standard.json',
    'standard.json.gz',
    'standard.parquet',
    'standard.parquet.gz',
    'splits.json',
  ]) {
    test(`${name} → the issue's example as [4, 5] int64 tensors`, async () => {
      const dataset = await loadPreferenceDataset(fixture(name), {}, { split: 'train' });
      const tokenized = tokenizePreferencePairs(dataset.pairs, ISSUE_TOKENIZER);
      const stream = new PreferenceBatches(tokenized.pairs, {
        batchSize: 2,
        seed: 0,
        config: { shuffle: false },
        tokenizer: ISSUE_TOKENIZER,
      });
      const before = torch.liveTensorCount();
      const batch = stream.next();
      for (const key of ['inputIds', 'attentionMask', 'completionMask', 'labels'] as const) {
        assert.equal(batch[key].dtype, 'int64', key);
        assert.deepEqual(batch[key].tolist(), ISSUE[key], key);
      }
      assert.equal(batch.pairCount, 2);
      assert.deepEqual(batch.indices, [0, 1]);
      batch.dispose();
      assert.equal(torch.liveTensorCount(), before, 'dispose() frees the 4 tensors');
    });
  }
});

describe('order', () => {
  test('xoshiro128** from state {1, 2, 3, 4} gives the reference C code outputs', () => {
    // Outputs of https://prng.di.unimi.it/xoshiro128starstar.c compiled with cc and seeded s = {1, 2, 3, 4}.
    const random = new SeededRandom([1, 2, 3, 4]);
    assert.deepEqual(
      Array.from({ length: 8 }, () => random.nextUint32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849],
    );
  });

  test('a shuffle is a permutation fixed by (seed, epoch): same seed same order, another seed or epoch another order', () => {
    const lengths = Array.from({ length: 20 }, () => 1);
    const options = { batchSize: 20, seed: 42, shuffle: true, groupByLength: false, dropLast: false };
    const order = (seed: number, epoch: number) => epochBatches(lengths, epoch, { ...options, seed })[0] as number[];
    assert.deepEqual(
      [...order(42, 0)].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.deepEqual(order(42, 0), order(42, 0));
    assert.notDeepEqual(order(42, 0), order(43, 0));
    assert.notDeepEqual(order(42, 0), order(42, 1));
  });

  test('group_by_length without shuffling: one megabatch sorted longest first, lengths [3, 9, 1, 7, 5] → [[1, 3], [4, 0], [2]]', () => {
    const batches = epochBatches([3, 9, 1, 7, 5], 0, { batchSize: 2, seed: 0, shuffle: false, groupByLength: true, dropLast: false });
    assert.deepEqual(batches, [[1, 3], [4, 0], [2]]);
  });

  test('dataloader_drop_last: 5 pairs in batches of 2 make 2 batches, else 3', () => {
    const five = Array.from({ length: 5 }, (_, i) => pair(i, [1], [2], [3]));
    assert.equal(new PreferenceBatches(five, { batchSize: 2, seed: 0, config: { dataloader_drop_last: true } }).batchesPerEpoch, 2);
    assert.equal(new PreferenceBatches(five, { batchSize: 2, seed: 0 }).batchesPerEpoch, 3);
  });
});

describe('resumable cursor', () => {
  // Seven pairs of different lengths, so a wrong order would show in the ids too.
  const PAIRS = Array.from({ length: 7 }, (_, i) =>
    pair(
      i,
      [1, 100 + i],
      Array.from({ length: i + 1 }, (_, j) => 200 + j),
      [300 + i],
    ),
  );
  const options = { batchSize: 2, seed: 42, config: { group_by_length: true, pad_to_multiple_of: 2 } };

  function take(stream: PreferenceBatches, count: number) {
    return Array.from({ length: count }, () => {
      const batch = stream.next();
      const seen = { epoch: batch.epoch, batch: batch.batch, indices: batch.indices, inputIds: batch.inputIds.tolist() };
      batch.dispose();
      return seen;
    });
  }

  test('stopping after 3 batches and restoring the saved cursor gives the next 7 batches of the uninterrupted run', () => {
    const uninterrupted = take(new PreferenceBatches(PAIRS, options), 10); // 4 batches an epoch: 2.5 epochs
    const first = new PreferenceBatches(PAIRS, options);
    const head = take(first, 3);
    const saved = JSON.stringify(first.cursor);
    assert.deepEqual(JSON.parse(saved).epoch, 0);
    assert.deepEqual(JSON.parse(saved).batch, 3);
    const resumed = new PreferenceBatches(PAIRS, { ...options, cursor: JSON.parse(saved) });
    assert.deepEqual([...head, ...take(resumed, 7)], uninterrupted);
    assert.deepEqual(
      uninterrupted.map((b) => [b.epoch, b.batch]),
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 3],
        [2, 0],
        [2, 1],
      ],
    );
    // Each epoch visits every pair once.
    assert.deepEqual(
      uninterrupted
        .slice(0, 4)
        .flatMap((b) => b.indices)
        .sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  test('a cursor from another seed, batch size or data is refused with a DataCursorError', () => {
    const cursor = new PreferenceBatches(PAIRS, options).cursor;
    assert.throws(
      () => new PreferenceBatches(PAIRS, { ...options, seed: 7, cursor }),
      (e: unknown) => e instanceof DataCursorError && /seed 42 but this run has 7/.test(e.message),
    );
    assert.throws(() => new PreferenceBatches(PAIRS, { ...options, batchSize: 3, cursor }), /batchSize 2 but this run has 3/);
    const changed = [...PAIRS.slice(0, 6), pair(6, [1, 106], [200], [999])];
    assert.throws(() => new PreferenceBatches(changed, { ...options, cursor }), /fingerprint/);
    assert.throws(() => new PreferenceBatches(PAIRS, { ...options, cursor: { ...cursor, batch: 'x' } }), /field 'batch' must be a number/);
  });
});
