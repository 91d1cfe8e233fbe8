// bf16 mixed precision: torch.autocast's scoped state, which operations run in which dtype, bf16
// forward/backward against float32 for each architecture family, and the trainer's bf16 switch
// (float32 master weights, float32 log-probs and loss, losses close to the float32 run).
//
// Tolerances come from bfloat16's 8 significant bits: one rounding changes a value by at most
// u = 2⁻⁹ relative (the unit round-off). Sums of many rounded products keep that order because the
// errors are unbiased; the gradients go back through every layer, each matmul's inputs rounded
// once more, so they get 8u = 2⁻⁶ ≈ 1.6% (measured 0.7–1.6% on these models).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PreferenceBatches } from '../src/data/batch/preference-batches.js';
import { type CausalLM, PRESETS, type PresetName, randomInit, type Tensor, torch } from '../src/index.js';
import { AlphaDpoState } from '../src/losses/alpha-dpo-state.js';
import { lossRequirements, preferenceLoss } from '../src/losses/preference-loss.js';
import { sequenceLogps, tokenLogps } from '../src/losses/sequence-logps.js';
import type { PreferenceLogps } from '../src/losses/types.js';
import { LayerNorm } from '../src/nn/layer-norm.js';
import { ParameterStore } from '../src/nn/parameter-store.js';
import { RandomSource } from '../src/nn/random-source.js';
import { RMSNorm } from '../src/nn/rms-norm.js';
import { batchLogps } from '../src/train/batch-logps.js';
import { resolveTrainConfig, TrainConfigError, trainPreferences } from '../src/train/index.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';

const U = 2 ** -9;

const relativeError = (actual: Tensor, want: Tensor) =>
  torch.tidy(() => actual.to('float32').sub(want.to('float32')).norm().item() / want.to('float32').norm().item());

describe('torch.autocast', () => {
  test('is off by default, on inside the scope, and restored after it returns', () => {
    assert.deepEqual(torch.autocastState('cpu'), { enabled: false, dtype: 'bfloat16' });
    const inside = torch.autocast('cpu', 'bfloat16', () => torch.autocastState('cpu'));
    assert.deepEqual(inside, { enabled: true, dtype: 'bfloat16' });
    assert.equal(torch.autocastState('cpu').enabled, false);
  });

  test('nests: an inner null scope turns it off, and the outer state comes back after it', () => {
    const seen = torch.autocast('cpu', 'bfloat16', () => {
      const inner = torch.autocast('cpu', null, () => torch.autocastState('cpu').enabled);
      return [inner, torch.autocastState('cpu').enabled];
    });
    assert.deepEqual(seen, [false, true]);
    assert.equal(torch.autocastState('cpu').enabled, false);
  });

  test('an exception inside the scope restores the state (also from a nested scope)', () => {
    assert.throws(
      () =>
        torch.autocast('cpu', 'bfloat16', () =>
          torch.autocast('cpu', null, () => {
            throw new RangeError('inner failure');
          }),
        ),
      /inner failure/,
    );
    assert.equal(torch.autocastState('cpu').enabled, false);
    const x = torch.randn([2, 3]);
    assert.equal(x.matmul(torch.randn([3, 2])).dtype, 'float32', 'matmul outside any scope stays float32');
  });

  test('refuses float16 on the CPU and an async function, leaving the state as it was', () => {
    assert.throws(() => torch.autocast('cpu', 'float16', () => 1), /autocast\('cpu'\) runs in bfloat16/);
    assert.throws(() => torch.autocast('cpu', 'bfloat16', async () => 1), /synchronous function/);
    assert.equal(torch.autocastState('cpu').enabled, false);
  });
});

describe('which operations run in which dtype under bf16 autocast', () => {
  test("matmul, linear and bmm run in bfloat16; elementwise ops keep their inputs' dtype; mixed adds promote to float32", () => {
    const x = torch.randn([4, 8]);
    const w = torch.randn([8, 8], { requiresGrad: true });
    const got = torch.autocast('cpu', 'bfloat16', () => {
      const y = x.linear(w);
      return {
        linear: y.dtype,
        matmul: x.matmul(w).dtype,
        bmm: x.unsqueeze(0).bmm(w.unsqueeze(0)).dtype,
        softmaxOfBf16: y.softmax(-1).dtype,
        addFloat32: x.add(y).dtype,
        layerNormOfFloat32: x.layerNorm([8]).dtype,
      };
    });
    // libtorch's CPU autocast lists (1.13 and 2.x): mm/matmul/linear/bmm in the lower-precision list;
    // softmax and layer_norm in neither list, so they follow their input; add promotes.
    assert.deepEqual(got, {
      linear: 'bfloat16',
      matmul: 'bfloat16',
      bmm: 'bfloat16',
      softmaxOfBf16: 'bfloat16',
      addFloat32: 'float32',
      layerNormOfFloat32: 'float32',
    });
  });

  test('the norms keep their float32 statistics and output on the float32 residual stream', () => {
    const store = new ParameterStore(new RandomSource(), { dtype: 'float32' });
    const ln = new LayerNorm(store.root.sub('ln'), 8, 1e-5);
    const rms = new RMSNorm(store.root.sub('rms'), 8, 1e-6);
    const x = torch.randn([2, 8]);
    const out = torch.autocast('cpu', 'bfloat16', () => [ln.forward(x).dtype, rms.forward(x).dtype]);
    assert.deepEqual(out, ['float32', 'float32']);
    store.dispose();
  });

  test('the vocabulary log-softmax of bfloat16 logits runs in float32', () => {
    torch.manualSeed(3);
    const logits = torch.randn([2, 5, 11]).mul(4);
    const labels = torch
      .tensor([
        [-100, -100, 1, 2, 3],
        [-100, 4, 5, 6, 7],
      ])
      .to('int64');
    const half = logits.to('bfloat16');
    const { logps } = torch.autocast('cpu', 'bfloat16', () => tokenLogps(half, labels));
    assert.equal(logps.dtype, 'float32');
    // Reference: the float32 log-softmax of the same (already rounded) logits, so only the softmax's own precision is compared.
    const want = tokenLogps(half.to('float32'), labels).logps;
    assert.ok(logps.sub(want).abs().max().item() < 1e-6, 'computed from float32 values, not bfloat16 ones');
  });
});

const FAMILIES: PresetName[] = ['gpt2-tiny', 'llama-tiny', 'gemma2-tiny'];

/** Sequence log-prob sums and every parameter's gradient of their sum, in float32 or under bf16 autocast. */
function forwardBackward(model: CausalLM, ids: Tensor, labels: Tensor, bf16: boolean): { logps: Tensor; grads: Tensor[] } {
  for (const p of model.parameters()) p.grad = null;
  const logps = torch.tidy(() => {
    const score = () => sequenceLogps(model.forward(ids), labels, { average: false });
    const s = bf16 ? torch.autocast('cpu', 'bfloat16', score) : score();
    s.sum().backward();
    return torch.keep(s.detach());
  });
  return { logps, grads: model.parameters().map((p) => p.grad as Tensor) };
}

describe('bf16 forward and backward against float32, per architecture family', () => {
  for (const preset of FAMILIES) {
    test(`${preset}: log-probs within u = 2⁻⁹ relative, gradients within 8u, parameters and gradients float32`, () => {
      torch.manualSeed(1);
      const model = randomInit(PRESETS[preset]);
      torch.manualSeed(2);
      const ids = torch.randint(3, 200, [4, 24], { dtype: 'int64' });
      const labels = torch.where(torch.arange(24).lt(8).unsqueeze(0), -100, ids);
      const full = forwardBackward(model, ids, labels, false);
      const mixed = forwardBackward(model, ids, labels, true);
      assert.equal(mixed.logps.dtype, 'float32');
      const lpError = relativeError(mixed.logps, full.logps);
      assert.ok(lpError < U, `log-prob relative error ${lpError}`);
      assert.ok(lpError > 0, 'bf16 really changed the computation (autocast was on)');
      for (const [i, [name, p]] of model.namedParameters().entries()) {
        assert.equal(p.dtype, 'float32', `${name} stays float32 (master weight)`);
        assert.equal(mixed.grads[i]?.dtype, 'float32', `${name}.grad is float32`);
        const e = relativeError(mixed.grads[i] as Tensor, full.grads[i] as Tensor);
        assert.ok(e < 8 * U, `${name}: gradient relative error ${e}`);
      }
      model.dispose();
    });
  }
});

describe('the trainer with bf16: true', () => {
  const base = {
    loss_type: 'alpha-dpo',
    beta: 2.5,
    gamma_beta_ratio: 0.3,
    alpha: 0.05,
    learning_rate: 1e-3,
    per_device_train_batch_size: 2,
    max_steps: 3,
    logging_steps: 1,
    save_strategy: 'no',
    seed: 7,
  };

  test('step losses within 1% of the float32 run; weights stay float32; fp16 is refused before any model loads', async () => {
    const losses: number[][] = [];
    for (const bf16 of [false, true]) {
      const policy = tinyModel(1);
      const reference = tinyModel(1);
      const summary = await trainPreferences(
        resolveTrainConfig({ ...base, bf16 }),
        { policy, reference, train: makePairs(6, 1) },
        { quiet: true },
      );
      losses.push(summary.stepLosses);
      assert.ok(
        policy.parameters().every((p) => p.dtype === 'float32'),
        'the policy keeps float32 weights',
      );
      policy.dispose();
      reference.dispose();
    }
    const [full, mixed] = losses as [number[], number[]];
    assert.equal(mixed.length, 3);
    for (let s = 0; s < 3; s++) {
      const rel = Math.abs((mixed[s] as number) - (full[s] as number)) / Math.abs(full[s] as number);
      assert.ok(rel < 0.01, `step ${s + 1}: bf16 ${mixed[s]} vs float32 ${full[s]}`);
    }
    assert.notDeepEqual(mixed, full, 'the bf16 run really ran in bf16');
    assert.throws(
      () => resolveTrainConfig({ ...base, fp16: true }),
      (e: unknown) => e instanceof TrainConfigError && /fp16.*needs a CUDA device.*use bf16: true/s.test(String(e)),
    );
  });

  test("the log-probs the loss takes and the loss itself are float32; α-DPO's statistics are JS numbers (float64)", () => {
    const policy = tinyModel(1);
    const reference = tinyModel(1);
    const config = resolveTrainConfig({ ...base, bf16: true });
    const batch = new PreferenceBatches(makePairs(4, 1), { batchSize: 2, seed: 1, config: config.data }).next();
    const state = new AlphaDpoState();
    const need = lossRequirements(config.loss_type, config.loss);
    torch.tidy(() => {
      const logps = batchLogps(policy, { model: reference }, batch, { ln: config.ln, need, bf16: true }) as PreferenceLogps;
      for (const key of ['policyChosen', 'policyRejected', 'referenceChosen', 'referenceRejected'] as const) {
        assert.equal(logps[key]?.dtype, 'float32', key);
      }
      const out = preferenceLoss(config.loss_type, logps, config.loss, state, { training: true });
      assert.equal(out.losses.dtype, 'float32');
    });
    assert.equal(torch.autocastState('cpu').enabled, false, 'the loss ran outside autocast');
    const stats = state.toJSON();
    assert.equal(stats.steps, 1, 'the statistics were updated');
    assert.ok(Number.isFinite(stats.mean) && typeof stats.std === 'number');
    batch.dispose();
    policy.dispose();
    reference.dispose();
  });

  test('ref_model_dtype needs a loss with a reference model', () => {
    assert.throws(
      () => resolveTrainConfig({ loss_type: 'simpo', beta: 2, ref_model_dtype: 'bfloat16' }),
      /ref_model_dtype.*uses no reference model/s,
    );
    assert.equal(resolveTrainConfig({ ...base, ref_model_dtype: 'bfloat16' }).ref_model_dtype, 'bfloat16');
  });
});
