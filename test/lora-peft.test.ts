// LoRA adapters in PEFT's format (models/peft-adapter-files.ts). Offline: adapters PEFT 0.21
// wrote (test/fixtures/peft-lora, scripts/fixtures/gen_peft_lora.py) load here with PEFT's own
// logits, and ours have PEFT's key names, shapes and config fields for the same model. With a
// Python that has PEFT (skipped with the reason otherwise): ours load in PeftModel.from_pretrained,
// and adapters PEFT creates load here, logits within 1e-4 both ways.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AdapterError,
  AutoModelForCausalLM,
  type CausalLM,
  LoraAdapter,
  type LoraSettings,
  loadAdapter,
  loadSafetensors,
  PRESETS,
  randomInit,
  readSafetensorsHeader,
  saveAdapter,
  type Tensor,
  torch,
} from '../src/index.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';
import { relativeError, transformersPythons } from './helpers/transformers-interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, 'fixtures', 'peft-lora');
const SCRIPT = join(HERE, '..', 'scripts', 'fixtures', 'peft_lora.py');
const tempDir = tempDirsRemovedAfterAll('alpha-dpo-lora-peft-');

// Settings of the fixture adapters (gen_peft_lora.py).
const FIXTURE_SETTINGS: Record<'gpt2' | 'llama', LoraSettings> = {
  gpt2: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: 'all-linear', modules_to_save: ['ln_f'], use_rslora: false },
  llama: {
    r: 4,
    lora_alpha: 16,
    lora_dropout: 0,
    target_modules: ['q_proj', 'v_proj', 'down_proj'],
    modules_to_save: null,
    use_rslora: true,
  },
};

async function expected(): Promise<Map<string, Tensor>> {
  return (await loadSafetensors(join(FIXTURES, 'expected.safetensors'))).tensors;
}

const forward = (m: CausalLM, ids: Tensor) => torch.noGrad(() => m.forward(ids));

/** Key -> [dtype, shape] of a safetensors file. */
async function layout(file: string): Promise<Map<string, string>> {
  const header = await readSafetensorsHeader(file);
  return new Map([...header.tensors].map(([k, info]) => [k, `${info.dtype} [${info.shape.join(', ')}]`]));
}

describe('PEFT format, offline (fixtures written by PEFT 0.21)', () => {
  test("PEFT's adapters load here with PEFT's logits, adapter on and off (rel. error ≤ 1e-5)", async () => {
    const want = await expected();
    const ids = want.get('input_ids') as Tensor;
    for (const name of ['gpt2', 'llama'] as const) {
      const m = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, `${name}-base`), { adapter: join(FIXTURES, `${name}-adapter`) });
      assert.deepEqual(m.adapter?.settings.r, 4);
      const on = relativeError(forward(m, ids), want.get(`${name}.logits`) as Tensor);
      const off = relativeError(
        (m.adapter as LoraAdapter).withBaseModel(() => forward(m, ids)),
        want.get(`${name}.base_logits`) as Tensor,
      );
      assert.ok(on <= 1e-5, `${name}: adapter on, relative error ${on}`);
      assert.ok(off <= 1e-5, `${name}: adapter off, relative error ${off}`);
      // The adapter matters: PEFT's two outputs differ by far more than the tolerance.
      assert.ok(relativeError(want.get(`${name}.logits`) as Tensor, want.get(`${name}.base_logits`) as Tensor) > 1e-3);
      m.dispose();
    }
    for (const t of want.values()) t.dispose();
  });

  test("ours have PEFT's keys, dtypes, shapes and adapter_config.json fields for the same model and settings", async () => {
    for (const name of ['gpt2', 'llama'] as const) {
      const m = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, `${name}-base`));
      const adapter = LoraAdapter.attach(m, FIXTURE_SETTINGS[name]);
      const dir = await tempDir();
      await saveAdapter(adapter, dir, { baseModel: 'base' });
      assert.deepEqual(
        await layout(join(dir, 'adapter_model.safetensors')),
        await layout(join(FIXTURES, `${name}-adapter`, 'adapter_model.safetensors')),
        name,
      );
      const ours = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
      const theirs = JSON.parse(await readFile(join(FIXTURES, `${name}-adapter`, 'adapter_config.json'), 'utf8'));
      for (const field of [
        'peft_type',
        'task_type',
        'r',
        'lora_alpha',
        'lora_dropout',
        'fan_in_fan_out',
        'bias',
        'use_rslora',
        'modules_to_save',
        'use_dora',
      ]) {
        assert.deepEqual(ours[field], theirs[field], `${name}: ${field}`);
      }
      // PEFT writes the resolved names for 'all-linear' and the given list otherwise (order unspecified: a set).
      const resolved = name === 'gpt2' ? [...adapter.targets] : ['q_proj', 'v_proj', 'down_proj'];
      assert.deepEqual([...theirs.target_modules].sort(), resolved.sort());
      assert.deepEqual(ours.base_model_name_or_path, 'base');
      m.dispose();
    }
  });

  test('save, then load here: the same logits bit for bit (GPT-2 with modules_to_save, Llama)', async () => {
    const ids = torch.tensor([[4, 8, 15, 16, 23]], { dtype: 'int64' });
    for (const name of ['gpt2', 'llama'] as const) {
      const base = join(FIXTURES, `${name}-base`);
      const m = await AutoModelForCausalLM.fromPretrained(base, { adapter: join(FIXTURES, `${name}-adapter`) });
      const dir = await tempDir();
      await saveAdapter(m.adapter as LoraAdapter, dir);
      const again = await AutoModelForCausalLM.fromPretrained(base, { adapter: dir });
      assert.deepEqual(forward(again, ids).toArray(), forward(m, ids).toArray(), name);
      m.dispose();
      again.dispose();
    }
  });

  test('an adapter for another base names the key; pickle-only and incomplete folders are refused', async () => {
    const gpt2 = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'gpt2-base'));
    // The fixture Llama adapter on a preset Llama of another width: shapes differ.
    torch.manualSeed(1);
    const wide = randomInit(PRESETS['llama-tiny']);
    await assert.rejects(loadAdapter(wide, join(FIXTURES, 'llama-adapter')), (e: unknown) => {
      return (
        e instanceof AdapterError &&
        /base_model\.model\.model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight has shape \[4, 16\]/.test(e.message)
      );
    });
    assert.equal(wide.adapter, null, 'a failed load leaves no adapter behind');
    // GPT-2 modules with the Llama adapter's names: nothing matches.
    await assert.rejects(
      loadAdapter(gpt2, join(FIXTURES, 'llama-adapter')),
      (e: unknown) => e instanceof AdapterError && /matches none/.test(e.message),
    );
    // A key the model has no place for.
    const dir = await tempDir();
    const adapter = LoraAdapter.attach(gpt2, { ...FIXTURE_SETTINGS.gpt2, modules_to_save: null, target_modules: ['c_attn'] });
    await saveAdapter(adapter, dir);
    adapter.dispose();
    const config = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, target_modules: ['c_attn', 'c_fc'] }));
    await assert.rejects(
      loadAdapter(gpt2, dir),
      (e: unknown) => e instanceof AdapterError && /lacks base_model\.model\.transformer\.h\.0\.mlp\.c_fc\.lora_A\.weight/.test(e.message),
    );
    // Pickled weights only.
    const pickled = await tempDir();
    await writeFile(join(pickled, 'adapter_config.json'), JSON.stringify(config));
    await writeFile(join(pickled, 'adapter_model.bin'), 'not opened');
    await assert.rejects(
      loadAdapter(gpt2, pickled),
      (e: unknown) => e instanceof AdapterError && /pickle format \(adapter_model\.bin\)/.test(e.message),
    );
    const empty = join(await tempDir(), 'nothing');
    await mkdir(empty);
    await assert.rejects(loadAdapter(gpt2, empty), (e: unknown) => e instanceof AdapterError && /no adapter_config\.json/.test(e.message));
    // A LoRA variant that is not implemented is named, not ignored.
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
    await assert.rejects(
      loadAdapter(gpt2, dir),
      (e: unknown) => e instanceof AdapterError && /use_dora = true asks for DoRA/.test(e.message),
    );
    await rm(dir, { recursive: true, force: true });
    wide.dispose();
    gpt2.dispose();
  });
});

/** A Python with transformers and PEFT, or null with the reason. */
function peftPython(): { python: string | null; reason: string } {
  const { pythons, reason } = transformersPythons();
  const python = pythons.find((p) => spawnSync(p, ['-c', 'import peft'], { stdio: 'ignore' }).status === 0) ?? null;
  return { python, reason: pythons.length === 0 ? reason : `no Python with PEFT among ${pythons.join(', ')}` };
}

describe('PEFT itself (Python), both directions: logits within 1e-4', () => {
  const { python, reason } = peftPython();
  const idsJson = JSON.stringify([
    [1, 5, 9, 2, 33, 60, 17, 4],
    [3, 3, 40, 12, 7, 58, 21, 63],
  ]);
  const ids = () => torch.tensor(JSON.parse(idsJson), { dtype: 'int64' });

  test(
    'ours → PeftModel.from_pretrained (GPT-2 Conv1D with modules_to_save, Llama with rsLoRA and dropout)',
    { skip: python === null ? reason : false },
    async () => {
      const cases: [string, LoraSettings][] = [
        [
          'gpt2-tiny',
          { r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: 'all-linear', modules_to_save: ['ln_f'], use_rslora: false },
        ],
        [
          'llama-tiny',
          {
            r: 4,
            lora_alpha: 32,
            lora_dropout: 0.1,
            target_modules: ['q_proj', 'k_proj', 'o_proj', 'up_proj'],
            modules_to_save: null,
            use_rslora: true,
          },
        ],
      ];
      for (const [preset, settings] of cases) {
        torch.manualSeed(2);
        const m = randomInit(PRESETS[preset as 'gpt2-tiny']);
        const baseDir = await tempDir();
        await m.savePretrained(baseDir);
        const adapter = LoraAdapter.attach(m, settings);
        torch.noGrad(() => {
          for (const [, t] of adapter.namedParameters()) t.add_(torch.tidy(() => torch.randn(t.shape).mul(0.05)));
        });
        const adapterDir = await tempDir();
        await saveAdapter(adapter, adapterDir, { baseModel: baseDir });
        const out = join(await tempDir(), 'out.safetensors');
        const run = spawnSync(python as string, [SCRIPT, 'load', baseDir, adapterDir, idsJson, out], { encoding: 'utf8' });
        assert.equal(run.status, 0, `${python} failed: ${run.stderr.slice(-2000)}`);
        const { tensors } = await loadSafetensors(out);
        const on = relativeError(forward(m, ids()), tensors.get('logits') as Tensor);
        const off = relativeError(
          adapter.withBaseModel(() => forward(m, ids())),
          tensors.get('base_logits') as Tensor,
        );
        assert.ok(on <= 1e-4 && off <= 1e-4, `${preset}: relative error ${on} (on), ${off} (off); ${run.stdout.trim()}`);
        assert.ok(relativeError(tensors.get('logits') as Tensor, tensors.get('base_logits') as Tensor) > 1e-3, 'the adapter matters');
        m.dispose();
      }
    },
  );

  test(
    'get_peft_model(...).save_pretrained → fromPretrained(base, { adapter }) (Mistral, Qwen2)',
    { skip: python === null ? reason : false },
    async () => {
      for (const preset of ['mistral-tiny', 'qwen2-tiny'] as const) {
        torch.manualSeed(3);
        const m = randomInit(PRESETS[preset]);
        const baseDir = await tempDir();
        await m.savePretrained(baseDir);
        m.dispose();
        const adapterDir = await tempDir();
        const out = join(await tempDir(), 'out.safetensors');
        const spec = JSON.stringify({ r: 6, lora_alpha: 12, target_modules: 'all-linear', seed: 0 });
        const run = spawnSync(python as string, [SCRIPT, 'make', baseDir, adapterDir, idsJson, out, spec], { encoding: 'utf8' });
        assert.equal(run.status, 0, `${python} failed: ${run.stderr.slice(-2000)}`);
        const ours = await AutoModelForCausalLM.fromPretrained(baseDir, { adapter: adapterDir });
        const { tensors } = await loadSafetensors(out);
        const err = relativeError(forward(ours, ids()), tensors.get('logits') as Tensor);
        assert.ok(err <= 1e-4, `${preset}: relative error ${err}; ${run.stdout.trim()}`);
        assert.ok(relativeError(tensors.get('logits') as Tensor, tensors.get('base_logits') as Tensor) > 1e-3, 'the adapter matters');
        ours.dispose();
      }
    },
  );
});
