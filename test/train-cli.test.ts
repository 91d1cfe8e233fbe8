// `alpha-dpo train` end to end on a tiny Hugging Face folder made here: YAML config in, a
// trained model folder (weights, config, tokenizer), metrics and checkpoints out.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runEvaluate } from '../src/cli/evaluate.js';
import { runScore } from '../src/cli/score.js';
import { runTrain } from '../src/cli/train.js';
import { AutoModelForCausalLM } from '../src/index.js';
import { into, pairRows as rows, writeTinyModelFolder } from './helpers/cli-run-folder.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

let root = '';

before(async () => {
  root = await makeTempDir('alpha-dpo-cli-');
  await writeTinyModelFolder(root);
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
    const code = await runTrain([config, '--seed', '3'], into(lines));
    assert.equal(code, 0, lines.join('\n'));
    const text = lines.join('\n');
    assert.doesNotMatch(text, /note: 'bf16'/, 'bf16 is a working switch now');
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
      into(lines),
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
    assert.match(stdout, /SIGINT: finishing this step/);
    const checkpoints = (await readdir(out)).filter((n) => n.startsWith('checkpoint-'));
    assert.equal(checkpoints.length, 1, `one checkpoint: ${checkpoints.join(', ')}`);
    const step = Number((checkpoints[0] as string).slice('checkpoint-'.length));
    assert.ok(step >= 3, `checkpoint after step ${step}`);
    const lines: string[] = [];
    assert.equal(await runTrain([config, '--resume', '--max_steps', String(step + 2)], into(lines)), 0, lines.join('\n'));
    assert.match(lines.join('\n'), new RegExp(`resumed from .*checkpoint-${step} at step ${step}`));
    assert.match(lines.join('\n'), new RegExp(`done: ${step + 2} steps`));
  });

  test('SIGTERM (docker stop, Slurm, Kubernetes) is handled like Ctrl-C: the step ends, a checkpoint, exit 143', async () => {
    const out = join(root, 'sigterm-out');
    const config = join(root, 'sigterm.yaml');
    // logging_steps 50: before the fix the signal was only seen at the next logging step (step 50).
    await writeFile(
      config,
      [
        `model_name_or_path: ${join(root, 'model')}`,
        `dataset: ${join(root, 'data')}`,
        'loss_type: sigmoid',
        'beta: 0.1',
        'max_steps: 100000',
        'logging_steps: 50',
        'logging_first_step: true',
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
      if (!signalled && /step 1\b/.test(stdout)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 143, stdout);
    assert.match(stdout, /SIGTERM: finishing this step/);
    const checkpoints = (await readdir(out)).filter((n) => n.startsWith('checkpoint-'));
    assert.equal(checkpoints.length, 1, `one checkpoint: ${checkpoints.join(', ')}`);
    const step = Number((checkpoints[0] as string).slice('checkpoint-'.length));
    assert.ok(step >= 1 && step < 50, `stopped after step ${step}, not at the next logging step`);
  });

  test('--resume continues with the settings the run was started with; a conflicting flag is an error', async () => {
    const out = join(root, 'resume-out');
    const config = join(root, 'resume.yaml');
    await writeFile(
      config,
      [
        `model_name_or_path: ${join(root, 'model')}`,
        `dataset: ${join(root, 'data')}`,
        'loss_type: sigmoid',
        'beta: 0.1',
        'max_steps: 2',
        'save_steps: 2',
        'per_device_train_batch_size: 2',
        'do_eval: false',
        `output_dir: ${join(root, 'not-this-one')}`,
      ].join('\n'),
    );
    const lines: string[] = [];
    const log = into(lines);
    assert.equal(await runTrain([config, '--beta', '0.2', '--output_dir', out], log), 0, lines.join('\n'));
    const first = JSON.parse(await readFile(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8')) as { config: { beta: number } };
    assert.equal(first.config.beta, 0.2);
    // A new run in the finished run's folder is refused (it would overwrite its model and mix metrics).
    await assert.rejects(runTrain([config, '--beta', '0.2', '--output_dir', out], log), /already holds a run/);
    // Conflicting training settings on resume are refused, naming the key and both values.
    await assert.rejects(
      runTrain([config, '--output_dir', out, '--resume', '--beta', '0.3'], log),
      /beta: the run has 0\.2, the command line 0\.3/,
    );
    // Without the flags the run continues with beta 0.2 (the file's 0.1 is noted, not used); more steps may be asked for.
    lines.length = 0;
    assert.equal(await runTrain([config, '--output_dir', out, '--resume', '--max_steps', '4'], log), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /differs in: beta/);
    assert.match(lines.join('\n'), /done: 4 steps/);
    const summary = JSON.parse(await readFile(join(out, 'train_summary.json'), 'utf8')) as { steps: number };
    assert.equal(summary.steps, 4);
  });

  test('alpha-dpo evaluate: a model against itself gives DPO loss ln 2; without --ref, accuracy is the mean-log-prob comparison', async () => {
    const lines: string[] = [];
    const out = into(lines);
    const model = join(root, 'model');
    const data = join(root, 'data', 'test.jsonl');
    const json = join(root, 'eval.json');
    assert.equal(await runEvaluate(['--model', model, '--ref', model, '--data', data, '--json', json], out), 0, lines.join(''));
    const dpo = JSON.parse(await readFile(json, 'utf8')) as Record<string, number>;
    // Policy = reference: every log-ratio is 0, so −log σ(0) = ln 2 and the margins are 0 (hand derivation).
    assert.equal(dpo.pairs, 4);
    assert.ok(Math.abs((dpo.eval_loss as number) - Math.LN2) < 1e-6, String(dpo.eval_loss));
    assert.equal(dpo['eval_rewards/margins'], 0);
    // Without a reference the reward is the per-token mean log-prob: compare with `alpha-dpo score`'s own numbers.
    assert.equal(await runEvaluate(['--model', model, '--data', data, '--json', json], out), 0, lines.join(''));
    const plain = JSON.parse(await readFile(json, 'utf8')) as Record<string, number>;
    const scored = join(root, 'scored.jsonl');
    assert.equal(await runScore(['--model', model, '--data', data, '--out', scored], out), 0);
    const rowsScored = (await readFile(scored, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { chosen_logps_avg: number; rejected_logps_avg: number });
    const wins = rowsScored.filter((r) => r.chosen_logps_avg > r.rejected_logps_avg).length / rowsScored.length;
    assert.equal(plain['eval_rewards/accuracies'], wins);
    const meanChosen = rowsScored.reduce((a, r) => a + r.chosen_logps_avg, 0) / rowsScored.length;
    assert.ok(Math.abs((plain['eval_logps/chosen'] as number) - meanChosen) < 1e-5);
    await assert.rejects(runEvaluate(['--model', model, '--data', data, '--loss_type', 'sigmoid', '--beta', '0.1'], out), /pass --ref DIR/);
    await assert.rejects(runEvaluate(['--model', 'HuggingFaceTB/SmolLM-135M', '--data', data], out), /hub name.*does not download/);
  });

  test('a bad config fails before anything is loaded, naming the key', async () => {
    const config = join(root, 'bad.yaml');
    await writeFile(
      config,
      `model_name_or_path: /nonexistent\ndataset: /nonexistent\nloss_type: sigmoid\nbeta: 0.1\nnum_train_epoch: 1\noutput_dir: ${root}/x\n`,
    );
    await assert.rejects(runTrain([config], into([])), /'num_train_epoch'.*Did you mean 'num_train_epochs'/);
  });
});
