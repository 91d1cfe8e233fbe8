// LoRA layers (models/lora-adapter.ts, nn/lora-branch.ts): a fresh adapter leaves every
// architecture's logits unchanged (B = 0), the branch adds exactly scaling·x·Aᵀ·Bᵀ, the switch
// gives the base back bit for bit, targets follow PEFT's name rules, and bad settings are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AdapterError,
  type CausalLM,
  LoraAdapter,
  type LoraSettings,
  PRESETS,
  type PresetName,
  randomInit,
  type Tensor,
  torch,
} from '../src/index.js';

const settings = (over: Partial<LoraSettings> = {}): LoraSettings => ({
  r: 4,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: 'all-linear',
  modules_to_save: null,
  use_rslora: false,
  ...over,
});

function model(name: PresetName, seed = 1): CausalLM {
  torch.manualSeed(seed);
  return randomInit(PRESETS[name]);
}

const ids = () => torch.tensor([[5, 9, 2, 17, 3, 40]], { dtype: 'int64' });

function logits(m: CausalLM): Float32Array {
  return torch.tidy(() => torch.noGrad(() => m.forward(ids()).toArray() as Float32Array));
}

/** Gives every B random values, so the branch contributes. */
function randomiseB(adapter: LoraAdapter, seed: number): void {
  torch.manualSeed(seed);
  torch.noGrad(() => {
    for (const [name, t] of adapter.namedParameters())
      if (name.endsWith('lora_B.weight')) t.copy_(torch.tidy(() => torch.randn(t.shape).mul(0.1)));
  });
}

// Linear layers per decoder layer: GPT-2 c_attn, attn.c_proj, c_fc, mlp.c_proj; Llama family
// q, k, v, o, gate, up, down; Phi-3 fuses qkv_proj and gate_up_proj (4).
const LINEARS_PER_LAYER: Partial<Record<PresetName, number>> = {
  'gpt2-tiny': 4,
  'llama-tiny': 7,
  'mistral-tiny': 7,
  'qwen2-tiny': 7,
  'qwen3-tiny': 7,
  'phi3-tiny': 4,
  'olmo2-tiny': 7,
  'gemma2-tiny': 7,
  'gemma3-tiny': 7,
};

describe('LoRA layers', () => {
  test("step 0 equals the base model exactly on every architecture ('all-linear', B = 0)", () => {
    for (const [name, perLayer] of Object.entries(LINEARS_PER_LAYER) as [PresetName, number][]) {
      const m = model(name);
      const before = logits(m);
      const adapter = LoraAdapter.attach(m, settings());
      assert.equal(adapter.targets.length, perLayer * m.numLayers, `${name}: adapted layers`);
      assert.deepEqual(logits(m), before, `${name}: logits with a fresh adapter`);
      m.dispose();
    }
  });

  test('the branch adds scaling·x·Aᵀ·Bᵀ; switched off, the base model returns bit for bit', () => {
    const m = model('llama-tiny');
    const base = logits(m);
    const adapter = LoraAdapter.attach(m, settings({ target_modules: ['q_proj', 'v_proj'] }));
    randomiseB(adapter, 3);
    const adapted = logits(m);
    assert.notDeepEqual(adapted, base);
    assert.deepEqual(
      adapter.withBaseModel(() => logits(m)),
      base,
    );
    assert.deepEqual(logits(m), adapted, 'switched back on');
    m.dispose();
  });

  test('scaling is α/r, or α/√r with use_rslora (PEFT layer.py update_layer)', () => {
    const x = () => torch.ones([1, 1, 64]);
    for (const [rslora, want] of [
      [false, 16 / 4],
      [true, 16 / 2],
    ] as const) {
      const m = model('llama-tiny');
      const adapter = LoraAdapter.attach(
        m,
        settings({ r: 4, lora_alpha: 16, use_rslora: rslora, target_modules: ['model.layers.0.self_attn.q_proj'] }),
      );
      assert.deepEqual(adapter.targets, ['model.layers.0.self_attn.q_proj']);
      const named = new Map(adapter.namedParameters());
      const a = named.get('model.layers.0.self_attn.q_proj.lora_A.weight') as Tensor;
      const b = named.get('model.layers.0.self_attn.q_proj.lora_B.weight') as Tensor;
      torch.noGrad(() => {
        a.copy_(torch.tidy(() => torch.ones(a.shape).mul(0.5)));
        b.copy_(torch.tidy(() => torch.ones(b.shape).mul(0.25)));
      });
      // Hidden size 64: x·Aᵀ = 64·0.5 = 32 per rank; ·Bᵀ sums 4 ranks · 0.25 = 32; times scaling.
      const layer = [...m.modules()].find((mod) => mod.path === 'model.layers.0.self_attn.q_proj') as unknown as {
        forward(x: Tensor): Tensor;
        weight: Tensor;
      };
      const delta = torch.tidy(() =>
        torch.noGrad(() => {
          const input = x();
          return layer.forward(input).sub(input.linear(layer.weight)).max().item();
        }),
      );
      assert.ok(Math.abs(delta - 32 * want) < 1e-4, `rslora ${rslora}: delta ${delta}, want ${32 * want}`);
      m.dispose();
    }
  });

  test('A is drawn as kaiming_uniform_(a=√5): U(−1/√in, 1/√in); B is zero; only the adapter trains', () => {
    const m = model('llama-tiny');
    const adapter = LoraAdapter.attach(m, settings());
    for (const [name, t] of adapter.namedParameters()) {
      const values = t.toNumbers();
      if (name.endsWith('lora_B.weight'))
        assert.ok(
          values.every((v) => v === 0),
          name,
        );
      else {
        const bound = 1 / Math.sqrt(t.shape[1] as number);
        assert.ok(
          values.every((v) => Math.abs(v) <= bound),
          name,
        );
        // A uniform on [−b, b] has standard deviation b/√3; over ≥ 256 draws the sample is within 20%.
        const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
        assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.2, `${name}: std ${std}`);
      }
      assert.equal(t.dtype, 'float32');
      assert.equal(t.requiresGrad, true);
    }
    assert.ok(
      m.namedParameters().every(([, t]) => !t.requiresGrad),
      'the base weights are frozen',
    );
    adapter.dispose();
    assert.ok(
      m.namedParameters().every(([, t]) => t.requiresGrad),
      'disposing the adapter makes the model trainable again',
    );
    m.dispose();
  });

  test('dropout acts on the branch input in training mode only', () => {
    const m = model('gpt2-tiny');
    const adapter = LoraAdapter.attach(m, settings({ lora_dropout: 0.5, target_modules: ['c_attn'] }));
    randomiseB(adapter, 4);
    m.train(false);
    const evalA = logits(m);
    assert.deepEqual(logits(m), evalA, 'evaluation mode is deterministic');
    // GPT-2's own dropouts are on in training mode too; compare with the base under the same seed.
    m.train(true);
    torch.manualSeed(9);
    const trainLogits = logits(m);
    assert.notDeepEqual(trainLogits, evalA);
    m.dispose();
  });

  test('modules_to_save trains a module in full; switched off it holds the base values', () => {
    const m = model('llama-tiny');
    const base = logits(m);
    const adapter = LoraAdapter.attach(m, settings({ target_modules: ['q_proj'], modules_to_save: ['norm'] }));
    const names = adapter.namedParameters().map(([n]) => n);
    assert.ok(names.includes('model.norm.weight'), names.join());
    const norm = m.store.get('model.norm.weight') as Tensor;
    assert.equal(norm.requiresGrad, true);
    torch.noGrad(() => norm.mul_(1.5));
    assert.notDeepEqual(logits(m), base);
    assert.deepEqual(
      adapter.withBaseModel(() => logits(m)),
      base,
    );
    m.dispose();
  });

  test('bad settings: targets matching nothing list the linear layers; r ≤ 0; a non-linear target', () => {
    const m = model('llama-tiny');
    assert.throws(
      () => LoraAdapter.attach(m, settings({ target_modules: ['c_attn'] })),
      (e: unknown) =>
        e instanceof AdapterError &&
        /matches none/.test(e.message) &&
        /q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/.test(e.message),
    );
    assert.throws(
      () => LoraAdapter.attach(m, settings({ r: 0 })),
      (e: unknown) => e instanceof AdapterError && /r \(lora_r\)/.test(e.message),
    );
    assert.throws(() => LoraAdapter.attach(m, settings({ r: -2 })), AdapterError);
    assert.throws(
      () => LoraAdapter.attach(m, settings({ target_modules: ['embed_tokens'] })),
      (e: unknown) => e instanceof AdapterError && /not a linear layer/.test(e.message),
    );
    assert.ok(
      m.namedParameters().every(([, t]) => t.requiresGrad),
      'a refused adapter leaves the model as it was',
    );
    m.dispose();
  });
});
