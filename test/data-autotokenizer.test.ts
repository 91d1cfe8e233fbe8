// The data layer through the real AutoTokenizer (src/tokenizers) on a small byte-level BPE
// tokenizer folder written by scripts/fixtures/gen_data_fixtures.py: single bytes have their
// byte value as id ("u" = 117, "\n" = 10, " " = 32), merges give "Hi" = 256, "Hello" = 260,
// "Bye" = 262; "<|im_start|>" = 263, EOS "<|im_end|>" = 264, BOS "<s>" = 265 (added by the
// post-processor and written by the ChatML template).
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPreferenceDataset, tokenizePreferencePairs } from '../src/data/index.js';
import { AutoTokenizer } from '../src/tokenizers/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const tokenizer = await AutoTokenizer.fromPretrained(join(FIXTURES, 'tokenizer-chatml'));

const USER = [117, 115, 101, 114]; // "user"
const ASSISTANT = [97, 115, 115, 105, 115, 116, 97, 110, 116]; // "assistant"

test('conversational row through the ChatML template: one BOS, the generation prompt in the prompt, no extra EOS', async () => {
  const dataset = await loadPreferenceDataset(join(FIXTURES, 'conversational.jsonl'));
  const result = tokenizePreferencePairs(dataset.pairs, tokenizer);
  // "<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
  const prompt = [265, 263, ...USER, 10, 256, 264, 10, 263, ...ASSISTANT, 10];
  const pair = result.pairs[0];
  assert.deepEqual([...(pair?.chosen.prompt ?? [])], prompt);
  assert.deepEqual([...(pair?.chosen.completion ?? [])], [260, 264, 10]); // "Hello<|im_end|>\n"
  assert.deepEqual([...(pair?.rejected.completion ?? [])], [262, 264, 10]); // "Bye<|im_end|>\n"
  assert.deepEqual(result.report.kinds(), []);
});

test('text row: the post-processor BOS once, " Hello" = [32, 260] and EOS 264 appended', async () => {
  const pairs = [
    { kind: 'text' as const, prompt: 'Hi', chosen: ' Hello', rejected: ' Bye', metadata: {}, source: { file: 'hand', index: 0, line: 1 } },
  ];
  const result = tokenizePreferencePairs(pairs, tokenizer);
  assert.deepEqual([...(result.pairs[0]?.chosen.prompt ?? [])], [265, 256]);
  assert.deepEqual([...(result.pairs[0]?.chosen.completion ?? [])], [32, 260, 264]);
  assert.deepEqual([...(result.pairs[0]?.rejected.completion ?? [])], [32, 262, 264]);
});
