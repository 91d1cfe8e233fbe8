// Generation: greedy against the PyTorch reference's full-recomputation greedy decode
// (test/fixtures/models/*.expected.safetensors, from scripts/fixtures/gen_models.py), the KV
// cache against full recomputation, left-padded batches against single rows, the warpers on
// numbers worked out by hand, seeding, EOS and stop strings.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateText } from '../src/generation/generate.js';
import { warpLogits } from '../src/generation/logits-warpers.js';
import { AutoModelForCausalLM, AutoTokenizer, generate, loadSafetensors, PRESETS, randomInit, torch } from '../src/index.js';
import { SeededRandom } from '../src/random/seeded-random.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');

describe('greedy decoding', () => {
  for (const name of ['gpt2', 'llama', 'llama-gqa-llama3', 'qwen2', 'mistral']) {
    test(`${name}: the reference's 6 greedy tokens, with and without the KV cache`, async () => {
      const model = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, name));
      const { tensors } = await loadSafetensors(join(FIXTURES, `${name}.expected.safetensors`));
      const prompt = (tensors.get('greedy_prompt') as torch.Tensor).toNumbers();
      const want = (tensors.get('greedy_tokens') as torch.Tensor).toNumbers();
      for (const useCache of [true, false]) {
        const out = generate(model, [prompt], { maxNewTokens: 6, eosTokenId: null, useCache });
        assert.deepEqual(out.tokens, [want], `useCache ${useCache}`);
        assert.deepEqual(out.finishReasons, ['length']);
      }
      model.dispose();
    });
  }

  test('a left-padded batch generates what each prompt generates alone', () => {
    for (const preset of ['gpt2-tiny', 'llama-tiny', 'qwen2-tiny', 'mistral-tiny'] as const) {
      torch.manualSeed(21);
      const model = randomInit(PRESETS[preset]);
      const prompts = [[5, 80, 3, 19, 201, 7, 7, 42, 9, 100, 11, 250], [17], [44, 45, 46, 47, 48]];
      const alone = prompts.map((p) => generate(model, [p], { maxNewTokens: 12, eosTokenId: null }).tokens[0]);
      for (const useCache of [true, false]) {
        const batched = generate(model, prompts, { maxNewTokens: 12, eosTokenId: null, useCache });
        assert.deepEqual(batched.tokens, alone, `${preset}, useCache ${useCache}`);
      }
      model.dispose();
    }
  });

  test('an EOS id ends its row (and is returned); other rows go on', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(join(FIXTURES, 'llama'));
    const { tensors } = await loadSafetensors(join(FIXTURES, 'llama.expected.safetensors'));
    const prompt = (tensors.get('greedy_prompt') as torch.Tensor).toNumbers();
    const want = (tensors.get('greedy_tokens') as torch.Tensor).toNumbers();
    const eos = want[2] as number;
    const stop = want.indexOf(eos); // the first time the reference emits that id
    const out = generate(model, [prompt, [1, 2, 3]], { maxNewTokens: 6, eosTokenId: eos });
    assert.deepEqual(out.tokens[0], want.slice(0, stop + 1));
    assert.equal(out.finishReasons[0], 'eos');
    assert.ok((out.tokens[1] as number[]).length > 0);
    model.dispose();
  });

  test('the model config’s eos_token_id is the default EOS', () => {
    torch.manualSeed(4);
    const model = randomInit({ ...PRESETS['llama-tiny'], eos_token_id: 0 });
    const first = (generate(model, [[9, 8, 7]], { maxNewTokens: 5, eosTokenId: null }).tokens[0] as number[])[0] as number;
    torch.manualSeed(4); // same weights, EOS set to the token greedy decoding emits first
    const same = randomInit({ ...PRESETS['llama-tiny'], eos_token_id: first });
    const out = generate(same, [[9, 8, 7]], { maxNewTokens: 5 });
    assert.deepEqual(out.tokens, [[first]]);
    assert.deepEqual(out.finishReasons, ['eos']);
    model.dispose();
    same.dispose();
  });
});

describe('sampling', () => {
  test('warpers: temperature, top-k (ties kept) and top-p on worked numbers', () => {
    const scores = torch.tensor([[1, 2, 3, 4]]);
    assert.deepEqual(warpLogits(scores, { temperature: 2, topK: 0, topP: 1 }).toNumbers(), [0.5, 1, 1.5, 2]);
    const inf = Number.NEGATIVE_INFINITY;
    assert.deepEqual(warpLogits(scores, { temperature: 1, topK: 2, topP: 1 }).toNumbers(), [inf, inf, 3, 4]);
    assert.deepEqual(warpLogits(torch.tensor([[1, 3, 3, 4]]), { temperature: 1, topK: 2, topP: 1 }).toNumbers(), [inf, 3, 3, 4]);
    // softmax([1, 2, 3, 4]) = [0.032, 0.087, 0.237, 0.644]; ascending cumulative [0.032, 0.119, 0.356, 1].
    // top_p 0.7 removes cumulative ≤ 0.3: the two smallest. top_p 0.5 removes ≤ 0.5: all but the largest.
    assert.deepEqual(warpLogits(scores, { temperature: 1, topK: 0, topP: 0.7 }).toNumbers(), [inf, inf, 3, 4]);
    assert.deepEqual(warpLogits(scores, { temperature: 1, topK: 0, topP: 0.5 }).toNumbers(), [inf, inf, inf, 4]);
    // The most likely token is always kept.
    assert.deepEqual(warpLogits(scores, { temperature: 1, topK: 0, topP: 1e-9 }).toNumbers(), [inf, inf, inf, 4]);
  });

  test('seeded sampling is reproducible, cache or not; seeds and rows differ', () => {
    torch.manualSeed(8);
    const model = randomInit(PRESETS['gpt2-tiny']);
    const opts = { maxNewTokens: 16, doSample: true, temperature: 1.5, topK: 0, eosTokenId: null };
    const a = generate(model, [[1, 2, 3]], { ...opts, seed: 123 });
    assert.deepEqual(generate(model, [[1, 2, 3]], { ...opts, seed: 123 }).tokens, a.tokens);
    assert.deepEqual(generate(model, [[1, 2, 3]], { ...opts, seed: 123, useCache: false }).tokens, a.tokens);
    assert.notDeepEqual(generate(model, [[1, 2, 3]], { ...opts, seed: 124 }).tokens, a.tokens);
    // Row r draws from stream (seed, r): row 0 of a batch matches the prompt alone.
    const batch = generate(
      model,
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      { ...opts, seed: 123 },
    );
    assert.deepEqual(batch.tokens[0], a.tokens[0]);
    assert.notDeepEqual(batch.tokens[1], a.tokens[0]);
    model.dispose();
  });

  test('top-k 1 sampling is greedy', () => {
    torch.manualSeed(2);
    const model = randomInit(PRESETS['qwen2-tiny']);
    const greedy = generate(model, [[4, 5, 6]], { maxNewTokens: 10, eosTokenId: null });
    const topK1 = generate(model, [[4, 5, 6]], { maxNewTokens: 10, eosTokenId: null, doSample: true, topK: 1, seed: 99 });
    assert.deepEqual(topK1.tokens, greedy.tokens);
    model.dispose();
  });

  test('SeededRandom: uniform in [0, 1), reproducible per (seed, stream)', () => {
    const a = SeededRandom.forStream(42, 0);
    const draws = Array.from({ length: 20000 }, () => a.next());
    assert.ok(draws.every((x) => x >= 0 && x < 1));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    // Uniform: mean 1/2, standard error √(1/12/20000) ≈ 0.002.
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    const b = SeededRandom.forStream(42, 0);
    assert.deepEqual(
      Array.from({ length: 5 }, () => b.next()),
      draws.slice(0, 5),
    );
    const c = SeededRandom.forStream(42, 1);
    assert.notEqual(c.next(), draws[0]);
  });
});

describe('text generation', () => {
  test('stop strings end a row and cut its text; chat prompts use the template', async () => {
    const tokenizer = await AutoTokenizer.fromPretrained(join(FIXTURES, 'tokenizer-chatml'));
    torch.manualSeed(13);
    const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: tokenizer.vocabSize, eos_token_id: 268 });
    const sampling = { maxNewTokens: 12, eosTokenId: null, doSample: true, seed: 3 };
    const free = generateText(model, tokenizer, ['hello'], sampling)[0];
    assert.ok(free !== undefined && free.tokens.length === 12);
    // A stop string made of the 4th and 5th generated tokens' text stops the row after the 5th.
    const stop = tokenizer.decode(free.tokens.slice(3, 5));
    const upTo = tokenizer.decode(free.tokens.slice(0, 5));
    assert.equal(stop, 'Lv', 'seed 13 / sampling seed 3 generate "Lv" there (bytes 76, 118)');
    assert.ok(!tokenizer.decode(free.tokens.slice(0, 4)).includes(stop));
    const cut = generateText(model, tokenizer, ['hello'], { ...sampling, stopStrings: [stop] })[0];
    assert.equal(cut?.finishReason, 'stop_string');
    assert.deepEqual(cut?.tokens, free.tokens.slice(0, 5));
    assert.equal(cut?.text, upTo.slice(0, upTo.indexOf(stop) + stop.length));
    // --chat: the prompt is the template's user turn plus the assistant opening, one BOS.
    const chat = generateText(model, tokenizer, ['hello'], { maxNewTokens: 3, eosTokenId: null, chat: true })[0];
    const ids = tokenizer.encodeChat([{ role: 'user', content: 'hello' }], { addGenerationPrompt: true });
    assert.deepEqual(chat?.tokens, generate(model, [ids], { maxNewTokens: 3, eosTokenId: null }).tokens[0]);
    model.dispose();
  });

  test('bad options are refused with the option named', () => {
    torch.manualSeed(1);
    const model = randomInit(PRESETS['llama-tiny']);
    assert.throws(() => generate(model, [[1]], { temperature: 0 }), /temperature/);
    assert.throws(() => generate(model, [[1]], { topP: 1.5 }), /topP/);
    assert.throws(() => generate(model, [[]]), /empty/);
    assert.throws(() => generate(model, [[999]]), /vocabulary/);
    assert.throws(() => generate(model, [[1]], { stopStrings: ['x'] }), /tokenizer/);
    model.dispose();
  });
});
