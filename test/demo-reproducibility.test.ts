// The demo end to end at --quick sizes: the same seed gives the same table (the promise of
// `npm run demo`), another seed another one; the CLI writes the JSON and a loadable α-DPO
// Hugging Face folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO_METHODS } from '../src/demo/demo-settings.js';
import { formatDemoTable } from '../src/demo/results-table.js';
import { type DemoResult, runDemo } from '../src/demo/run-demo.js';
import { AutoModelForCausalLM, AutoTokenizer, generate } from '../src/index.js';
import { withTempDir } from './helpers/tmp-dir.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Everything but the wall-clock timings. */
function measured(result: DemoResult): Omit<DemoResult, 'seconds'> {
  const { seconds: _, ...rest } = result;
  return rest;
}

describe('demo', () => {
  test('--quick twice with seed 3: identical tables and numbers; seed 4 differs', async () => {
    const first = await runDemo({ seed: 3, quick: true });
    const second = await runDemo({ seed: 3, quick: true });
    assert.equal(formatDemoTable(second), formatDemoTable(first));
    assert.deepEqual(measured(second), measured(first));
    // SFT first, then one row per method, in DEMO_METHODS order.
    assert.deepEqual(
      first.rows.map((r) => r.method),
      ['SFT', ...DEMO_METHODS.map((m) => m.name)],
    );
    for (const row of first.rows.slice(1)) {
      assert.ok(Number.isFinite(row.evaluation.reward.mean) && Number.isFinite(row.evaluation.kl.mean), row.method);
      assert.ok(row.finalLoss !== null && Number.isFinite(row.finalLoss), row.method);
    }
    const other = await runDemo({ seed: 4, quick: true });
    assert.notEqual(formatDemoTable(other), formatDemoTable(first));
  });

  test('through the whole pipeline, α-DPO with α = 0 is SimPO (docs/alpha-dpo.md): identical row', async () => {
    const simpo = { name: 'SimPO', lossType: 'simpo', loss: { beta: 2.5, gamma_beta_ratio: 0.3 }, ln: true, learningRate: 5e-5 } as const;
    const alphaZero = { ...simpo, name: 'α-DPO α=0', lossType: 'alpha-dpo', loss: { ...simpo.loss, alpha: 0 } } as const;
    const result = await runDemo({ seed: 5, quick: true, methods: [simpo, alphaZero] });
    const [, simpoRow, alphaRow] = result.rows;
    assert.ok(simpoRow && alphaRow);
    assert.deepEqual(alphaRow.evaluation, simpoRow.evaluation);
    assert.equal(alphaRow.finalLoss, simpoRow.finalLoss);
    assert.ok((simpoRow.evaluation.kl.mean as number) !== 0, 'the policies did move away from the SFT model');
  });

  test('alpha-dpo demo --quick --json --out: the table on stdout, the results as JSON, the α-DPO model as a Hugging Face folder', async () => {
    await withTempDir('demo-cli-', async (dir) => {
      const json = join(dir, 'results.json');
      const out = join(dir, 'alpha-dpo-model');
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'demo', '--quick', '--seed', '3', '--json', json, '--out', out],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      const written = JSON.parse(await readFile(json, 'utf8')) as DemoResult;
      assert.equal(written.seed, 3);
      assert.equal(written.rows.length, 1 + DEMO_METHODS.length);
      // The printed table is the one the library formats from the same numbers.
      assert.ok(run.stdout.includes(formatDemoTable(written)), run.stdout);
      const model = await AutoModelForCausalLM.fromPretrained(out);
      const tokenizer = await AutoTokenizer.fromPretrained(out);
      const prompt = tokenizer.encode('c a b =');
      assert.deepEqual(prompt, [1, 7, 5, 6, 4]);
      const generated = generate(model, [prompt], { maxNewTokens: 4 });
      assert.ok((generated.tokens[0] ?? []).length > 0, 'the saved model generates');
      model.dispose();

      const bad = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'demo', '--seed', 'x'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--seed expects a whole number/);
    });
  });
});
