// JSON Lines rows of 1, 4 and 16 MB: how reading time grows with the length of one row. Our
// reader (readRows, as loadPreferenceDataset uses it) against Node's own line splitter,
// `readline` over a file stream with JSON.parse per line, as the peer. A linear reader spends the
// same time per MB at every size: the printed ratio (ms/MB at 16 MB ÷ ms/MB at 1 MB) is then
// near 1; a quadratic one gives about 16.
//
//   node --import tsx bench/data/jsonl-long-rows.ts [--repeats N] [--sizes 1,4,16]
//
// The reader before max_row_bytes (commit 333818f) took the same call: copy this file into a
// checkout of that commit to time it (it re-scanned the whole pending text for a newline at
// every 64 KiB chunk, so its time per MB grew with the row: ratio 13.3, 27 s for 16 MB).
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readRows } from '../../src/data/read/read-rows.js';

const { values } = parseArgs({ options: { repeats: { type: 'string' }, sizes: { type: 'string' } } });
const repeats = Number(values.repeats ?? 3);
const sizesMB = (values.sizes ?? '1,4,16').split(',').map(Number);
const MB = 1 << 20;

/** One JSONL file of two lines: a standard row whose prompt makes the line `bytes` long, then a short row. */
async function writeRows(path: string, bytes: number): Promise<void> {
  const frame = JSON.stringify({ prompt: '', chosen: ' yes', rejected: ' no' });
  const prompt = 'a b '.repeat(Math.ceil(bytes / 4)).slice(0, bytes - frame.length);
  await writeFile(path, `${JSON.stringify({ prompt, chosen: ' yes', rejected: ' no' })}\n${frame}\n`);
}

async function ours(path: string): Promise<number> {
  let rows = 0;
  for await (const row of readRows([path], null, { maxRowBytes: 64 * MB })) if ('value' in row) rows += 1;
  return rows;
}

async function nodeReadline(path: string): Promise<number> {
  let rows = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() !== '') {
      JSON.parse(line);
      rows += 1;
    }
  }
  return rows;
}

/** Best of `repeats` wall times in ms (the least disturbed by other load on the machine). */
async function best(read: (path: string) => Promise<number>, path: string): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const rows = await read(path);
    fastest = Math.min(fastest, performance.now() - start);
    if (rows !== 2) throw new Error(`expected 2 rows, read ${rows}`);
  }
  return fastest;
}

const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-bench-jsonl-'));
try {
  const perMB: { ours: number[]; peer: number[] } = { ours: [], peer: [] };
  console.log(`JSONL rows of ${sizesMB.join(', ')} MB, best of ${repeats}; peer: node:readline + JSON.parse`);
  console.log('row MB   ours ms  ours ms/MB   readline ms  readline ms/MB   ours ÷ readline');
  for (const size of sizesMB) {
    const path = join(dir, `row-${size}MB.jsonl`);
    await writeRows(path, size * MB);
    const o = await best(ours, path);
    const p = await best(nodeReadline, path);
    perMB.ours.push(o / size);
    perMB.peer.push(p / size);
    console.log(
      `${String(size).padStart(6)} ${o.toFixed(1).padStart(9)} ${(o / size).toFixed(2).padStart(11)} ${p.toFixed(1).padStart(13)} ${(p / size).toFixed(2).padStart(15)} ${(o / p).toFixed(2).padStart(17)}`,
    );
    await rm(path);
  }
  const growth = (xs: number[]) => ((xs[xs.length - 1] as number) / (xs[0] as number)).toFixed(2);
  const [first, last] = [sizesMB[0], sizesMB[sizesMB.length - 1]];
  console.log(`ms/MB at ${last} MB ÷ ms/MB at ${first} MB (1 = linear, ${(last as number) / (first as number)} = quadratic):`);
  console.log(`  ours ${growth(perMB.ours)}   readline ${growth(perMB.peer)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
