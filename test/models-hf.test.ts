// Checkpoints written by transformers itself, 4.57 and 5.18, against transformers' own logits
// (test/fixtures/hf-checkpoints/, written by scripts/fixtures/gen_hf_checkpoints.py: GPT-2, Llama
// with GQA + llama3 rope scaling + rope_theta 5e5 + tied embeddings, Mistral with a 3-token
// sliding window and rope_theta 1e6, Qwen2 in bfloat16 with rope_theta 1e6). transformers 5
// writes RoPE as `rope_parameters` and the dtype as `dtype`; 4.57 writes top-level rope_theta /
// rope_scaling. And the reverse: folders this package saves, loaded by transformers in a Python
// venv (skipped with the reason when no venv with transformers is found).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  randomInit,
  type Tensor,
  torch,
} from '../src/index.js';
import { configDtype } from '../src/models/pretrained.js';
import { relativeError, transformersPythons } from './helpers/transformers-interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, 'fixtures', 'hf-checkpoints');
const VERSIONS = ['transformers-4', 'transformers-5'] as const;
const MODELS = ['gpt2', 'llama', 'mistral', 'qwen2'] as const;
// Both sides compute in float32 from the same weights; rounding differences stay near 1e-7.
const TOLERANCE = 1e-5;

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-hf-'));
  scratch.push(dir);
  return dir;
}
async function copyFolder(from: string): Promise<string> {
  const dir = await tempDir();
  for (const f of await readdir(from)) await copyFile(join(from, f), join(dir, f));
  return dir;
}
async function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): Promise<void> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
}

/** max |a − e| / max |e|, in float64. */

async function expected(version: string, name: string): Promise<{ ids: Tensor; logits: Tensor }> {
  const { tensors } = await loadSafetensors(join(FIXTURES, version, `${name}.expected.safetensors`));
  return { ids: tensors.get('input_ids') as Tensor, logits: tensors.get('logits') as Tensor };
}

/** Our logits for a fixture folder against transformers' (input ids and logits stored beside it). */
async function errorAgainstTransformers(dir: string, version: string, name: string): Promise<number> {
  const model = await AutoModelForCausalLM.fromPretrained(dir);
  const e = await expected(version, name);
  try {
    return torch.noGrad(() => relativeError(model.forward(e.ids), e.logits));
  } finally {
    model.dispose();
    e.ids.dispose();
    e.logits.dispose();
  }
}

describe('checkpoints saved by transformers load with transformers’ logits (rel. error ≤ 1e-5)', () => {
  for (const version of VERSIONS) {
    for (const name of MODELS) {
      test(`${version}: ${name}`, async () => {
        const err = await errorAgainstTransformers(join(FIXTURES, version, name), version, name);
        assert.ok(err <= TOLERANCE, `relative error ${err}`);
      });
    }
  }

  test('the fixtures are in the two formats: rope_parameters + dtype (5.x), rope_theta/rope_scaling (4.57)', async () => {
    const read = async (v: string, n: string) =>
      JSON.parse(await readFile(join(FIXTURES, v, n, 'config.json'), 'utf8')) as Record<string, unknown>;
    const v5 = await read('transformers-5', 'llama');
    assert.deepEqual(v5['rope_parameters'], {
      factor: 8,
      high_freq_factor: 4,
      low_freq_factor: 1,
      original_max_position_embeddings: 16,
      rope_theta: 500000,
      rope_type: 'llama3',
    });
    assert.equal(v5['rope_theta'], undefined);
    assert.equal(v5['rope_scaling'], undefined);
    const v4 = await read('transformers-4', 'llama');
    assert.equal(v4['rope_theta'], 500000);
    assert.equal((v4['rope_scaling'] as Record<string, unknown>)['rope_type'], 'llama3');
    assert.equal(v4['rope_parameters'], undefined);
    assert.equal((await read('transformers-5', 'qwen2'))['dtype'], 'bfloat16');
  });

  test('ignoring rope_parameters would be caught: without it the logits are off by far more than the tolerance', async () => {
    // What the issue measured before the fix: defaults instead of rope_parameters (θ 1e4, no scaling).
    for (const name of ['llama', 'mistral', 'qwen2'] as const) {
      const dir = await copyFolder(join(FIXTURES, 'transformers-5', name));
      await editConfig(dir, (c) => delete c['rope_parameters']);
      const err = await errorAgainstTransformers(dir, 'transformers-5', name);
      assert.ok(err > 1e-3, `${name}: without rope_parameters the error is only ${err}`);
    }
  });

  test("dtype 'auto' takes config.json's dtype, then torch_dtype (transformers' precedence)", async () => {
    const dir = join(FIXTURES, 'transformers-5', 'qwen2'); // "dtype": "bfloat16"
    const model = await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'auto' });
    assert.equal(model.dtype, 'bfloat16');
    model.dispose();
    const plain = await AutoModelForCausalLM.fromPretrained(dir);
    assert.equal(plain.dtype, 'float32', 'without auto, float32 as before');
    plain.dispose();
    assert.equal(configDtype({ dtype: 'bfloat16', torch_dtype: 'float32' }), 'bfloat16');
    assert.equal(configDtype({ torch_dtype: 'float16' }), 'float16');
    assert.equal(configDtype({ dtype: null, torch_dtype: 'bfloat16' }), 'bfloat16');
    assert.equal(configDtype({}), null);
    assert.throws(
      () => configDtype({ dtype: 'int8' }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'dtype',
    );
  });
});

describe('RoPE settings in either format', () => {
  const llama = PRESETS['llama-tiny'];

  test('rope_parameters and rope_theta + rope_scaling give the same model', () => {
    const scaling = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
    const v5 = randomInit({ ...llama, rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, ...scaling } });
    const v4 = randomInit({ ...llama, rope_theta: 5e5, rope_scaling: { type: 'llama3', ...scaling } });
    const plain = randomInit({ ...llama, rope_theta: 5e5 });
    const inv = (m: CausalLM) => (m as unknown as { invFreq: Tensor }).invFreq.toNumbers();
    assert.deepEqual(inv(v5), inv(v4));
    // head_dim 16: θ^(−2i/16) for i = 0..7; the first is 1 for every θ and is a high frequency (kept).
    assert.equal(inv(plain)[0], 1);
    assert.equal(inv(v5)[0], 1);
    // The lowest frequency θ^(−14/16) (wavelength 2π·θ^(7/8) ≫ 64 tokens) is divided by factor 8.
    assert.ok(Math.abs((inv(v5)[7] as number) / (inv(plain)[7] as number) - 1 / 8) < 1e-6);
    // Both saved configs carry all three keys, consistent, so transformers 4 and 5 read them alike.
    const saved = v5.configJson();
    assert.deepEqual(saved['rope_parameters'], { rope_type: 'llama3', rope_theta: 5e5, ...scaling });
    assert.equal(saved['rope_theta'], 5e5);
    assert.deepEqual(saved['rope_scaling'], { rope_type: 'llama3', ...scaling });
    assert.equal(saved['dtype'], 'float32');
    assert.equal(plain.configJson()['rope_scaling'], null);
    // llama3's original_max_position_embeddings defaults to max_position_embeddings (transformers 5's standardize_rope_params).
    const noOriginal = randomInit({
      ...llama,
      rope_parameters: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4 },
    });
    assert.equal(
      (noOriginal.config as Record<string, Record<string, unknown>>)['rope_parameters']?.['original_max_position_embeddings'],
      512,
    );
    for (const m of [v5, v4, plain, noOriginal]) m.dispose();
  });

  test('a rope_type we do not implement is refused, naming it', () => {
    for (const type of ['yarn', 'dynamic', 'longrope', 'proportional']) {
      assert.throws(
        () => randomInit({ ...llama, rope_parameters: { rope_type: type, rope_theta: 1e4, factor: 4 } }),
        (e: unknown) =>
          e instanceof ModelConfigError &&
          e.key === 'rope_parameters' &&
          e.message.includes(`"${type}"`) &&
          /not supported/.test(e.message),
      );
    }
    for (const arch of ['mistral-tiny', 'qwen2-tiny'] as const) {
      assert.throws(
        () => randomInit({ ...PRESETS[arch], rope_scaling: { type: 'yarn', factor: 4 } }),
        (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && /"yarn"/.test(e.message),
      );
    }
    assert.throws(
      () => randomInit({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 1e4, partial_rotary_factor: 0.5 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters.partial_rotary_factor',
    );
    assert.throws(
      () => randomInit({ ...llama, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e4 } } }),
      (e: unknown) => e instanceof ModelConfigError && /per layer type/.test(e.message),
    );
    assert.throws(
      () => randomInit({ ...llama, rope_parameters: { rope_type: 'linear', rope_theta: 1e4 } }),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_parameters.factor',
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
      // Models loaded from transformers' own folders (their config keys kept) and built from presets.
      const models: [string, CausalLM][] = [];
      for (const name of MODELS)
        models.push([`loaded ${name}`, await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'transformers-5', name))]);
      torch.manualSeed(3);
      for (const preset of ['gpt2-tiny', 'llama-tiny', 'mistral-tiny', 'qwen2-tiny'] as const)
        models.push([preset, randomInit(PRESETS[preset])]);
      models.push([
        'llama3-scaled',
        randomInit({
          ...PRESETS['llama-tiny'],
          rope_theta: 5e5,
          rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 4 },
        }),
      ]);
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
      const input = torch.tensor(ids, { dtype: 'int64' });
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
