// Each layer only imports the ones below it (README "Layout"): a file in src/<layer>/ may import
// its own folder and lower layers, never a higher one. This test reads every import of src/ and
// fails naming the file and the import that goes up.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Rank of each top-level folder of src/ (a file may import equal rank only within its own folder). */
const RANK: Record<string, number> = {
  'errors.ts': -1,
  native: 0,
  config: 1,
  tensor: 1,
  random: 1,
  io: 2,
  nn: 3,
  optim: 3,
  tokenizers: 3,
  models: 4,
  generation: 5,
  losses: 5,
  data: 6,
  train: 7,
  report: 6,
  demo: 8,
  study: 8.5,
  cli: 9,
  'index.ts': 10,
};

/** The layer of a path under src/: its top-level folder (or root file: index.ts, errors.ts). */
function layerOf(path: string): string {
  return (relative(SRC, path).split(sep)[0] as string).replace(/\.js$/, '.ts');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The imports of `file` (with source `text`) that go to a higher layer, or sideways to another folder of equal rank. */
function upwardImports(file: string, text: string): string[] {
  const from = layerOf(file);
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    const to = layerOf(resolve(dirname(file), m[1] as string));
    if (to === from) continue;
    const rt = RANK[to];
    if (rt === undefined || rt >= (RANK[from] as number)) out.push(`${relative(SRC, file)} (${from}) imports ${m[1]} (${to})`);
  }
  return out;
}

describe('layers', () => {
  test('every src/ folder has a rank', () => {
    const tops = readdirSync(SRC);
    assert.deepEqual(
      tops.filter((t) => RANK[t] === undefined),
      [],
    );
  });

  test('no import goes up the layers', () => {
    const violations = sourceFiles(SRC).flatMap((file) => upwardImports(file, readFileSync(file, 'utf8')));
    assert.deepEqual(violations, []);
  });

  test('the check sees violations: upward, sideways, and multi-line imports', () => {
    const file = join(SRC, 'tensor', 'example.ts');
    assert.deepEqual(upwardImports(file, "import { train } from '../train/train.js';\nimport * as torch from './torch.js';\n"), [
      'tensor/example.ts (tensor) imports ../train/train.js (train)',
    ]);
    assert.equal(upwardImports(join(SRC, 'nn', 'x.ts'), "import { AdamW } from '../optim/adamw.js';").length, 1);
    assert.equal(upwardImports(join(SRC, 'nn', 'x.ts'), "import {\n  a,\n  b,\n} from '../models/auto.js';").length, 1);
  });
});
