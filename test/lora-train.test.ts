// Training a LoRA adapter (use_peft): only the adapter trains and holds optimiser state, the
// reference is the policy with its adapter off (equal to a separate copy of the base), a bf16
// base trains float32 adapters, precomputed reference log-probs match the live ones, checkpoints
// hold the adapter and resume exactly, and the output folder is a PEFT adapter folder.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AutoModelForCausalLM,
  type CausalLM,
  LoraAdapter,
  type LoraSettings,
  PRESETS,
  randomInit,
  type Tensor,
  torch,
} from '../src/index.js';
import { resolveTrainConfig, type TrainConfig, trainPreferences } from '../src/train/index.js';
import { makePairs } from './helpers/tiny-training.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const tempDir = tempDirsRemovedAfterAll('alpha-dpo-lora-train-');

const LORA: LoraSettings = { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: 'all-linear', modules_to_save: null, use_rslora: false };

/** llama-tiny from `seed` (the base), with a fresh adapter drawn after torch.manualSeed(adapterSeed). */
function loraModel(seed: number, adapterSeed: number, options: { dtype?: 'bfloat16'; lora?: Partial<LoraSettings> } = {}): CausalLM {
  torch.manualSeed(seed);
  const m = randomInit(PRESETS['llama-tiny'], options.dtype ? { dtype: options.dtype } : {});
  torch.manualSeed(adapterSeed);
  LoraAdapter.attach(m, { ...LORA, ...options.lora });
  return m;
}

function baseModel(seed: number): CausalLM {
  torch.manualSeed(seed);
  return randomInit(PRESETS['llama-tiny']);
}

function config(overrides: Record<string, unknown>): TrainConfig {
  return resolveTrainConfig({
    loss_type: 'sigmoid',
    beta: 0.1,
    learning_rate: 1e-2,
    per_device_train_batch_size: 2,
    logging_steps: 1,
    save_strategy: 'no',
    seed: 7,
    ...overrides,
  });
}

const snapshot = (m: CausalLM) => m.namedParameters().map(([n, t]) => [n, t.toNumbers()] as const);

describe('LoRA training', () => {
  test('only the adapter trains: frozen base unchanged, no base gradients, optimiser state for the adapter alone; step 1 loss is ln 2', async () => {
    const live = torch.liveTensorCount();
    const policy = loraModel(1, 2);
    const before = snapshot(policy);
    const adapterBefore = (policy.adapter as LoraAdapter).namedParameters().map(([, t]) => t.toNumbers());
    let gradientCount = -1;
    let baseGrads = -1;
    const summary = await trainPreferences(
      config({ max_steps: 3 }),
      { policy, reference: null, train: makePairs(8, 1) },
      {
        quiet: true,
        onGradients: (_step, params: readonly Tensor[]) => {
          gradientCount = params.length;
          // Each .grad read is a new handle: dispose it so the live-tensor count below stays exact.
          baseGrads = policy.namedParameters().filter(([, t]) => {
            const g = t.grad;
            g?.dispose();
            return g !== null;
          }).length;
        },
      },
    );
    const adapter = policy.adapter as LoraAdapter;
    // 2 layers × 7 linear layers × (A, B).
    assert.equal(gradientCount, 28);
    assert.equal(baseGrads, 0, 'backward computes no gradient for a frozen base weight');
    assert.deepEqual(snapshot(policy), before, 'the base weights are bit for bit unchanged');
    assert.ok(
      adapter.namedParameters().some(([, t], i) => t.toNumbers().some((v, j) => v !== adapterBefore[i]?.[j])),
      'the adapter moved',
    );
    // Step 1: B = 0, so the policy is the base = the reference; every margin is 0 and the DPO loss is −ln σ(0) = ln 2.
    assert.ok(Math.abs((summary.stepLosses[0] as number) - Math.LN2) < 1e-6, `step 1 loss ${summary.stepLosses[0]}`);
    assert.ok((summary.stepLosses[2] as number) < Math.LN2, `the loss falls: ${summary.stepLosses}`);
    policy.dispose();
    assert.equal(torch.liveTensorCount(), live, 'the model, its adapter and the run leave no tensor behind');
  });

  test('the adapter-off reference equals a separate base-model reference: identical losses (α-DPO, 4 steps)', async () => {
    const settings = config({ loss_type: 'alpha-dpo', beta: 2.5, gamma_beta_ratio: 0.3, alpha: 0.2, max_steps: 4 });
    const pairs = makePairs(8, 4);
    const shared = loraModel(3, 4);
    const one = await trainPreferences(settings, { policy: shared, reference: null, train: pairs }, { quiet: true });
    const separatePolicy = loraModel(3, 4);
    const reference = baseModel(3);
    const two = await trainPreferences(settings, { policy: separatePolicy, reference, train: pairs }, { quiet: true });
    assert.deepEqual(one.stepLosses, two.stepLosses);
    assert.notEqual(one.stepLosses[3], one.stepLosses[0], 'the policy moved away from the reference');
    for (const m of [shared, separatePolicy, reference]) m.dispose();
  });

  test('a bfloat16 base trains float32 adapters; modules_to_save trains and the reference keeps its base value', async () => {
    const policy = loraModel(1, 2, { dtype: 'bfloat16', lora: { target_modules: ['q_proj', 'v_proj'], modules_to_save: ['norm'] } });
    const adapter = policy.adapter as LoraAdapter;
    assert.ok(adapter.namedParameters().every(([n, t]) => t.dtype === (n === 'model.norm.weight' ? 'bfloat16' : 'float32')));
    const norm = (policy.store.get('model.norm.weight') as Tensor).toNumbers();
    const summary = await trainPreferences(config({ max_steps: 3 }), { policy, reference: null, train: makePairs(8, 1) }, { quiet: true });
    assert.ok(Math.abs((summary.stepLosses[0] as number) - Math.LN2) < 1e-6, `step 1: ${summary.stepLosses[0]}`);
    assert.ok(summary.stepLosses.every(Number.isFinite));
    assert.notDeepEqual((policy.store.get('model.norm.weight') as Tensor).toNumbers(), norm, 'modules_to_save trained');
    adapter.withBaseModel(() => assert.deepEqual((policy.store.get('model.norm.weight') as Tensor).toNumbers(), norm));
    policy.dispose();
  });

  test('precomputed reference log-probs (adapter off) equal the live adapter-off reference', async () => {
    process.env.ALPHA_DPO_CACHE = await tempDir();
    const pairs = makePairs(8, 5);
    const losses = [];
    for (const precompute of [false, true]) {
      const policy = loraModel(6, 7);
      const s = await trainPreferences(
        config({ max_steps: 3, precompute_ref_log_probs: precompute }),
        { policy, reference: null, train: pairs },
        { quiet: true, log: () => {} },
      );
      losses.push(s.stepLosses);
      assert.equal(policy.adapter?.enabled, true, 'the adapter is switched back on after precomputing');
      policy.dispose();
    }
    const [live, cached] = losses as [number[], number[]];
    // float64 sums in the table against float32 live sums: equal to ~1e-6.
    for (const [i, l] of live.entries()) assert.ok(Math.abs(l - (cached[i] as number)) < 1e-5, `step ${i + 1}: ${l} vs ${cached[i]}`);
    delete process.env.ALPHA_DPO_CACHE;
  });

  test('resume: 6 steps straight equal 3, stop, resume, 3; checkpoints and the output are PEFT adapter folders', async () => {
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
      weight_decay: 0.01,
    };
    const lora = { lora_dropout: 0.1 }; // dropout in the branch: the RNG state must be restored too
    const straightDir = await tempDir();
    const straightPolicy = loraModel(5, 6, { lora });
    const straight = await trainPreferences(
      config({ ...settings, disable_dropout: false, output_dir: straightDir }),
      { policy: straightPolicy, reference: null, train: pairs },
      { quiet: true },
    );
    const resumedDir = await tempDir();
    const stop = new AbortController();
    const first = await trainPreferences(
      config({ ...settings, disable_dropout: false, output_dir: resumedDir }),
      { policy: loraModel(5, 6, { lora }), reference: null, train: pairs },
      { quiet: true, signal: stop.signal, onStep: (step) => step === 3 && stop.abort() },
    );
    assert.equal(first.steps, 3);
    const checkpoint = join(resumedDir, 'checkpoint-3');
    const files = await readdir(checkpoint);
    assert.ok(files.includes('adapter_model.safetensors') && files.includes('adapter_config.json'), files.join());
    assert.ok(!files.includes('model.safetensors'), 'a LoRA checkpoint does not copy the base weights');
    const second = await trainPreferences(
      config({ ...settings, disable_dropout: false, output_dir: resumedDir, resume_from_checkpoint: 'latest' }),
      { policy: loraModel(5, 99, { lora }) /* another adapter init: the checkpoint's must replace it */, reference: null, train: pairs },
      { quiet: true },
    );
    assert.deepEqual(second.stepLosses, straight.stepLosses);

    // The output folder is a PEFT adapter folder: base + adapter loads to the trained policy's logits.
    const baseDir = await tempDir();
    const base = baseModel(5);
    await base.savePretrained(baseDir);
    base.dispose();
    const loaded = await AutoModelForCausalLM.fromPretrained(baseDir, { adapter: straightDir });
    const ids = torch.tensor([[3, 9, 27, 81]], { dtype: 'int64' });
    straightPolicy.eval();
    const want = torch.noGrad(() => straightPolicy.forward(ids).toArray());
    assert.deepEqual(
      torch.noGrad(() => loaded.forward(ids).toArray()),
      want,
    );
    loaded.dispose();
    straightPolicy.dispose();
  });
});
