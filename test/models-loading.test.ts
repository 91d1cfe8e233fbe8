// Load-time checks: checkpoint keys compared from the safetensors headers before any tensor data
// is read, float16 on a CPU without half-precision kernels, and whether a policy, reference and
// tokenizer fit together (checkModelCompatibility).
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  CheckpointWeightsError,
  checkModelCompatibility,
  ModelCompatibilityError,
  PRESETS,
  randomInit,
  readSafetensorsHeader,
  SafetensorsError,
  torch,
  UnsupportedDtypeError,
} from '../src/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});
async function copyFixture(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-load-'));
  scratch.push(dir);
  for (const f of await readdir(join(FIXTURES, name))) await copyFile(join(FIXTURES, name, f), join(dir, f));
  return dir;
}

/**
 * Rewrites a safetensors file's header with `extra` entries added, keeping the data section as
 * it is: 8-byte little-endian header length, the JSON header padded with spaces to a multiple
 * of 8, then the original data (the format's layout, https://github.com/huggingface/safetensors).
 */
async function addHeaderEntries(path: string, extra: Record<string, unknown>): Promise<void> {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  const data = bytes.subarray(8 + n);
  let json = JSON.stringify({ ...header, ...extra });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([length, Buffer.from(json, 'utf8'), data]));
}

describe('checkpoint keys are checked from the headers before any tensor data is read', () => {
  test('an unexpected 3 GiB tensor whose bytes lie past the end of the file is reported as unexpected, not read', async () => {
    const dir = await copyFixture('llama');
    const file = join(dir, 'model.safetensors');
    const dataLength = (await stat(file)).size - 8 - Number((await readFile(file)).readBigUInt64LE(0));
    const threeGiB = 3 * 2 ** 30;
    // F32 [768, 1024, 1024] = 3 GiB, declared after the real data; the file does not hold it.
    await addHeaderEntries(file, {
      'model.layers.0.mlp.extra.weight': {
        dtype: 'F32',
        shape: [768, 1024, 1024],
        data_offsets: [dataLength, dataLength + threeGiB],
      },
    });
    // The file really is truncated: reading its data would fail (or read 3 GiB if it were there).
    await assert.rejects(readSafetensorsHeader(file), (e: unknown) => e instanceof SafetensorsError && /truncated/.test(e.message));
    // The keys alone are readable.
    const keys = await readSafetensorsHeader(file, { checkDataLayout: false });
    assert.deepEqual(keys.tensors.get('model.layers.0.mlp.extra.weight')?.shape, [768, 1024, 1024]);
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof CheckpointWeightsError, `expected CheckpointWeightsError, got ${(e as Error).name}: ${(e as Error).message}`);
      assert.deepEqual(e.unexpected, ['model.layers.0.mlp.extra.weight']);
      assert.deepEqual(e.missing, []);
      return true;
    });
  });

  test('missing and mis-shaped keys are found from the headers too, all in one error', async () => {
    const dir = await copyFixture('qwen2'); // two shards with an index
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    // 48 instead of the checkpoint's intermediate_size 64: gate/up [48, 32] and down [32, 48] in each of 2 layers.
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 48, num_hidden_layers: 3 }));
    const before = torch.liveTensorCount();
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir), (e: unknown) => {
      assert.ok(e instanceof CheckpointWeightsError);
      assert.equal(e.mismatched.length, 6);
      // Layer 2 has 7 projections with q/k/v biases + 2 norms = 12 tensors, none in the checkpoint.
      assert.equal(e.missing.length, 12);
      assert.ok(e.missing.every((k) => k.startsWith('model.layers.2.')));
      return true;
    });
    assert.equal(torch.liveTensorCount(), before, 'nothing was loaded, nothing is left');
  });
});

describe('float16 on the CPU', () => {
  // libtorch 1.13 has no CPU kernels for half-precision matmul and layer norm; 2.x has them.
  const halfWorks = (() => {
    try {
      torch.tidy(() => torch.ones([2, 2], { dtype: 'float16' }).linear(torch.ones([2, 2], { dtype: 'float16' })));
      return true;
    } catch {
      return false;
    }
  })();

  test(`float16 ${halfWorks ? 'loads and runs (this libtorch has CPU half kernels)' : 'is refused at load time with what to use instead'}`, async () => {
    const dir = join(FIXTURES, 'gpt2');
    if (halfWorks) {
      const model = await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'float16' });
      const logits = model.forward(torch.tensor([[1, 2, 3]], { dtype: 'int64' }));
      assert.equal(logits.dtype, 'float16');
      assert.ok(Number.isFinite(logits.to('float32').abs().max().item()));
      model.dispose();
      return;
    }
    const isClear = (e: unknown) =>
      e instanceof UnsupportedDtypeError && e.dtype === 'float16' && /bfloat16/.test(e.message) && /float32/.test(e.message);
    const before = torch.liveTensorCount();
    await assert.rejects(AutoModelForCausalLM.fromPretrained(dir, { dtype: 'float16' }), isClear);
    assert.equal(torch.liveTensorCount(), before, 'refused before any weight was read');
    assert.throws(() => randomInit(PRESETS['llama-tiny'], { dtype: 'float16' }), isClear);
    // bfloat16 still works.
    const model = await AutoModelForCausalLM.fromPretrained(dir, { dtype: 'bfloat16' });
    assert.equal(model.forward(torch.tensor([[1, 2, 3]], { dtype: 'int64' })).dtype, 'bfloat16');
    model.dispose();
  });
});

describe('checkModelCompatibility', () => {
  const llama = PRESETS['llama-tiny']; // vocab 256, hidden 64
  const build = (config: Record<string, unknown>) => {
    torch.manualSeed(0);
    return randomInit(config);
  };

  test('a tokenizer with more tokens than the embedding has rows is refused, naming both sizes', async () => {
    const policy = build(llama);
    // The fixture tokenizer has 270 tokens (ids 0-269); the model 256 rows.
    const tokenizer = await AutoTokenizer.fromPretrained(join(FIXTURES, 'tokenizer-chatml'));
    assert.equal(tokenizer.vocabSize, 270);
    assert.throws(
      () => checkModelCompatibility({ policy, tokenizer }),
      (e: unknown) =>
        e instanceof ModelCompatibilityError &&
        e.problems.length === 1 &&
        /270 tokens/.test(e.message) &&
        /256 rows/.test(e.message) &&
        /resize_token_embeddings/.test(e.message),
    );
    // Without the check, id 269 fails inside libtorch at the first step.
    assert.throws(() => policy.forward(torch.tensor([[269]], { dtype: 'int64' })));
    // A tokenizer smaller than or equal to the embedding is fine (padded vocabularies).
    const padded = build({ ...llama, vocab_size: 320 });
    checkModelCompatibility({ policy: padded, tokenizer });
    checkModelCompatibility({ policy: build({ ...llama, vocab_size: 270 }), tokenizer });
    policy.dispose();
    padded.dispose();
  });

  test('a reference of another architecture, vocabulary or hidden size is refused; the same model is accepted', () => {
    const policy = build(llama);
    checkModelCompatibility({ policy, reference: build(llama), tokenizer: { vocabSize: 256 } });
    checkModelCompatibility({ policy, reference: null });
    // A reference with fewer layers but the same family, vocabulary and width is allowed.
    checkModelCompatibility({ policy, reference: build({ ...llama, num_hidden_layers: 1 }) });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['architecture', PRESETS['gpt2-tiny'], /GPT2LMHeadModel/],
      ['vocabulary', { ...llama, vocab_size: 300 }, /vocab_size 300/],
      ['hidden size', { ...llama, hidden_size: 32, intermediate_size: 64 }, /hidden size 32/],
    ];
    for (const [what, config, pattern] of cases) {
      const reference = build(config);
      assert.throws(
        () => checkModelCompatibility({ policy, reference }),
        (e: unknown) => e instanceof ModelCompatibilityError && pattern.test(e.message) && /LlamaForCausalLM/.test(e.message),
        what,
      );
      reference.dispose();
    }
    // Every problem at once: a larger tokenizer (against both models) and a different reference.
    const reference = build({ ...llama, vocab_size: 200 });
    assert.throws(
      () => checkModelCompatibility({ policy, reference, tokenizer: { vocabSize: 250 } }),
      (e: unknown) => e instanceof ModelCompatibilityError && e.problems.length === 2,
    );
    reference.dispose();
    policy.dispose();
  });
});
