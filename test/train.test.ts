// The trainer: accumulated gradients equal the large batch's, a resumed run repeats the
// uninterrupted run's losses exactly, checkpoints are complete or absent, precomputed reference
// log-probs equal live ones, and the config is validated before any work.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Tensor, torch } from '../src/index.js';
import { readTrainConfigFile, resolveTrainConfig, type TrainConfig, trainPreferences } from '../src/train/index.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const tempDir = tempDirsRemovedAfterAll('alpha-dpo-train-');

const model = tinyModel;

function config(overrides: Record<string, unknown>): TrainConfig {
  return resolveTrainConfig({
    loss_type: 'sigmoid',
    beta: 0.1,
    learning_rate: 1e-3,
    lr_scheduler_type: 'cosine',
    warmup_ratio: 0.2,
    per_device_train_batch_size: 2,
    logging_steps: 1,
    save_strategy: 'no',
    seed: 7,
    ...overrides,
  });
}

describe('trainer', () => {
  test('gradient accumulation: 2 micro-batches of 2 pairs give the gradient of one batch of 4', async () => {
    const pairs = makePairs(8, 1);
    const grads: number[][][] = [];
    for (const [bs, accumulation] of [
      [4, 1],
      [2, 2],
    ] as const) {
      const policy = model(1);
      const reference = model(2);
      let captured: number[][] = [];
      await trainPreferences(
        config({ per_device_train_batch_size: bs, gradient_accumulation_steps: accumulation, max_steps: 1, shuffle: false }),
        { policy, reference, train: pairs },
        {
          quiet: true,
          onGradients: (_step, params: readonly Tensor[]) => {
            // Each .grad is a new handle: dispose it, so no garbage is left for the collector to free
            // in the middle of a later test's live-tensor count.
            captured = params.map((p) => {
              const g = p.grad as Tensor;
              const values = g.toNumbers();
              g.dispose();
              return values;
            });
          },
        },
      );
      grads.push(captured);
      policy.dispose();
      reference.dispose();
    }
    const [big, accumulated] = grads as [number[][], number[][]];
    let maxRel = 0;
    big.forEach((g, i) => {
      const scale = Math.max(...g.map(Math.abs), 1e-12);
      g.forEach((v, j) => {
        maxRel = Math.max(maxRel, Math.abs(v - (accumulated[i]?.[j] as number)) / scale);
      });
    });
    // float32 sums in a different order: agreement to ~1e-6 of each parameter's largest gradient.
    assert.ok(maxRel < 1e-5, `largest difference ${maxRel} of the gradient's scale`);
    assert.ok(
      big.some((g) => g.some((v) => v !== 0)),
      'the gradients are not all zero',
    );
  });

  test('resume: 6 steps straight equal 3 steps, stop, resume, 3 steps (α-DPO, accumulation 2, shuffled)', async () => {
    const pairs = makePairs(12, 3);
    const settings = {
      loss_type: 'alpha-dpo',
      beta: 2.5,
      gamma_beta_ratio: 0.3,
      alpha: 0.2,
      gradient_accumulation_steps: 2,
      max_steps: 6,
      save_strategy: 'steps',
      save_steps: 100,
    };
    const straightDir = await tempDir();
    const live = torch.liveTensorCount();
    const policy = model(5);
    const reference = model(6);
    const afterInit = torch.liveTensorCount();
    const straight = await trainPreferences(
      config({ ...settings, output_dir: straightDir }),
      { policy, reference, train: pairs },
      { quiet: true },
    );
    assert.equal(straight.stepLosses.length, 6);
    assert.equal(torch.liveTensorCount(), afterInit, 'a training run leaves no tensor behind but the models');
    policy.dispose();
    reference.dispose();
    assert.equal(torch.liveTensorCount(), live);

    const resumedDir = await tempDir();
    const stop = new AbortController();
    const first = await trainPreferences(
      config({ ...settings, output_dir: resumedDir }),
      { policy: model(5), reference: model(6), train: pairs },
      { quiet: true, signal: stop.signal, onStep: (step) => step === 3 && stop.abort() },
    );
    assert.equal(first.interrupted, true);
    assert.equal(first.steps, 3);
    assert.deepEqual(
      await readdir(resumedDir).then((names) => names.filter((n) => n.startsWith('checkpoint') || n.startsWith('.tmp')).sort()),
      ['checkpoint-3'],
    );
    const second = await trainPreferences(
      config({ ...settings, output_dir: resumedDir, resume_from_checkpoint: 'latest' }),
      { policy: model(99) /* different init: the checkpoint's weights must replace it */, reference: model(6), train: pairs },
      { quiet: true },
    );
    assert.equal(second.steps, 6);
    assert.deepEqual(second.stepLosses, straight.stepLosses);
  });

  test('save_total_limit keeps the newest checkpoints; every checkpoint is complete', async () => {
    const dir = await tempDir();
    await trainPreferences(
      config({ max_steps: 4, save_strategy: 'steps', save_steps: 1, save_total_limit: 2, output_dir: dir }),
      { policy: model(1), reference: model(2), train: makePairs(8, 2) },
      { quiet: true },
    );
    const names = (await readdir(dir)).sort();
    assert.deepEqual(
      names.filter((n) => n.startsWith('checkpoint') || n.startsWith('.tmp')),
      ['checkpoint-3', 'checkpoint-4'],
    );
    for (const c of ['checkpoint-3', 'checkpoint-4']) {
      const files = await readdir(join(dir, c));
      for (const f of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json'])
        assert.ok(files.includes(f), `${c}/${f}`);
    }
    assert.ok(names.includes('model.safetensors') && names.includes('metrics.jsonl'), 'final model and metrics');
  });

  test('precomputed reference log-probs are cached and equal the live reference', async () => {
    process.env.ALPHA_DPO_CACHE = await tempDir();
    const pairs = makePairs(6, 4);
    const run = async (precompute: boolean) =>
      trainPreferences(
        config({ max_steps: 3, precompute_ref_log_probs: precompute }),
        { policy: model(1), reference: model(2), train: pairs },
        { quiet: true, log: () => {} },
      );
    const live = await run(false);
    const lines: string[] = [];
    const cachedRun = async () =>
      trainPreferences(
        config({ max_steps: 3, precompute_ref_log_probs: true }),
        { policy: model(1), reference: model(2), train: pairs },
        { quiet: true, log: (l) => lines.push(l) },
      );
    const first = await cachedRun();
    const second = await cachedRun();
    assert.match(lines.join('\n'), /computed and cached[\s\S]*read from the cache/);
    // Sums computed in a batch of different padding differ by float32 rounding only.
    live.stepLosses.forEach((l, i) => {
      assert.ok(Math.abs(l - (first.stepLosses[i] as number)) < 1e-5, `step ${i + 1}: live ${l}, precomputed ${first.stepLosses[i]}`);
    });
    assert.deepEqual(first.stepLosses, second.stepLosses);
    // Evaluation pairs are not in the precomputed table: their reference log-probs come from the
    // reference model, so evaluating gives the same numbers as with a live reference.
    const withEval = async (precompute: boolean) =>
      trainPreferences(
        config({ max_steps: 2, eval_steps: 2, precompute_ref_log_probs: precompute }),
        { policy: model(1), reference: model(2), train: pairs, eval: makePairs(4, 9) },
        { quiet: true, log: () => {} },
      );
    const [liveEval, cachedEval] = [(await withEval(false)).evalMetrics, (await withEval(true)).evalMetrics];
    assert.ok(liveEval !== null && cachedEval !== null);
    assert.ok(
      Math.abs((liveEval.eval_loss as number) - (cachedEval.eval_loss as number)) < 1e-5,
      `${liveEval.eval_loss} vs ${cachedEval.eval_loss}`,
    );
    delete process.env.ALPHA_DPO_CACHE;
  });
});

describe('train config', () => {
  test('unknown keys name the nearest valid key; types and ranges are checked before any work', () => {
    assert.throws(
      () => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, learning_rat: 1e-6 }),
      /'learning_rat'.*Did you mean 'learning_rate'/,
    );
    assert.throws(() => resolveTrainConfig({ loss_type: 'alpha_dpo', beta: 1 }), /Did you mean 'alpha-dpo'/);
    assert.throws(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, warmup_ratio: 2 }), /warmup_ratio.*out of range/);
    assert.throws(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, per_device_train_batch_size: 1.5 }), /whole number/);
    assert.throws(() => resolveTrainConfig({ loss_type: 'simpo', beta: 2, ref_model_name_or_path: 'x' }), /uses no reference model/);
    assert.throws(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, max_lenght: 10 }), /Did you mean 'max_length'/);
  });

  test("the authors' α-DPO YAML (paths aside) loads, with YAML 1.2 numbers", async () => {
    // The keys and values of the α-DPO repository's training_configs/llama-3-8b-instruct-alpha-dpo.yaml.
    const yaml = `model_name_or_path: models/llama
torch_dtype: null
attn_implementation: flash_attention_2
dataset_mixer:
  data/llama3-ultrafeedback: 1.0
dataset_splits:
- train
- test
preprocessing_num_workers: 12
bf16: true
beta: 2.5
gamma_beta_ratio: 0.6
alpha: 5e-2
ln: true
trainer_type: dpo
loss_type: alpha-dpo
do_eval: true
evaluation_strategy: steps
eval_steps: 400
gradient_accumulation_steps: 16
gradient_checkpointing: true
gradient_checkpointing_kwargs:
  use_reentrant: False
hub_model_id: alpha-dpo-exps
learning_rate: 1.0e-6
log_level: info
logging_steps: 5
lr_scheduler_type: cosine
max_length: 2048
max_prompt_length: 1800
num_train_epochs: 1
optim: adamw_torch
output_dir: outputs/llama-3-8b-instruct-alpha-dpo
run_name: llama-3-8b-instruct-alpha-dpo
per_device_train_batch_size: 2
per_device_eval_batch_size: 4
push_to_hub: false
save_strategy: "steps"
save_steps: 1000000
report_to:
- wandb
save_total_limit: 20
seed: 42
warmup_ratio: 0.1
`;
    const dir = await tempDir();
    await writeFile(join(dir, 'c.yaml'), yaml);
    const c = resolveTrainConfig(await readTrainConfigFile(join(dir, 'c.yaml')));
    assert.equal(c.loss.alpha, 0.05);
    assert.equal(c.loss_type, 'alpha-dpo');
    assert.equal(c.ln, true);
    assert.equal(c.eval_strategy, 'steps');
    assert.equal(c.data.max_prompt_length, 1800);
    assert.deepEqual(c.dataset_mixer, { 'data/llama3-ultrafeedback': 1 });
    assert.equal(c.bf16, true);
    assert.equal(c.gradient_checkpointing, true);
    assert.equal(c.attn_implementation, 'flash_attention_2'); // selects chunked attention
    assert.deepEqual(c.ignored.map((i) => i.key).sort(), [
      'gradient_checkpointing_kwargs',
      'hub_model_id',
      'log_level',
      'preprocessing_num_workers',
      'push_to_hub',
      'report_to',
    ]);
  });

  test('every config in examples/ is valid', async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['alpha-dpo-lora.yaml', 'alpha-dpo.yaml', 'dpo.yaml', 'kto.yaml', 'simpo.yaml']);
    const loss = new Map<string, unknown>();
    for (const f of files) loss.set(f, resolveTrainConfig(await readTrainConfigFile(join(dir, f))).loss_type);
    assert.deepEqual(Object.fromEntries(loss), {
      'alpha-dpo-lora.yaml': 'alpha-dpo',
      'alpha-dpo.yaml': 'alpha-dpo',
      'dpo.yaml': 'sigmoid',
      'kto.yaml': 'kto',
      'simpo.yaml': 'simpo',
    });
  });
});
