// `alpha-dpo train` end to end on a tiny Hugging Face folder made here: YAML config in, a
// trained model folder (weights, config, tokenizer), metrics and checkpoints out.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runTrain } from '../src/cli/train.js';
import { AutoModelForCausalLM, PRESETS, randomInit, torch } from '../src/index.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'tokenizer-chatml');
let root = '';

const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
function rows(n: number, offset: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = (k: number) => words[(i * 3 + k + offset) % words.length];
    return JSON.stringify({
      prompt: [{ role: 'user', content: `name a ${w(0)} thing` }],
      chosen: [{ role: 'assistant', content: `${w(1)} ${w(2)}` }],
      rejected: [{ role: 'assistant', content: `${w(3)}` }],
    });
  }).join('\n');
}

before(async () => {
  root = await makeTempDir('alpha-dpo-cli-');
  torch.manualSeed(0);
  const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
  await model.savePretrained(join(root, 'model'));
  model.dispose();
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(fixtures, f), join(root, 'model', f));
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data', 'train.jsonl'), rows(8, 0));
  await writeFile(join(root, 'data', 'test.jsonl'), rows(4, 5));
});
after(() => removeTempDir(root));

describe('alpha-dpo train', () => {
  test('trains α-DPO from a YAML config and saves a loadable Hugging Face folder', async () => {
    const out = join(root, 'out');
    const config = join(root, 'alpha-dpo.yaml');
    await writeFile(
      config,
      [
        `model_name_or_path: ${join(root, 'model')}`,
        `dataset: ${join(root, 'data')}`,
        'loss_type: alpha-dpo',
        'beta: 2.5',
        'gamma_beta_ratio: 0.3',
        'alpha: 5e-2',
        'learning_rate: 1.0e-3',
        'lr_scheduler_type: cosine',
        'warmup_ratio: 0.1',
        'per_device_train_batch_size: 2',
        'per_device_eval_batch_size: 2',
        'max_steps: 4',
        'logging_steps: 2',
        'eval_steps: 2',
        'save_steps: 2',
        'save_total_limit: 1',
        'bf16: true',
        `output_dir: ${out}`,
      ].join('\n'),
    );
    const lines: string[] = [];
    const code = await runTrain([config, '--seed', '3'], (l) => lines.push(l));
    assert.equal(code, 0, lines.join('\n'));
    const text = lines.join('\n');
    assert.match(text, /note: 'bf16' has no effect here/);
    assert.match(text, /train: 8 pairs/);
    assert.match(text, /eval \(test\): 4 pairs/);
    const files = await readdir(out);
    for (const f of [
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
      'metrics.jsonl',
      'train_summary.json',
      'checkpoint-4',
    ]) {
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    }
    assert.ok(!files.includes('checkpoint-2'), 'save_total_limit: 1 removed checkpoint-2');
    const records = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const train = records.filter((r) => 'loss' in r);
    const evals = records.filter((r) => 'eval_loss' in r);
    assert.deepEqual(
      train.map((r) => r.step),
      [1, 2, 4],
    );
    assert.deepEqual(
      evals.map((r) => r.step),
      [2, 4],
    );
    for (const key of [
      'rewards/accuracies',
      'rewards/margins',
      'logps/ref_chosen',
      'margin/mean',
      'gap/running_std',
      'grad_norm',
      'learning_rate',
    ]) {
      assert.ok(key in (train[1] as object), `${key} logged`);
    }
    assert.ok('eval_rewards/accuracies' in (evals[0] as object));
    const trained = await AutoModelForCausalLM.fromPretrained(out);
    assert.equal(trained.architecture, 'LlamaForCausalLM');
    trained.dispose();
  });

  test("examples/alpha-dpo.yaml (the authors' settings) trains with command-line paths", async () => {
    const example = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'alpha-dpo.yaml');
    const out = join(root, 'example-out');
    const lines: string[] = [];
    const code = await runTrain(
      [
        example,
        ...['--model_name_or_path', join(root, 'model'), '--dataset', join(root, 'data'), '--output_dir', out],
        ...[
          '--max_steps',
          '2',
          '--gradient_accumulation_steps',
          '2',
          '--eval_steps',
          '2',
          '--max_length',
          '64',
          '--max_prompt_length',
          '32',
        ],
      ],
      (l) => lines.push(l),
    );
    assert.equal(code, 0, lines.join('\n'));
    assert.match(lines.join('\n'), /loss "alpha-dpo", averaged log-probs/);
    const summary = JSON.parse(await readFile(join(out, 'train_summary.json'), 'utf8')) as { steps: number; run_name: string };
    assert.equal(summary.steps, 2);
    assert.equal(summary.run_name, 'llama-3-8b-instruct-alpha-dpo');
  });

  test('Ctrl-C (SIGINT) finishes the step, writes a checkpoint and exits 130; --resume continues', async () => {
    const out = join(root, 'sigint-out');
    const config = join(root, 'sigint.yaml');
    await writeFile(
      config,
      [
        `model_name_or_path: ${join(root, 'model')}`,
        `dataset: ${join(root, 'data')}`,
        'loss_type: sigmoid',
        'beta: 0.1',
        'max_steps: 100000',
        'logging_steps: 1',
        'save_steps: 0',
        'per_device_train_batch_size: 2',
        'do_eval: false',
        `output_dir: ${out}`,
      ].join('\n'),
    );
    const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'train', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && /step 3\b/.test(stdout)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, stdout);
    assert.match(stdout, /interrupt: finishing this step/);
    const checkpoints = (await readdir(out)).filter((n) => n.startsWith('checkpoint-'));
    assert.equal(checkpoints.length, 1, `one checkpoint: ${checkpoints.join(', ')}`);
    const step = Number((checkpoints[0] as string).slice('checkpoint-'.length));
    assert.ok(step >= 3, `checkpoint after step ${step}`);
    const lines: string[] = [];
    assert.equal(await runTrain([config, '--resume', '--max_steps', String(step + 2)], (l) => lines.push(l)), 0, lines.join('\n'));
    assert.match(lines.join('\n'), new RegExp(`resumed from .*checkpoint-${step} at step ${step}`));
    assert.match(lines.join('\n'), new RegExp(`done: ${step + 2} steps`));
  });

  test('a bad config fails before anything is loaded, naming the key', async () => {
    const config = join(root, 'bad.yaml');
    await writeFile(
      config,
      `model_name_or_path: /nonexistent\ndataset: /nonexistent\nloss_type: sigmoid\nbeta: 0.1\nnum_train_epoch: 1\noutput_dir: ${root}/x\n`,
    );
    await assert.rejects(
      runTrain([config], () => {}),
      /'num_train_epoch'.*Did you mean 'num_train_epochs'/,
    );
  });
});
