// The data position a checkpoint saves: which batch comes next, and enough about the data and
// the batch settings to refuse a resume on different data (which would silently see other pairs).
import { DataCursorError } from '../errors.js';
import type { TokenizedPair } from '../tokenize/tokenized-pair.js';

export interface DataCursor {
  version: 1;
  /** 0-based epoch of the next batch. */
  epoch: number;
  /** 0-based index of the next batch within that epoch. */
  batch: number;
  seed: number;
  batchSize: number;
  shuffle: boolean;
  groupByLength: boolean;
  dropLast: boolean;
  /** Number of pairs. */
  pairs: number;
  /** Hash of every pair's token ids (see dataFingerprint). */
  fingerprint: string;
}

// FNV-1a (32-bit, offset basis 2166136261, prime 16777619) over the 4 bytes of each word, run
// twice with different bases to give 64 bits: a changed token, length or order changes it.
function fnv1a(hash: number, word: number): number {
  let h = hash;
  for (let shift = 0; shift < 32; shift += 8) h = Math.imul(h ^ ((word >>> shift) & 0xff), 16777619) >>> 0;
  return h;
}

/** A 16-hex-digit hash of the pairs' ids, lengths and order. */
export function dataFingerprint(pairs: readonly TokenizedPair[]): string {
  let a = 2166136261;
  let b = 0x811c9dc5 ^ 0x5bd1e995;
  const add = (word: number) => {
    a = fnv1a(a, word);
    b = fnv1a(b, word ^ 0x9e3779b9);
  };
  add(pairs.length);
  for (const pair of pairs) {
    for (const ids of [pair.chosen.prompt, pair.chosen.completion, pair.rejected.prompt, pair.rejected.completion]) {
      add(ids.length);
      for (const id of ids) add(id);
    }
    // Unpaired rows: the label is data too (a flipped label must not pass for the same data). Pairs add nothing.
    if (pair.label !== undefined) add(pair.label ? 0x6c61_6231 : 0x6c61_6230);
  }
  return a.toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

const FIELDS: Record<keyof DataCursor, 'number' | 'boolean' | 'string'> = {
  version: 'number',
  epoch: 'number',
  batch: 'number',
  seed: 'number',
  batchSize: 'number',
  shuffle: 'boolean',
  groupByLength: 'boolean',
  dropLast: 'boolean',
  pairs: 'number',
  fingerprint: 'string',
};

/** Checks a cursor read back from JSON (e.g. JSON.parse of a checkpoint's data_cursor.json). */
export function parseDataCursor(value: unknown): DataCursor {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DataCursorError('a data cursor must be a JSON object as written by PreferenceBatches.cursor.');
  }
  const raw = value as Record<string, unknown>;
  for (const [key, type] of Object.entries(FIELDS)) {
    if (typeof raw[key] !== type)
      throw new DataCursorError(`data cursor field '${key}' must be a ${type}, got ${JSON.stringify(raw[key])}.`);
  }
  if (raw.version !== 1) throw new DataCursorError(`data cursor version ${raw.version} is not supported (expected 1).`);
  for (const key of ['epoch', 'batch', 'seed', 'batchSize', 'pairs'] as const) {
    const n = raw[key] as number;
    if (!Number.isSafeInteger(n) || n < 0)
      throw new DataCursorError(`data cursor field '${key}' must be a non-negative whole number, got ${n}.`);
  }
  return raw as unknown as DataCursor;
}
