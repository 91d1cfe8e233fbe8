// Reference log-probs computed once before training (precompute_ref_log_probs) and cached on
// disk. The cache key hashes the reference weights (names, dtypes, shapes, bytes) and the
// tokenised data (every token id and label, via the data layer's fingerprint, which also
// captures every tokenisation setting), so a changed model, dataset or max_length never reuses
// stale values.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dataFingerprint } from '../data/batch/data-cursor.js';
import { PreferenceBatches } from '../data/batch/preference-batches.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import type { CausalLM } from '../models/causal-lm.js';
import * as torch from '../tensor/torch.js';
import { type ScoringOptions, scoreBatch } from './batch-scores.js';

/** Per pair: Σ log π_ref(y_w), Σ log π_ref(y_l) (nats) and the two completion lengths. */
export interface ReferenceTable {
  chosenSum: Float64Array;
  rejectedSum: Float64Array;
  chosenLength: Float64Array;
  rejectedLength: Float64Array;
}

export function cacheDirectory(): string {
  return process.env.ALPHA_DPO_CACHE ?? join(homedir(), '.cache', 'alpha-dpo');
}

export function referenceCacheKey(reference: CausalLM, pairs: readonly TokenizedPair[]): string {
  const hash = createHash('sha256');
  hash.update('alpha-dpo reference log-probs v1\n');
  for (const [name, t] of reference.namedParameters()) {
    hash.update(`${name} ${t.dtype} ${t.shape.join('x')}\n`);
    const bytes = torch.tidy(() => torch.keep(t.contiguous()));
    try {
      hash.update(new Uint8Array(bytes.dataView()));
    } finally {
      if (bytes.handle !== t.handle) bytes.dispose();
    }
  }
  hash.update(dataFingerprint(pairs));
  return hash.digest('hex').slice(0, 32);
}

async function computeTable(
  reference: CausalLM,
  pairs: readonly TokenizedPair[],
  batchSize: number,
  log: (line: string) => void,
  scoring: ScoringOptions | undefined,
): Promise<ReferenceTable> {
  const n = pairs.length;
  const table: ReferenceTable = {
    chosenSum: new Float64Array(n),
    rejectedSum: new Float64Array(n),
    chosenLength: new Float64Array(n),
    rejectedLength: new Float64Array(n),
  };
  const batches = new PreferenceBatches(pairs, { batchSize, seed: 0, config: { shuffle: false, dataloader_drop_last: false } });
  const started = performance.now();
  for (let k = 0; k < batches.batchesPerEpoch; k++) {
    const batch = batches.next();
    try {
      const [sums, lengths] = torch.noGrad(() =>
        torch.tidy(() => {
          const s = scoreBatch(reference, batch, { tokens: false, wpo: false }, scoring);
          return [s.sums.to('float64').toNumbers(), s.lengths.toNumbers()];
        }),
      );
      const b = batch.pairCount;
      batch.indices.forEach((pair, row) => {
        table.chosenSum[pair] = sums[row] as number;
        table.rejectedSum[pair] = sums[b + row] as number;
        table.chosenLength[pair] = lengths[row] as number;
        table.rejectedLength[pair] = lengths[b + row] as number;
      });
    } finally {
      batch.dispose();
    }
    if ((k + 1) % 20 === 0)
      log(`reference log-probs: ${k + 1}/${batches.batchesPerEpoch} batches (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  return table;
}

/** The reference table for `pairs`: from the cache when the key matches, else computed and cached. */
export async function referenceTable(
  reference: CausalLM,
  pairs: readonly TokenizedPair[],
  options: { batchSize: number; log: (line: string) => void; scoring?: ScoringOptions },
): Promise<{ table: ReferenceTable; cached: boolean; path: string }> {
  const key = referenceCacheKey(reference, pairs);
  const dir = join(cacheDirectory(), 'ref-logps');
  const path = join(dir, `${key}.json`);
  try {
    const saved = JSON.parse(await readFile(path, 'utf8')) as Record<keyof ReferenceTable, number[]>;
    if (saved.chosenSum?.length === pairs.length) {
      return {
        table: {
          chosenSum: Float64Array.from(saved.chosenSum),
          rejectedSum: Float64Array.from(saved.rejectedSum),
          chosenLength: Float64Array.from(saved.chosenLength),
          rejectedLength: Float64Array.from(saved.rejectedLength),
        },
        cached: true,
        path,
      };
    }
  } catch {
    // no usable cache entry: compute below
  }
  const table = await computeTable(reference, pairs, options.batchSize, options.log, options.scoring);
  await mkdir(dir, { recursive: true });
  const json = JSON.stringify({
    chosenSum: Array.from(table.chosenSum),
    rejectedSum: Array.from(table.rejectedSum),
    chosenLength: Array.from(table.chosenLength),
    rejectedLength: Array.from(table.rejectedLength),
  });
  await writeFileAtomically(path, (fh) => writeFully(fh, new TextEncoder().encode(json), 0));
  return { table, cached: false, path };
}
