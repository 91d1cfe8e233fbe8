// Qwen3, Phi-3 and OLMo 2 against checkpoints and logits written by transformers itself, 4.57 and
// 5.18 (test/fixtures/hf-archs/, by scripts/fixtures/gen_hf_archs.py: random norm weights and
// biases, so a misplaced or mis-sized norm shows in the logits). Also: save/load round trips are
// bit-exact and write transformers' keys; the KV cache gives the full pass's logits; unsupported
// settings are refused naming the key; and folders saved here load in transformers with equal
// logits (skipped with the reason when no Python with transformers is found).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
  torch,
} from '../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, 'fixtures', 'hf-archs');
const VERSIONS = ['transformers-4', 'transformers-5'] as const;
const MODELS = {
  qwen3: 'Qwen3ForCausalLM',
  phi3: 'Phi3ForCausalLM',
  olmo2: 'Olmo2ForCausalLM',
} as const;
const TINY: PresetName[] = ['qwen3-tiny', 'phi3-tiny', 'olmo2-tiny'];
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
function relativeError(actual: Tensor, want: Tensor): number {
  return torch.tidy(() => {
    const a = actual.to('float64');
    const e = want.to('float64');
    return a.sub(e).abs().max().item() / e.abs().max().item();
  });
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
        model.dispose();
        for (const t of tensors.values()) t.dispose();
      });
    }
  }

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
      // A 4-token window on Qwen3's second layer and on every Phi-3 layer, shorter than the sequence.
      const extra = name === 'qwen3-tiny' ? { use_sliding_window: true, sliding_window: 4, max_window_layers: 1 } : {};
      const model = randomInit({ ...PRESETS[name], ...extra, ...(name === 'phi3-tiny' ? { sliding_window: 4 } : {}) });
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

describe('settings that are not implemented are refused, naming them', () => {
  test('Phi-3: LongRoPE (longrope, su) and partial rotary factors', () => {
    const phi3 = PRESETS['phi3-tiny'];
    const longrope = { short_factor: [1, 1, 1, 1, 1, 1, 1, 1], long_factor: [2, 2, 2, 2, 2, 2, 2, 2] };
    for (const type of ['longrope', 'su']) {
      assert.throws(
        () => randomInit({ ...phi3, rope_scaling: { type, ...longrope } }),
        (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && e.message.includes(`"${type}"`),
      );
    }
    assert.throws(
      () => randomInit({ ...phi3, rope_parameters: { rope_type: 'longrope', rope_theta: 1e4, ...longrope } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters' && /"longrope"/.test(e.message),
    );
    assert.throws(
      () => randomInit({ ...phi3, partial_rotary_factor: 0.75 }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'partial_rotary_factor' && /0\.75/.test(e.message),
    );
    assert.throws(
      () => randomInit({ ...phi3, rope_parameters: { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.75 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters.partial_rotary_factor',
    );
  });

  test('an activation that is not implemented, and a yarn-scaled Qwen3', () => {
    for (const name of TINY) {
      assert.throws(
        () => randomInit({ ...PRESETS[name], hidden_act: 'gelu_fast' }),
        (e: unknown) => e instanceof ModelConfigError && /hidden_act/.test(e.message),
      );
    }
    assert.throws(
      () =>
        randomInit({ ...PRESETS['qwen3-tiny'], rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && /"yarn"/.test(e.message),
    );
  });
});

/** Pythons with transformers: ALPHA_DPO_TRANSFORMERS_PYTHON (paths separated by ':'), else the machine's known venvs. */
function transformersPythons(): { pythons: string[]; reason: string } {
  const env = process.env['ALPHA_DPO_TRANSFORMERS_PYTHON'];
  const candidates = env ? env.split(':').filter((p) => p !== '') : ['/work/venv/bin/python', '/work/venv-tf4/bin/python'];
  const pythons = candidates.filter(
    (p) => existsSync(p) && spawnSync(p, ['-c', 'import transformers, safetensors, torch'], { stdio: 'ignore' }).status === 0,
  );
  return {
    pythons,
    reason: `no Python with transformers, torch and safetensors among ${candidates.join(', ')} (set ALPHA_DPO_TRANSFORMERS_PYTHON)`,
  };
}

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
        // Norm weights away from their initial ones, so a norm transformers applies differently shows.
        torch.noGrad(() => {
          for (const [key, p] of model.namedParameters())
            if (key.includes('norm')) p.copy_(torch.tidy(() => torch.randn(p.shape).mul(0.3).add(1)));
        });
        models.push([name, model]);
      }
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
