// The public API as a package user meets it: `import ... from 'alpha-dpo'` resolves to the built
// package (dist/, through package.json "exports"), every name docs/api.md documents is exported,
// internals are not, and the custom training script in docs/api.md runs and trains.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PRESETS, randomInit, torch } from '../src/index.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(ROOT, 'docs', 'api.md');
let work = '';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

before(async () => {
  // The package a user imports is dist/: build it when src/ is newer (npm test builds first anyway).
  const built = await stat(join(ROOT, 'dist', 'index.js')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  if (built < newestMtime(join(ROOT, 'src')))
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
  work = await makeTempDir('alpha-dpo-api-');
});
after(() => removeTempDir(work));

/** Names in the first column of docs/api.md's tables and in its `import { ... } from 'alpha-dpo'` lines. */
function documentedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'alpha-dpo'/g)) {
    for (const part of (m[1] as string).split(',')) {
      const name = part.replace(/^\s*type\s+/, '').trim();
      if (name) names.add(name);
    }
  }
  for (const line of text.split('\n')) {
    const cell = /^\|\s*(.+?)\s*\|/.exec(line)?.[1];
    if (!cell || cell === 'name' || cell.startsWith('---')) continue;
    for (const m of cell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1] as string);
  }
  return [...names];
}

describe('public API', () => {
  test("every name docs/api.md documents is exported by the built package ('alpha-dpo')", async () => {
    const api = (await import('alpha-dpo' as string)) as Record<string, unknown>;
    const names = documentedNames(await readFile(docs, 'utf8'));
    assert.ok(names.length >= 20, `found ${names.length} documented names`);
    const typeOnly = new Set(['PreferencePair']);
    const missing = names.filter((n) => !typeOnly.has(n) && api[n] === undefined);
    assert.deepEqual(missing, [], `documented but not exported: ${missing.join(', ')}`);
    for (const name of ['train', 'trainPreferences', 'resolveTrainConfig', 'loadTrainingPairs', 'evaluatePreferences']) {
      assert.equal(typeof api[name], 'function', name);
    }
    // The trainer's parts stay internal: a user composes the documented functions.
    for (const internal of ['RunFolder', 'MetricsLog', 'trainingStep', 'restoreFromCheckpoint', 'scoreBatch']) {
      assert.equal(api[internal], undefined, `${internal} is internal`);
    }
  });

  test("docs/api.md's custom training script runs against the built package and trains", async () => {
    const text = await readFile(docs, 'utf8');
    const script = /```ts\n(\/\/ custom-training\.ts[\s\S]*?)```/.exec(text)?.[1];
    assert.ok(script, 'the custom-training.ts block is in docs/api.md');
    // A tiny model folder with the fixture tokenizer (bytes are their own ids).
    const modelDir = join(work, 'model');
    torch.manualSeed(0);
    const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
    await model.savePretrained(modelDir);
    model.dispose();
    const fixtures = join(ROOT, 'test', 'fixtures', 'models', 'tokenizer-chatml');
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(fixtures, f), join(modelDir, f));
    // Inside the package so that 'alpha-dpo' resolves to it, as in a user's project that depends on it.
    const file = join(ROOT, 'dist', 'docs-examples', 'custom-training.ts');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, script);
    const result = spawnSync(process.execPath, ['--import', 'tsx', file, modelDir], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { steps: number; losses: number[]; accuracy: number };
    assert.equal(out.steps, 4);
    assert.equal(out.losses.length, 4);
    assert.ok(out.losses.every(Number.isFinite));
    // Four steps at lr 1e-3 on the four pairs raise each chosen completion against its rejected one:
    // the trained policy wins every pair against the untouched reference.
    assert.ok((out.losses.at(-1) as number) < (out.losses[0] as number), `losses ${out.losses}`);
    assert.equal(out.accuracy, 1);
  });
});
