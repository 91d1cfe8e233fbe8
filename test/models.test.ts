// Causal LMs against the independent PyTorch reference of scripts/fixtures/gen_models.py (which
// wrote the checkpoints and expected logits in test/fixtures/models/), plus loading rules,
// save/load round trips, padding, KV cache and training-mode behaviour.
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AutoModelForCausalLM,
  type CausalLM,
  CheckpointWeightsError,
  loadSafetensors,
  ModelConfigError,
  ModelFolderError,
  PRESETS,
  randomInit,
  readSafetensorsHeader,
  saveSafetensors,
  type Tensor,
  torch,
  UnsafeCheckpointError,
  UnsupportedArchitectureError,
} from '../src/index.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const fixture = (name: string) => join(FIXTURES, name);
const tempDir = tempDirsRemovedAfterAll('alpha-dpo-models-');

async function expected(name: string): Promise<Map<string, Tensor>> {
  return (await loadSafetensors(join(FIXTURES, `${name}.expected.safetensors`))).tensors;
}

/** max |a − e| / max |e| over the positions selected by `positions` (dim 1), in float64. */
function relativeError(actual: Tensor, want: Tensor, positions?: { row: number; from: number }): number {
  return torch.tidy(() => {
    let a = actual.to('float64');
    let e = want.to('float64');
    if (positions !== undefined) {
      a = a.select(0, positions.row).narrow(0, positions.from, a.size(1) - positions.from);
      e = e.select(0, positions.row).narrow(0, positions.from, e.size(1) - positions.from);
    }
    return a.sub(e).abs().max().item() / e.abs().max().item();
  });
}

const ids2d = (rows: number[][]) => torch.tensor(rows, { dtype: 'int64' });

// The reference computes in float64 from the stored weights; float32 rounding leaves ~5e-7.
const TOLERANCE = 1e-5;

const FIXTURE_MODELS = [
  { name: 'gpt2', architecture: 'GPT2LMHeadModel', what: 'hub layout: no transformer. prefix, attn.bias buffers, tied head' },
  { name: 'llama', architecture: 'LlamaForCausalLM', what: 'multi-head, untied head, F32' },
  { name: 'llama-gqa-llama3', architecture: 'LlamaForCausalLM', what: 'GQA, head_dim 16, llama3 rope scaling, biases, tied, BF16' },
  { name: 'qwen2', architecture: 'Qwen2ForCausalLM', what: 'q/k/v biases, GQA, tied, F16, two shards' },
  { name: 'mistral', architecture: 'MistralForCausalLM', what: 'one KV head, 3-token sliding window' },
] as const;

describe('logits match the PyTorch reference (rel. error ≤ 1e-5, float32)', () => {
  for (const { name, architecture, what } of FIXTURE_MODELS) {
    test(`${name}: ${what}`, async () => {
      const model = await AutoModelForCausalLM.fromPretrained(fixture(name));
      const e = await expected(name);
      try {
        assert.equal(model.architecture, architecture);
        assert.equal(model.dtype, 'float32', 'F16/BF16 checkpoints load as float32 by default');
        for (const [, p] of model.namedParameters()) assert.equal(p.dtype, 'float32');
        const ids = e.get('input_ids') as Tensor;
        const logits = model.forward(ids);
        assert.deepEqual([...logits.shape], [2, 8, model.vocabSize]);
        assert.ok(relativeError(logits, e.get('logits') as Tensor) <= TOLERANCE);
        // Row 1 is left-padded by 3: compare its real positions (3..7) and all of row 0.
        const masked = model.forward(ids, { attentionMask: e.get('attention_mask') as Tensor });
        const want = e.get('masked_logits') as Tensor;
        assert.ok(relativeError(masked, want, { row: 0, from: 0 }) <= TOLERANCE);
        assert.ok(relativeError(masked, want, { row: 1, from: 3 }) <= TOLERANCE);
        logits.dispose();
        masked.dispose();
      } finally {
        model.dispose();
        for (const t of e.values()) t.dispose();
      }
    });
  }

  test('the fixtures exercise llama3 scaling, the sliding window and GQA (removing each changes the logits)', async () => {
    const variants: [string, (c: Record<string, unknown>) => void][] = [
      ['llama-gqa-llama3', (c) => delete c['rope_scaling']],
      ['mistral', (c) => (c['sliding_window'] = null)],
    ];
    for (const [name, change] of variants) {
      const dir = await tempDir();
      for (const f of await readdir(fixture(name))) await copyFile(join(fixture(name), f), join(dir, f));
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      change(config);
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
      const model = await AutoModelForCausalLM.fromPretrained(dir);
      const e = await expected(name);
      const err = relativeError(model.forward(e.get('input_ids') as Tensor), e.get('logits') as Tensor);
      assert.ok(err > 1e-3, `${name}: without the feature the error is ${err}, so the fixture would not catch its absence`);
      model.dispose();
    }
    // GQA repeats each KV head for consecutive query heads (repeat_interleave), not tiled.
    const kv = torch.tensor([[[[1]], [[2]]]]); // [1, 2, 1, 1]
    const { repeatKv } = await import('../src/nn/attention.js');
    assert.deepEqual(repeatKv(kv, 2).toNumbers(), [1, 1, 2, 2]);
  });

  test('loading as bfloat16 keeps bfloat16 parameters and stays near the reference', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(fixture('llama-gqa-llama3'), { dtype: 'bfloat16' });
    const e = await expected('llama-gqa-llama3');
    assert.equal(model.dtype, 'bfloat16');
    const logits = model.forward(e.get('input_ids') as Tensor);
    assert.equal(logits.dtype, 'bfloat16');
    // Stored weights are BF16, so only activations are rounded: bf16 has 8 significant bits (rel. step 2^-8 ≈ 0.4%).
    const err = relativeError(logits, e.get('logits') as Tensor);
    assert.ok(err < 0.05, `bfloat16 relative error ${err}`);
    model.dispose();
  });
});

describe('save and load', () => {
  test('GPT-2 round trip is bit-exact and writes transformers’ keys, shapes and layouts', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(fixture('gpt2'));
    const dir = await tempDir();
    await model.savePretrained(dir);
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    const names = [...header.tensors.keys()].sort();
    // transformers' GPT2LMHeadModel state dict minus the tied lm_head.weight and the non-persistent attn.bias.
    assert.equal(names.length, 2 + 2 * 12 + 2);
    assert.ok(names.every((n) => n.startsWith('transformer.')));
    assert.ok(!names.includes('lm_head.weight'));
    assert.ok(!names.some((n) => n.endsWith('.attn.bias') || n.endsWith('.attn.masked_bias')));
    // Conv1D weights are [in, out]: c_attn [n_embd, 3·n_embd], c_fc [n_embd, 4·n_embd].
    assert.deepEqual(header.tensors.get('transformer.h.0.attn.c_attn.weight')?.shape, [32, 96]);
    assert.deepEqual(header.tensors.get('transformer.h.1.mlp.c_fc.weight')?.shape, [32, 128]);
    assert.deepEqual(header.tensors.get('transformer.h.1.mlp.c_proj.weight')?.shape, [128, 32]);
    assert.deepEqual(header.metadata, { format: 'pt' });
    // The stored c_attn equals the hub file's tensor (the load transpose was undone).
    const original = (await loadSafetensors(join(fixture('gpt2'), 'model.safetensors'), { names: ['h.0.attn.c_attn.weight'] })).tensors;
    const saved = (await loadSafetensors(join(dir, 'model.safetensors'), { names: ['transformer.h.0.attn.c_attn.weight'] })).tensors;
    assert.ok((original.get('h.0.attn.c_attn.weight') as Tensor).equal(saved.get('transformer.h.0.attn.c_attn.weight') as Tensor));

    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config['architectures'], ['GPT2LMHeadModel']);
    assert.equal(config['model_type'], 'gpt2');
    assert.equal(config['n_embd'], 32);
    assert.equal(config['torch_dtype'], 'float32');

    const again = await AutoModelForCausalLM.fromPretrained(dir);
    assertSameParameters(model, again);
    const ids = ids2d([[1, 5, 9, 2, 77]]);
    assert.ok(model.forward(ids).equal(again.forward(ids)), 'logits are bit-identical');
    model.dispose();
    again.dispose();
  });

  test('Llama (BF16 checkpoint loaded as float32) round trip is bit-exact, sharded too', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(fixture('llama-gqa-llama3'));
    for (const maxShardSize of [undefined, 20_000]) {
      const dir = await tempDir();
      await model.savePretrained(dir, maxShardSize === undefined ? {} : { maxShardSize });
      const files = (await readdir(dir)).sort();
      if (maxShardSize !== undefined) {
        assert.ok(files.includes('model.safetensors.index.json'));
        assert.ok(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length > 1);
      } else {
        const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
        assert.ok(!header.tensors.has('lm_head.weight'), 'tied head is not saved');
        assert.deepEqual(header.tensors.get('model.layers.0.self_attn.k_proj.weight')?.shape, [2 * 16, 48]);
        assert.equal(header.tensors.get('model.norm.weight')?.dtype, 'F32');
      }
      const again = await AutoModelForCausalLM.fromPretrained(dir);
      assertSameParameters(model, again);
      again.dispose();
    }
    model.dispose();
  });

  test('a bfloat16 model saves BF16 and reloads bit-exact', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(fixture('qwen2'), { dtype: 'bfloat16' });
    const dir = await tempDir();
    await model.savePretrained(dir);
    const header = await readSafetensorsHeader(join(dir, 'model.safetensors'));
    assert.equal(header.tensors.get('model.layers.0.self_attn.q_proj.bias')?.dtype, 'BF16');
    const again = await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'bfloat16' });
    assertSameParameters(model, again);
    model.dispose();
    again.dispose();
  });
});

function assertSameParameters(a: CausalLM, b: CausalLM): void {
  const pa = a.namedParameters();
  const pb = new Map(b.namedParameters());
  assert.equal(pa.length, pb.size);
  for (const [name, t] of pa) {
    const other = pb.get(name);
    assert.ok(other !== undefined, `${name} missing after reload`);
    assert.ok(t.equal(other), `${name} differs after reload`);
  }
}

describe('loading errors name what is wrong', () => {
  async function copyFixture(name: string): Promise<string> {
    const dir = await tempDir();
    for (const f of await readdir(fixture(name))) await copyFile(join(fixture(name), f), join(dir, f));
    return dir;
  }

  test('pickle-only folders are refused without being opened', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify(PRESETS['llama-tiny']));
    // Not a pickle at all: opening it would fail differently, so the error proves it was never read.
    await writeFile(join(dir, 'pytorch_model.bin'), 'this would run code if unpickled');
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof UnsafeCheckpointError);
      assert.match(e.message, /pytorch_model\.bin/);
      assert.match(e.message, /arbitrary code/);
      assert.match(e.message, /safetensors/);
      return true;
    });
  });

  test('an unsupported architecture is named', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ architectures: ['BertForMaskedLM'], model_type: 'bert' }));
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof UnsupportedArchitectureError);
      assert.equal(e.architecture, 'BertForMaskedLM');
      assert.match(e.message, /LlamaForCausalLM/);
      return true;
    });
  });

  test('a missing weight is named', async () => {
    const dir = await copyFixture('llama');
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
    tensors.delete('model.layers.1.mlp.up_proj.weight');
    await saveSafetensors(join(dir, 'model.safetensors'), tensors);
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof CheckpointWeightsError);
      assert.deepEqual(e.missing, ['model.layers.1.mlp.up_proj.weight']);
      assert.match(e.message, /missing weight: model\.layers\.1\.mlp\.up_proj\.weight/);
      return true;
    });
  });

  test('shape mismatches and unexpected weights are named', async () => {
    const dir = await copyFixture('llama');
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 48 }));
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
    tensors.set('model.layers.0.mlp.extra.weight', torch.zeros([2]));
    await saveSafetensors(join(dir, 'model.safetensors'), tensors);
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof CheckpointWeightsError);
      // gate/up [64, 32] and down [32, 64] in 2 layers, where intermediate_size 48 needs [48, 32] / [32, 48].
      assert.equal(e.mismatched.length, 6);
      const gate = e.mismatched.find((m) => m.name === 'model.layers.0.mlp.gate_proj.weight');
      assert.deepEqual(gate?.expected, [48, 32]);
      assert.deepEqual(gate?.found, [64, 32]);
      assert.deepEqual(e.unexpected, ['model.layers.0.mlp.extra.weight']);
      return true;
    });
  });

  test('config errors name the key before any weight is read', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...PRESETS['gpt2-tiny'], n_head: 5 }));
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => e instanceof ModelConfigError && e.key === 'n_head');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...PRESETS['llama-tiny'], rope_scaling: { rope_type: 'yarn', factor: 4 } }));
    await assert.rejects(
      AutoModelForCausalLM.fromPretrained(dir),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'rope_scaling' && /yarn/.test(e.message),
    );
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...PRESETS['llama-tiny'], hidden_size: '64' }));
    await assert.rejects(
      AutoModelForCausalLM.fromPretrained(dir),
      (e: unknown) => e instanceof ModelConfigError && e.key === 'hidden_size',
    );
    // A valid config with no weights at all.
    await writeFile(join(dir, 'config.json'), JSON.stringify(PRESETS['llama-tiny']));
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), ModelFolderError);
    await assert.rejects(AutoModelForCausalLM.fromPretrained(join(dir, 'nope')), ModelFolderError);
  });

  test('a failed load leaves no tensor behind', async () => {
    const dir = await copyFixture('llama');
    const { tensors } = await loadSafetensors(join(dir, 'model.safetensors'));
    tensors.delete('model.norm.weight');
    await saveSafetensors(join(dir, 'model.safetensors'), tensors);
    for (const t of tensors.values()) t.dispose();
    const before = torch.liveTensorCount();
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), CheckpointWeightsError);
    assert.equal(torch.liveTensorCount(), before);
  });
});

describe('padding, KV cache, modes, parameters', () => {
  const tiny = ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny', 'mistral-tiny'] as const;

  test('a right-padded batch gives each row’s own logits on its real positions', async () => {
    for (const name of [...tiny, 'fixture:mistral'] as const) {
      torch.manualSeed(7);
      const model = name === 'fixture:mistral' ? await AutoModelForCausalLM.fromPretrained(fixture('mistral')) : randomInit(PRESETS[name]);
      const rows = [
        [3, 17, 42, 9, 100, 5, 61, 8],
        [11, 12, 13],
        [90, 4, 4, 4, 27],
      ];
      const width = 8;
      const padded = ids2d(rows.map((r) => [...r, ...new Array(width - r.length).fill(0)]));
      const mask = ids2d(rows.map((r) => [...r.map(() => 1), ...new Array(width - r.length).fill(0)]));
      const batched = model.forward(padded, { attentionMask: mask });
      rows.forEach((r, i) => {
        const alone = model.forward(ids2d([r]));
        const err = relativeError(batched.select(0, i).narrow(0, 0, r.length).unsqueeze(0), alone);
        assert.ok(err <= TOLERANCE, `${name} row ${i}: relative error ${err}`);
      });
      model.dispose();
    }
  });

  test('decoding with the KV cache gives the logits of the full sequence', () => {
    for (const name of tiny) {
      torch.manualSeed(11);
      const model = randomInit(PRESETS[name]);
      const seq = [5, 9, 200, 31, 7, 7, 150, 3, 44, 18, 90, 2, 61, 61, 33, 17, 8, 1, 99, 255];
      const full = model.forward(ids2d([seq])); // [1, 20, V]
      const cache = model.newCache();
      const prefix = 6;
      const first = model.forward(ids2d([seq.slice(0, prefix)]), { cache });
      assert.ok(relativeError(first, full.narrow(1, 0, prefix)) <= TOLERANCE);
      assert.equal(cache.length, prefix);
      for (let t = prefix; t < seq.length; t++) {
        const step = model.forward(ids2d([[seq[t] as number]]), { cache });
        const err = relativeError(step, full.narrow(1, t, 1));
        assert.ok(err <= TOLERANCE, `${name} position ${t}: ${err}`);
      }
      assert.equal(cache.length, seq.length);
      cache.dispose();
      model.dispose();
    }
  });

  test('logitsToKeep computes only the last positions', () => {
    torch.manualSeed(3);
    const model = randomInit(PRESETS['llama-tiny']);
    const ids = ids2d([[1, 2, 3, 4, 5]]);
    const all = model.forward(ids);
    const last = model.forward(ids, { logitsToKeep: 2 });
    assert.deepEqual([...last.shape], [1, 2, 256]);
    assert.ok(relativeError(last, all.narrow(1, 3, 2)) <= TOLERANCE);
    model.dispose();
  });

  test('dropout acts only in training mode; models start in evaluation mode', () => {
    torch.manualSeed(5);
    const model = randomInit(PRESETS['gpt2-tiny']); // resid/embd/attn pdrop 0.1 (GPT2Config defaults)
    assert.equal(model.training, false);
    const ids = ids2d([[1, 2, 3, 4, 5, 6]]);
    const a = model.forward(ids);
    assert.ok(a.equal(model.forward(ids)), 'evaluation mode is deterministic');
    model.train();
    assert.equal(model.training, true);
    assert.ok(
      [...model.modules()].every((m) => m.training),
      'train() reaches every module',
    );
    assert.ok(!model.forward(ids).equal(model.forward(ids)), 'training mode drops activations at random');
    model.eval();
    assert.ok(a.equal(model.forward(ids)));
    model.dispose();
  });

  test('parameters carry Hugging Face names, counts and gradients', () => {
    torch.manualSeed(9);
    const gpt2 = randomInit(PRESETS['gpt2-tiny']);
    // V·C + P·C + L·(12C² + 13C) + 2C for GPT-2 (tied head): 256·64 + 128·64 + 2·(12·64² + 13·64) + 2·64.
    assert.equal(gpt2.numParameters, 256 * 64 + 128 * 64 + 2 * (12 * 64 * 64 + 13 * 64) + 2 * 64);
    const names = gpt2.namedParameters().map(([n]) => n);
    assert.equal(names[0], 'transformer.wte.weight');
    assert.ok(names.includes('transformer.h.1.attn.c_attn.weight'));
    assert.ok(!names.includes('lm_head.weight'), 'the tied head is the embedding, listed once');
    gpt2.dispose();

    const llama = randomInit(PRESETS['llama-tiny']);
    // Tied: V·C + L·(C·(H + 2·Hkv)·D + H·D·C + 3·C·I + 2C) + C with V 256, C 64, H 4, Hkv 2, D 16, I 128.
    assert.equal(llama.numParameters, 256 * 64 + 2 * (64 * (64 + 2 * 32) + 64 * 64 + 3 * 64 * 128 + 2 * 64) + 64);
    assert.deepEqual(
      llama
        .namedParameters()
        .slice(0, 4)
        .map(([n, t]) => [n, [...t.shape]]),
      [
        ['model.embed_tokens.weight', [256, 64]],
        ['model.layers.0.input_layernorm.weight', [64]],
        ['model.layers.0.self_attn.q_proj.weight', [64, 64]],
        ['model.layers.0.self_attn.k_proj.weight', [32, 64]],
      ],
    );
    // One backward pass reaches every parameter.
    const loss = torch.tidy(() => {
      const ids = ids2d([[1, 2, 3, 4, 5, 6, 7, 8]]);
      const logits = llama.forward(ids);
      const l = logits
        .narrow(1, 0, 7)
        .reshape([7, 256])
        .crossEntropy(ids.narrow(1, 1, 7).reshape([7]));
      l.backward();
      return l.item();
    });
    // Random init (std 0.02) gives nearly uniform predictions: loss ≈ ln 256 = 5.545.
    assert.ok(Math.abs(loss - Math.log(256)) < 0.05, `initial loss ${loss}`);
    for (const [name, p] of llama.namedParameters()) {
      const g = p.grad;
      assert.ok(g !== null && g.abs().sum().item() > 0, `${name} got no gradient`);
      g.dispose();
    }
    llama.dispose();
  });

  test('forward releases every intermediate tensor', () => {
    torch.manualSeed(1);
    const model = randomInit(PRESETS['qwen2-tiny']);
    const ids = ids2d([[4, 5, 6, 7]]);
    const before = torch.liveTensorCount();
    const logits = torch.noGrad(() => model.forward(ids, { attentionMask: ids2d([[1, 1, 1, 1]]) }));
    assert.equal(torch.liveTensorCount(), before + 2, 'only the logits and the mask created here remain');
    logits.dispose();
    model.dispose();
  });
});

test('forward refuses inputs that are not integer [B, T] ids', () => {
  torch.manualSeed(1);
  const model = randomInit(PRESETS['llama-tiny']);
  assert.throws(() => model.forward(torch.tensor([[1, 2, 3]])), /int64 tensor \[batch, time\]/); // float32
  assert.throws(() => model.forward(torch.tensor([1n, 2n])), /int64 tensor \[batch, time\]/); // 1-D
  model.dispose();
});

test('randomInit rejects unknown architectures and non-float dtypes', () => {
  assert.throws(() => randomInit({ model_type: 'bert' }), UnsupportedArchitectureError);
  assert.throws(() => randomInit(PRESETS['llama-tiny'], { dtype: 'int64' }), RangeError);
});
