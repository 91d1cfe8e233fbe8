// Qwen3, Phi-3, OLMo 2, Gemma 2 and Gemma 3 (text) against checkpoints and logits written by transformers itself, 4.57 and
// 5.18 (test/fixtures/hf-archs/, by scripts/fixtures/gen_hf_archs.py: random norm weights and
// biases, so a misplaced or mis-sized norm shows in the logits). Also: save/load round trips are
// bit-exact and write transformers' keys; the KV cache gives the full pass's logits; unsupported
// settings are refused naming the key; and folders saved here load in transformers with equal
// logits (skipped with the reason when no Python with transformers is found).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AutoModelForCausalLM,
  type CausalLM,
  loadSafetensors,
  ModelConfigError,
  PRESETS,
  type PresetName,
  randomInit,
  type Tensor,
  type TokenizedPair,
  torch,
} from '../src/index.js';
import { floatKeysOf } from '../src/models/config-schema.js';
import { GEMMA2_CONFIG_SCHEMA } from '../src/models/gemma2.js';
import { configJsonText } from '../src/models/save-pretrained.js';
import { resolveTrainConfig, trainPreferences } from '../src/train/index.js';
import { relativeError, transformersPythons } from './helpers/transformers-interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, 'fixtures', 'hf-archs');
const VERSIONS = ['transformers-4', 'transformers-5'] as const;
const MODELS = {
  qwen3: 'Qwen3ForCausalLM',
  phi3: 'Phi3ForCausalLM',
  'phi3-longrope': 'Phi3ForCausalLM',
  'phi3-partial-longrope': 'Phi3ForCausalLM',
  olmo2: 'Olmo2ForCausalLM',
  gemma2: 'Gemma2ForCausalLM',
  gemma3: 'Gemma3ForCausalLM',
} as const;
const TINY: PresetName[] = ['qwen3-tiny', 'phi3-tiny', 'olmo2-tiny', 'gemma2-tiny', 'gemma3-tiny'];
// Both sides compute in float32 from the same weights; rounding differences stay near 1e-7.
const TOLERANCE = 1e-5;

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-archs-'));
  scratch.push(dir);
  return dir;
}

/** max |a − e| / max |e|, in float64. */

function randomInitConfig(name: PresetName): Record<string, unknown> {
  const model = randomInit(PRESETS[name]);
  const config = model.configJson();
  model.dispose();
  return config;
}

const ids2d = (rows: number[][]) => torch.tensor(rows, { dtype: 'int64' });

describe('checkpoints saved by transformers load with transformers’ logits (rel. error ≤ 1e-5)', () => {
  for (const version of VERSIONS) {
    for (const [name, architecture] of Object.entries(MODELS)) {
      test(`${version}: ${name}`, async (t) => {
        const model = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, version, name));
        const { tensors } = await loadSafetensors(join(FIXTURES, version, `${name}.expected.safetensors`));
        const ids = tensors.get('input_ids') as Tensor;
        const want = tensors.get('logits') as Tensor;
        assert.equal(model.architecture, architecture);
        const err = torch.noGrad(() => relativeError(model.forward(ids), want));
        t.diagnostic(`relative error ${err}`);
        assert.ok(err <= TOLERANCE, `relative error ${err}`);
        // The logits are not trivially small: a wrong model would be far off.
        assert.ok(want.abs().max().item() > 1, 'fixture logits reach beyond 1');
        const short = tensors.get('input_ids_short');
        if (short !== undefined) {
          // LongRoPE within the original context: the short factors.
          const errShort = torch.noGrad(() => relativeError(model.forward(short), tensors.get('logits_short') as Tensor));
          t.diagnostic(`short-context relative error ${errShort}`);
          assert.ok(errShort <= TOLERANCE, `short context: relative error ${errShort}`);
          // The factor switch shows: the same 4 tokens get other logits inside a longer pass.
          const switched = relativeError(want.narrow(1, 0, 4), tensors.get('logits_short') as Tensor);
          assert.ok(switched > 1e-2, `long and short factors give nearly equal logits (${switched})`);
        }
        model.dispose();
        for (const t of tensors.values()) t.dispose();
      });
    }
  }

  test('in bfloat16 every fixture runs and stays near transformers’ float32 logits (rel. error ≤ 5e-2)', async () => {
    // bfloat16 keeps 8 significant bits (relative rounding 2^−9 ≈ 2e-3 per operation); weights
    // rounded to bfloat16 and two layers of it move the logits by 1.1e-2 (OLMo 2) to 2.8e-2 (Gemma 2,
    // capped at 1.0) of their range, measured. This checks that every bfloat16 path runs and
    // stays in that regime (a wrong weight, norm or cap is off by the order of the logits).
    for (const name of Object.keys(MODELS)) {
      const model = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'transformers-5', name), { dtype: 'bfloat16' });
      const { tensors } = await loadSafetensors(join(FIXTURES, 'transformers-5', `${name}.expected.safetensors`));
      const logits = torch.noGrad(() => model.forward(tensors.get('input_ids') as Tensor));
      assert.equal(logits.dtype, 'bfloat16');
      const err = relativeError(logits, tensors.get('logits') as Tensor);
      assert.ok(err <= 5e-2, `${name}: relative error ${err}`);
      model.dispose();
      for (const t of tensors.values()) t.dispose();
    }
  });

  test('the fixtures exercise what differs: q/k norms, fused projections, post-norms, non-unit norm weights', async () => {
    const keys = async (name: string) => {
      const { tensors } = await loadSafetensors(join(FIXTURES, 'transformers-5', name, 'model.safetensors'));
      const out = new Map([...tensors].map(([k, t]) => [k, t.shape]));
      const qNorm = tensors.get('model.layers.0.self_attn.q_norm.weight');
      const mean = qNorm === undefined ? null : qNorm.mean().item();
      for (const t of tensors.values()) t.dispose();
      return { shapes: out, qNormMean: mean };
    };
    const qwen3 = await keys('qwen3');
    assert.deepEqual(qwen3.shapes.get('model.layers.0.self_attn.q_norm.weight'), [16]); // head_dim 16, per head
    assert.deepEqual(qwen3.shapes.get('model.layers.0.self_attn.q_proj.weight'), [64, 32]); // 4 heads × 16
    assert.ok(qwen3.qNormMean !== null && Math.abs(qwen3.qNormMean - 1) > 1e-3, 'random, not the ones of the initialisation');
    const phi3 = await keys('phi3');
    assert.deepEqual(phi3.shapes.get('model.layers.0.self_attn.qkv_proj.weight'), [32 + 2 * 16, 32]); // H·D + 2·Hkv·D
    assert.deepEqual(phi3.shapes.get('model.layers.0.mlp.gate_up_proj.weight'), [96, 32]); // 2 × 48
    const olmo2 = await keys('olmo2');
    assert.deepEqual(olmo2.shapes.get('model.layers.0.self_attn.k_norm.weight'), [16]); // Hkv·D = 2 × 8
    assert.ok(olmo2.shapes.has('model.layers.0.post_feedforward_layernorm.weight'));
    assert.ok(!olmo2.shapes.has('model.layers.0.input_layernorm.weight'));
    const config = JSON.parse(await readFile(join(FIXTURES, 'transformers-5', 'olmo2', 'config.json'), 'utf8'));
    assert.equal(config.dtype, 'bfloat16');
    const gemma3 = await keys('gemma3');
    assert.deepEqual(gemma3.shapes.get('model.layers.0.self_attn.q_norm.weight'), [16]);
    assert.ok(gemma3.shapes.has('model.layers.1.pre_feedforward_layernorm.weight'));
    assert.ok(!gemma3.shapes.has('lm_head.weight'), 'tied embeddings');
    // Gemma's norms are (1 + w): random around 0, not the 0 of the initialisation.
    assert.ok(gemma3.qNormMean !== null && Math.abs(gemma3.qNormMean) > 1e-3);
    const gemma3v4 = JSON.parse(await readFile(join(FIXTURES, 'transformers-4', 'gemma3', 'config.json'), 'utf8'));
    assert.equal(gemma3v4.rope_local_base_freq, 10000);
    assert.deepEqual(gemma3v4.rope_scaling, { rope_type: 'linear', factor: 2 });
    const qwen3Config = JSON.parse(await readFile(join(FIXTURES, 'transformers-4', 'qwen3', 'config.json'), 'utf8'));
    assert.deepEqual(qwen3Config.layer_types, ['full_attention', 'sliding_attention']);
    assert.equal(qwen3Config.rope_theta, 1000000);
  });
});

describe('save, load, cache', () => {
  test('savePretrained → fromPretrained is bit-exact, with transformers’ keys (presets and fixtures)', async () => {
    const models: [string, CausalLM][] = [];
    torch.manualSeed(5);
    for (const name of TINY) models.push([name, randomInit(PRESETS[name])]);
    for (const name of Object.keys(MODELS))
      models.push([`fixture ${name}`, await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'transformers-5', name))]);
    for (const [what, model] of models) {
      const dir = await tempDir();
      await model.savePretrained(dir);
      const again = await AutoModelForCausalLM.fromPretrained(dir);
      assert.equal(again.architecture, model.architecture, what);
      const mine = model.namedParameters();
      const theirs = new Map(again.namedParameters());
      assert.equal(theirs.size, mine.length, what);
      for (const [key, t] of mine) assert.ok((theirs.get(key) as Tensor).equal(t), `${what}: ${key} differs after the round trip`);
      const ids = ids2d([[1, 5, 9, 2, 33, 60]]);
      assert.ok(
        torch.noGrad(() => model.forward(ids).equal(again.forward(ids))),
        `${what}: logits differ`,
      );
      model.dispose();
      again.dispose();
    }
  });

  test('decoding with the KV cache gives the logits of the full sequence', () => {
    for (const name of TINY) {
      torch.manualSeed(11);
      // A 4-token window on Qwen3's second layer, on every Phi-3 layer and on Gemma's first layer.
      const extra = name === 'qwen3-tiny' ? { use_sliding_window: true, sliding_window: 4, max_window_layers: 1 } : {};
      const window = name === 'olmo2-tiny' || name === 'qwen3-tiny' ? {} : { sliding_window: 4 };
      const model = randomInit({ ...PRESETS[name], ...extra, ...window });
      const seq = [5, 9, 200, 31, 7, 7, 150, 3, 44, 18, 90, 2];
      torch.noGrad(() => {
        const full = model.forward(ids2d([seq]));
        const cache = model.newCache();
        model.forward(ids2d([seq.slice(0, 5)]), { cache });
        for (let t = 5; t < seq.length; t++) {
          const step = model.forward(ids2d([[seq[t] as number]]), { cache });
          const err = relativeError(step, full.narrow(1, t, 1));
          assert.ok(err <= TOLERANCE, `${name} position ${t}: ${err}`);
        }
        cache.dispose();
      });
      model.dispose();
    }
  });
});

describe('padding and training', () => {
  test('a right-padded batch gives each row’s own logits on its real positions', () => {
    for (const name of TINY) {
      torch.manualSeed(7);
      const model = randomInit({ ...PRESETS[name], ...(name === 'olmo2-tiny' || name === 'qwen3-tiny' ? {} : { sliding_window: 3 }) });
      const rows = [
        [3, 17, 42, 9, 100, 5, 61, 8],
        [11, 12, 13],
        [90, 4, 4, 4, 27],
      ];
      const width = 8;
      const padded = ids2d(rows.map((r) => [...r, ...new Array(width - r.length).fill(0)]));
      const mask = ids2d(rows.map((r) => [...r.map(() => 1), ...new Array(width - r.length).fill(0)]));
      torch.noGrad(() => {
        const batched = model.forward(padded, { attentionMask: mask });
        rows.forEach((r, i) => {
          const alone = model.forward(ids2d([r]));
          const err = relativeError(batched.select(0, i).narrow(0, 0, r.length).unsqueeze(0), alone);
          assert.ok(err <= TOLERANCE, `${name} row ${i}: relative error ${err}`);
        });
      });
      model.dispose();
    }
  });

  test('DPO trains every new architecture: step 1 loss is ln 2 (policy = reference), and the loss falls', async () => {
    const pairs = [0, 1, 2, 3].map((i) => ({
      chosen: { prompt: Int32Array.from([5 + i, 9, 40]), completion: Int32Array.from([7, 7, 8 + i]) },
      rejected: { prompt: Int32Array.from([5 + i, 9, 40]), completion: Int32Array.from([60, 61 + i]) },
      source: { file: 'generated', line: i + 1 },
      metadata: {},
    })) as TokenizedPair[];
    for (const name of TINY) {
      const build = () => {
        torch.manualSeed(21);
        return randomInit(PRESETS[name]);
      };
      const policy = build();
      const reference = build();
      const config = resolveTrainConfig({
        loss_type: 'sigmoid',
        beta: 0.1,
        learning_rate: 1e-2,
        per_device_train_batch_size: 4,
        max_steps: 6,
        logging_steps: 1,
        save_strategy: 'no',
        seed: 7,
      });
      const summary = await trainPreferences(config, { policy, reference, train: pairs }, { quiet: true });
      const losses = summary.stepLosses;
      assert.equal(losses.length, 6, name);
      // −log σ(β·0) = ln 2 while the policy equals the reference.
      assert.ok(Math.abs((losses[0] as number) - Math.LN2) < 1e-5, `${name}: first loss ${losses[0]}`);
      assert.ok((losses[5] as number) < (losses[0] as number) - 0.01, `${name}: losses ${losses.join(', ')}`);
      policy.dispose();
      reference.dispose();
    }
  });
});

describe('settings that are not implemented are refused, naming them', () => {
  test('Phi-3: LongRoPE with an explicit factor or attention_factor, factor lists of the wrong length, bad partial rotary factors', () => {
    const phi3 = PRESETS['phi3-tiny']; // head_dim 16: 8 rotated pairs
    const longrope = { short_factor: [1, 1, 1, 1, 1, 1, 1, 1], long_factor: [2, 2, 2, 2, 2, 2, 2, 2] };
    for (const key of ['factor', 'attention_factor']) {
      assert.throws(
        () => randomInit({ ...phi3, rope_scaling: { type: 'longrope', ...longrope, [key]: 2 } }),
        (e: unknown) => e instanceof ModelConfigError && e.key === `rope_scaling.${key}`,
      );
    }
    assert.throws(
      () => randomInit({ ...phi3, rope_parameters: { rope_type: 'longrope', rope_theta: 1e4, ...longrope, long_factor: [2, 2] } }),
      (e: unknown) =>
        e instanceof ModelConfigError && e.key === 'rope_parameters.long_factor' && /partial_rotary_factor \/ 2 = 8/.test(e.message),
    );
    assert.throws(
      () => randomInit({ ...phi3, rope_scaling: { type: 'longrope', short_factor: longrope.short_factor } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling.long_factor',
    );
    // Llama, Qwen3 and the others still refuse longrope: only Phi-3 switches factors as transformers does.
    assert.throws(
      () => randomInit({ ...PRESETS['qwen3-tiny'], rope_scaling: { type: 'longrope', ...longrope } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && /"longrope"/.test(e.message),
    );
    // head_dim 16 × 0.1 = 1.6 → 1 rotated feature: RoPE needs pairs. Above 1: more than the head.
    for (const factor of [0.1, 1.5]) {
      assert.throws(
        () => randomInit({ ...phi3, partial_rotary_factor: factor }),
        (e: unknown) => e instanceof ModelConfigError && e.key === 'partial_rotary_factor',
      );
    }
    // 16 × 0.75 = 12 rotated features: 6 factors per LongRoPE list, not 8.
    assert.throws(
      () => randomInit({ ...phi3, rope_parameters: { rope_type: 'longrope', rope_theta: 1e4, partial_rotary_factor: 0.75, ...longrope } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters.short_factor' && /= 6/.test(e.message),
    );
    // Other architectures still refuse partial rotary factors.
    assert.throws(
      () =>
        randomInit({ ...PRESETS['olmo2-tiny'], rope_parameters: { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.75 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters.partial_rotary_factor',
    );
  });

  test('an activation that is not implemented, and a yarn-scaled Qwen3', () => {
    for (const name of TINY) {
      const key = name.startsWith('gemma') ? 'hidden_activation' : 'hidden_act';
      assert.throws(
        () => randomInit({ ...PRESETS[name], [key]: 'gelu_fast' }),
        (e: unknown) => e instanceof ModelConfigError && e.message.includes(key),
      );
    }
    assert.throws(
      () =>
        randomInit({ ...PRESETS['qwen3-tiny'], rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && /"yarn"/.test(e.message),
    );
  });
});

describe('Gemma', () => {
  test('Gemma 3: RoPE per layer type in either format gives the same model; other layouts are refused', () => {
    const gemma3 = PRESETS['gemma3-tiny'];
    const inv = (m: CausalLM, type: 'full_attention' | 'sliding_attention') =>
      (m as unknown as { invFreq: Record<string, Tensor> }).invFreq[type]?.toNumbers() as number[];
    const v5 = randomInit({
      ...gemma3,
      rope_parameters: {
        full_attention: { rope_type: 'linear', factor: 8, rope_theta: 1e6 },
        sliding_attention: { rope_type: 'default', rope_theta: 1e4 },
      },
    });
    const v4 = randomInit({ ...gemma3, rope_theta: 1e6, rope_local_base_freq: 1e4, rope_scaling: { rope_type: 'linear', factor: 8 } });
    assert.deepEqual(inv(v5, 'full_attention'), inv(v4, 'full_attention'));
    assert.deepEqual(inv(v5, 'sliding_attention'), inv(v4, 'sliding_attention'));
    // head_dim 16: the last frequency is θ^(−14/16); full layers θ = 1e6 divided by 8, sliding θ = 1e4.
    assert.ok(Math.abs((inv(v5, 'full_attention')[7] as number) / (1e6 ** (-14 / 16) / 8) - 1) < 1e-6);
    assert.ok(Math.abs((inv(v5, 'sliding_attention')[7] as number) / 1e4 ** (-14 / 16) - 1) < 1e-6);
    const saved = v5.configJson();
    assert.equal(saved['rope_local_base_freq'], 1e4);
    assert.deepEqual(saved['rope_scaling'], { rope_type: 'linear', factor: 8 });
    assert.deepEqual(saved['layer_types'], ['sliding_attention', 'full_attention']); // pattern 2: every 2nd layer full
    v5.dispose();
    v4.dispose();
    assert.throws(
      () => randomInit({ ...gemma3, rope_parameters: { rope_type: 'default', rope_theta: 1e4 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters' && /per layer type/.test(e.message),
    );
    assert.throws(
      () => randomInit({ ...gemma3, use_bidirectional_attention: true }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'use_bidirectional_attention',
    );
    assert.throws(
      () => randomInit({ ...gemma3, layer_types: ['full_attention'] }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'layer_types',
    );
  });

  test('Gemma 2: soft-capping bounds the final logits by final_logit_softcapping', () => {
    torch.manualSeed(2);
    const model = randomInit({ ...PRESETS['gemma2-tiny'], final_logit_softcapping: 0.5, initializer_range: 1 });
    const logits = torch.noGrad(() => model.forward(ids2d([[1, 2, 3, 4, 5, 6]])));
    const top = logits.abs().max().item();
    // cap·tanh(x / cap) lies in [−cap, cap] (tanh rounds to 1 in float32 for large x); with weights of std 1 the raw logits are far larger.
    assert.ok(top <= 0.5 && top > 0.4, `max |logit| ${top}`);
    model.dispose();
    // transformers 5 refuses an integer in a float field: the saved config writes 30.0, not 30.
    const text = configJsonText(randomInitConfig('gemma2-tiny'), floatKeysOf(GEMMA2_CONFIG_SCHEMA));
    assert.match(text, /"final_logit_softcapping": 30\.0,/);
    assert.match(text, /"attn_logit_softcapping": 50\.0,/);
    assert.match(text, /"query_pre_attn_scalar": 16,/);
    assert.deepEqual(JSON.parse(text), randomInitConfig('gemma2-tiny'));
    assert.throws(
      () => randomInit({ ...PRESETS['gemma2-tiny'], attn_logit_softcapping: 0 }),
      (e: unknown) => e instanceof ModelConfigError && /attn_logit_softcapping/.test(e.message),
    );
  });
});

describe('folders saved by this package load in transformers with equal logits (rel. error ≤ 1e-5)', () => {
  const { pythons, reason } = transformersPythons();
  const ids = [
    [1, 5, 9, 2, 33, 60, 17, 4],
    [3, 3, 40, 12, 7, 58, 21, 63],
  ];
  for (const python of pythons.length > 0 ? pythons : ['(none)']) {
    test(`transformers of ${python}`, { skip: pythons.length === 0 ? reason : false }, async () => {
      torch.manualSeed(3);
      const models: [string, CausalLM][] = [];
      for (const name of TINY) {
        const model = randomInit(PRESETS[name]);
        // Norm weights away from their initial values, so a norm transformers applies differently shows.
        const what = (n: string) => (n.startsWith('gemma') ? 0 : 1);
        torch.noGrad(() => {
          for (const [key, p] of model.namedParameters())
            if (key.includes('norm')) p.copy_(torch.tidy(() => torch.randn(p.shape).mul(0.3).add(what(name))));
        });
        models.push([name, model]);
      }
      // LongRoPE as loaded from transformers' folder: our saved rope_scaling must satisfy transformers 4's Phi3Config too.
      for (const name of ['phi3-longrope', 'phi3-partial-longrope'])
        models.push([`fixture ${name}`, await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'transformers-5', name))]);
      const folders: string[] = [];
      for (const [, model] of models) {
        const dir = await tempDir();
        await model.savePretrained(dir);
        folders.push(dir);
      }
      const out = await tempDir();
      const run = spawnSync(python, [join(HERE, '..', 'scripts', 'fixtures', 'hf_logits.py'), JSON.stringify(ids), out, ...folders], {
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, `${python} failed: ${run.stderr.slice(-2000)}`);
      const input = ids2d(ids);
      for (const [i, [what, model]] of models.entries()) {
        const { tensors } = await loadSafetensors(join(out, `${i}.safetensors`));
        const theirs = tensors.get('logits') as Tensor;
        const err = torch.noGrad(() => relativeError(model.forward(input), theirs));
        assert.ok(err <= TOLERANCE, `${what}: relative error ${err} (${run.stdout.trim()})`);
        theirs.dispose();
        model.dispose();
      }
    });
  }
});
