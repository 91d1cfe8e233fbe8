// Integration: `alpha-dpo train` with the unpaired losses end to end, on a tiny Hugging Face folder made here
// and small unpaired JSONL files: training, evaluation, precomputed reference log-probs, resume,
// paired data unpaired on the way in, and the config mistakes refused before anything loads.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runEvaluate } from '../src/cli/evaluate.js';
import { runScore } from '../src/cli/score.js';
import { runTrain } from '../src/cli/train.js';
import { AutoModelForCausalLM } from '../src/index.js';
import { into, rowWord, WORDS as words, writeTinyModelFolder } from './helpers/cli-run-folder.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

let root = '';

/** n unpaired rows (conversational), label true on rows i with i % 3 ≠ 2: 2 of every 3 desirable. */
function unpairedRows(n: number, offset: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = (k: number) => rowWord(i, k, offset);
    return JSON.stringify({
      prompt: [{ role: 'user', content: `name a ${w(0)} thing` }],
      completion: [{ role: 'assistant', content: i % 3 === 2 ? `${w(3)}` : `${w(1)} ${w(2)}` }],
      label: i % 3 !== 2,
    });
  }).join('\n');
}

before(async () => {
  root = await makeTempDir('alpha-dpo-kto-');
  await writeTinyModelFolder(root);
  await writeFile(join(root, 'data', 'train.jsonl'), unpairedRows(12, 0));
  await writeFile(join(root, 'data', 'test.jsonl'), unpairedRows(6, 5));
  await mkdir(join(root, 'pairs'));
  await writeFile(
    join(root, 'pairs', 'train.jsonl'),
    Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({ prompt: `say ${words[i]}`, chosen: ` ${words[i]}`, rejected: ` ${words[(i + 1) % 8]}` }),
    ).join('\n'),
  );
});
after(() => removeTempDir(root));

async function writeConfig(name: string, lines: string[]): Promise<string> {
  const file = join(root, `${name}.yaml`);
  await writeFile(file, lines.join('\n'));
  return file;
}

const base = (dataset: string, out: string) => [
  `model_name_or_path: ${join(root, 'model')}`,
  `dataset: ${dataset}`,
  'loss_type: kto',
  'beta: 0.1',
  'shuffle: false',
  'learning_rate: 1.0e-3',
  'lr_scheduler_type: constant',
  'per_device_train_batch_size: 4',
  'per_device_eval_batch_size: 3',
  'logging_steps: 1',
  `output_dir: ${out}`,
];

async function records(out: string): Promise<Record<string, number>[]> {
  return (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
}

describe('alpha-dpo train with loss_type: kto', () => {
  test('trains on an unpaired JSONL folder and evaluates on its test split, logging TRL’s KTO metrics', async () => {
    const out = join(root, 'kto-out');
    const config = await writeConfig('kto', [...base(join(root, 'data'), out), 'max_steps: 3', 'eval_steps: 3', 'save_steps: 3']);
    const lines: string[] = [];
    assert.equal(await runTrain([config], into(lines)), 0, lines.join('\n'));
    const text = lines.join('\n');
    // 12 rows, label true unless i % 3 = 2: 8 desirable, 4 undesirable; the test split's 6 rows: 4 and 2.
    assert.match(text, /train: 12 examples \(desirable 8, undesirable 4\)/);
    assert.match(text, /eval \(test\): 6 examples \(desirable 4, undesirable 2\)/);
    // λ_D·n_D/(λ_U·n_U) = 8/4 = 2 > 4/3: the rule-of-thumb warning gives TRL's ranges, [0.5, 0.67] and [1.5, 2].
    assert.match(
      text,
      /warning: 8 desirable and 4 undesirable examples.*desirable_weight in \[0\.5, 0\.67\] or undesirable_weight in \[1\.5, 2\]/,
    );
    const logged = await records(out);
    const steps = logged.filter((r) => 'loss' in r);
    assert.deepEqual(
      steps.map((r) => r.step),
      [1, 2, 3],
    );
    // Step 1: policy = reference, so every ρ = 0 and z₀ = 0: each example's loss is 1 − σ(0) = 0.5 (hand derivation).
    assert.ok(Math.abs((steps[0]!.loss as number) - 0.5) < 1e-6, String(steps[0]!.loss));
    assert.equal(steps[0]!.kl, 0);
    for (const key of ['kl', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'grad_norm']) {
      assert.ok(key in (steps[2] as object), `${key} logged at step 3`);
    }
    assert.ok(!('rewards/accuracies' in (steps[2] as object)), 'no pair accuracy for unpaired examples');
    assert.ok((steps[2]!.loss as number) < 0.5, `loss went down: ${steps.map((r) => r.loss).join(', ')}`);
    const evals = logged.filter((r) => 'eval_loss' in r);
    assert.deepEqual(
      evals.map((r) => r.step),
      [3],
    );
    for (const key of ['eval_kl', 'eval_rewards/chosen', 'eval_rewards/rejected', 'eval_logps/chosen'])
      assert.ok(key in (evals[0] as object), key);
    const trained = await AutoModelForCausalLM.fromPretrained(out);
    trained.dispose();
  });

  test('precompute_ref_log_probs gives the losses of the live reference; a resumed run those of an uninterrupted one', async () => {
    const data = join(root, 'data', 'train.jsonl');
    const live = join(root, 'live');
    const cached = join(root, 'cached');
    const common = [...base(data, live).filter((l) => !l.startsWith('output_dir')), 'max_steps: 4', 'do_eval: false', 'save_steps: 2'];
    const lines: string[] = [];
    const config = await writeConfig('kto-resume', common);
    assert.equal(await runTrain([config, '--output_dir', live], into(lines)), 0, lines.join('\n'));
    process.env.ALPHA_DPO_CACHE = join(root, 'cache');
    try {
      assert.equal(
        await runTrain([config, '--output_dir', cached, '--precompute_ref_log_probs', 'true'], into(lines)),
        0,
        lines.join('\n'),
      );
    } finally {
      delete process.env.ALPHA_DPO_CACHE;
    }
    const lossesOf = async (out: string) => (await records(out)).filter((r) => 'loss' in r).map((r) => [r.step, r.loss, r.kl]);
    const a = await lossesOf(live);
    const b = await lossesOf(cached);
    assert.equal(a.length, 4);
    a.forEach((row, i) => {
      for (let k = 1; k < 3; k++)
        assert.ok(Math.abs((row[k] as number) - (b[i]![k] as number)) < 1e-5, `step ${row[0]}: live ${row}, precomputed ${b[i]}`);
    });

    // Two steps, then --resume to four: steps 3 and 4 as in the uninterrupted run.
    const resumed = join(root, 'resumed');
    assert.equal(await runTrain([config, '--output_dir', resumed, '--max_steps', '2'], into(lines)), 0, lines.join('\n'));
    assert.equal(await runTrain([config, '--output_dir', resumed, '--resume', '--max_steps', '4'], into(lines)), 0, lines.join('\n'));
    const c = await lossesOf(resumed);
    assert.deepEqual(
      c.map((r) => r[0]),
      [1, 2, 3, 4],
    );
    c.forEach((row, i) => {
      for (let k = 1; k < 3; k++)
        assert.ok(Math.abs((row[k] as number) - (a[i]![k] as number)) < 1e-6, `step ${row[0]}: resumed ${row}, straight ${a[i]}`);
    });
  });

  test('paired data is unpaired on the way in (each pair: one desirable, one undesirable example)', async () => {
    const out = join(root, 'pairs-out');
    const config = await writeConfig('kto-pairs', [...base(join(root, 'pairs', 'train.jsonl'), out), 'max_steps: 1', 'do_eval: false']);
    const lines: string[] = [];
    assert.equal(await runTrain([config], into(lines)), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /4 pairs unpaired into 8 examples for "kto"/);
    assert.match(lines.join('\n'), /train: 8 examples \(desirable 4, undesirable 4\)/);
  });

  test('apo_zero_unpaired trains through the same loop (no KL rows needed, shuffle allowed)', async () => {
    const out = join(root, 'apo-out');
    const lines0 = base(join(root, 'data', 'train.jsonl'), out).map((l) =>
      l === 'loss_type: kto' ? 'loss_type: apo_zero_unpaired' : l === 'shuffle: false' ? 'shuffle: true' : l,
    );
    const config = await writeConfig('apo', [...lines0, 'max_steps: 2', 'do_eval: false']);
    const lines: string[] = [];
    assert.equal(await runTrain([config], into(lines)), 0, lines.join('\n'));
    const steps = (await records(out)).filter((r) => 'loss' in r);
    // Step 1, policy = reference: desirable 1 − σ(0) = 0.5, undesirable σ(0) = 0.5.
    assert.ok(Math.abs((steps[0]!.loss as number) - 0.5) < 1e-6);
    assert.ok(!('kl' in (steps[0] as object)));
    // With precomputed reference log-probs (read for the example rows only) the same losses.
    const cached = join(root, 'apo-cached');
    process.env.ALPHA_DPO_CACHE = join(root, 'cache');
    try {
      assert.equal(
        await runTrain([config, '--output_dir', cached, '--precompute_ref_log_probs', 'true'], into(lines)),
        0,
        lines.join('\n'),
      );
    } finally {
      delete process.env.ALPHA_DPO_CACHE;
    }
    const again = (await records(cached)).filter((r) => 'loss' in r);
    steps.forEach((r, i) => {
      assert.ok(Math.abs((r.loss as number) - (again[i]!.loss as number)) < 1e-5, `step ${r.step}`);
    });
  });

  test('alpha-dpo evaluate --loss_type kto: a model against itself gives loss 0.5 and kl 0 (hand derivation)', async () => {
    const model = join(root, 'model');
    const json = join(root, 'kto-eval.json');
    const lines: string[] = [];
    const args = ['--model', model, '--ref', model, '--data', join(root, 'data', 'test.jsonl'), '--loss_type', 'kto', '--beta', '0.1'];
    assert.equal(await runEvaluate([...args, '--per_device_eval_batch_size', '3', '--json', json], into(lines)), 0, lines.join('\n'));
    const r = JSON.parse(await readFile(json, 'utf8')) as Record<string, number>;
    // Policy = reference: every ρ = 0 and z₀ = max(0, 0) = 0, so each loss is 1 − σ(0) = 0.5 and every reward 0.
    assert.equal(r.pairs, 6);
    assert.ok(Math.abs((r.eval_loss as number) - 0.5) < 1e-6, String(r.eval_loss));
    assert.equal(r.eval_kl, 0);
    assert.equal(r['eval_rewards/chosen'], 0);
  });

  test('config mistakes fail before anything loads: shuffle and a batch of one for kto; unpaired data for a pair loss', async () => {
    const data = join(root, 'data', 'train.jsonl');
    const shuffled = await writeConfig('kto-shuffle', [
      ...base(data, join(root, 'x')).map((l) => (l === 'shuffle: false' ? 'shuffle: true' : l)),
      'max_steps: 1',
    ]);
    await assert.rejects(runTrain([shuffled], into([])), /shuffle.*KL rows.*set shuffle: false/s);
    const single = await writeConfig('kto-single', [...base(data, join(root, 'y')), 'max_steps: 1']);
    await assert.rejects(runTrain([single, '--per_device_train_batch_size', '1'], into([])), /per_device_train_batch_size.*must be ≥ 2/s);
    const pairLoss = await writeConfig('sigmoid-unpaired', [
      ...base(data, join(root, 'z')).map((l) => (l === 'loss_type: kto' ? 'loss_type: sigmoid' : l)),
      'max_steps: 1',
    ]);
    await assert.rejects(runTrain([pairLoss], into([])), /holds unpaired examples.*takes preference pairs: use kto or apo_zero_unpaired/);
    await assert.rejects(
      runScore(['--model', join(root, 'model'), '--data', data, '--out', join(root, 'scored.jsonl')], into([])),
      /holds unpaired examples.*score compares the two completions of preference pairs/,
    );
  });
});
