// Greedy decoding with the KV cache against transformers' own generate() on the architecture
// fixtures (Qwen3, Phi-3 with and without LongRoPE, OLMo 2, Gemma 2 and 3; written by
// scripts/fixtures/gen_hf_archs.py, continuations by scripts/fixtures/gen_hf_greedy.py with
// transformers 5.18, float32, eager attention): the same 12 tokens for each of two prompts.
// LongRoPE models are compared without the KV cache on both sides: switching from short to long
// factors once the sequence passes original_max_position_embeddings leaves cached keys rotated
// with the old factors (transformers does the same), so only the uncached decoding is the model's
// own definition.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, generate } from '../src/index.js';

const ARCHS = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hf-archs');
const expected = JSON.parse(readFileSync(join(ARCHS, 'greedy.json'), 'utf8')) as {
  transformers: string;
  prompts: number[][];
  new_tokens: number;
  models: Record<string, number[][]>;
};

describe(`greedy generation equals transformers ${expected.transformers}`, () => {
  for (const [name, continuations] of Object.entries(expected.models)) {
    test(`${name}: ${expected.prompts.length} prompts × ${expected.new_tokens} tokens, token for token`, async () => {
      const model = await AutoModelForCausalLM.fromPretrained(join(ARCHS, 'transformers-5', name));
      try {
        expected.prompts.forEach((prompt, i) => {
          const useCache = !name.includes('longrope');
          const out = generate(model, [prompt], { maxNewTokens: expected.new_tokens, doSample: false, eosTokenId: null, useCache });
          assert.deepEqual(out.tokens[0], continuations[i], `prompt ${i}`);
        });
      } finally {
        model.dispose();
      }
    });
  }
});
