// Tokenising pairs like TRL's DPOTrainer: exact ids through a hand-checkable fake tokenizer
// (test/fixtures/data/fake-tokenizer.ts: a word with its leading space is one token when in
// the vocabulary), BOS/EOS rules, chat templates, prefix failures and truncation.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  BadRowError,
  loadPreferenceDataset,
  type PreferencePair,
  RenderError,
  type TokenizedPair,
  tokenizePreferencePairs,
} from '../src/data/index.js';
import { percentiles } from '../src/data/tokenize/token-length-stats.js';
import { type TokenSides, truncatePair } from '../src/data/tokenize/truncate-pair.js';
import type { ChatMessage, ChatTemplateOptions } from '../src/tokenizers/tokenizer.js';
import { FakeTokenizer } from './fixtures/data/fake-tokenizer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);
const location = { file: 'hand', index: 0, line: 1 };

const TEXT_VOCAB = {
  '<pad>': 0,
  '<s>': 1,
  '</s>': 2,
  'Q:': 3,
  ' 2+2?': 4,
  '\n': 5,
  'A:': 6,
  ' 4': 7,
  ' 5': 8,
  Say: 20,
  Saying: 21,
  ' no': 22,
};
const CHAT_VOCAB = {
  '<pad>': 0,
  '<s>': 1,
  '</s>': 2,
  '<|im_start|>': 3,
  '<|im_end|>': 4,
  user: 5,
  assistant: 6,
  '\n': 7,
  Hi: 9,
  Hello: 11,
  Bye: 12,
  model: 13,
  'Human:': 14,
  ' Hi': 15,
  'Assistant:': 16,
  ' Hello': 17,
  ' Bye': 18,
};

/** A Llama-like text tokenizer: BOS "<s>" = 1 added by its post-processor, EOS "</s>" = 2. */
const textTokenizer = (addsBos = true) => new FakeTokenizer({ vocab: TEXT_VOCAB, bos: '<s>', eos: '</s>', pad: '<pad>', addsBos });
/** A Qwen-instruct-like chat tokenizer: ChatML template, EOS "<|im_end|>" = 4, no BOS. */
const chatTokenizer = () => new FakeTokenizer({ vocab: CHAT_VOCAB, eos: '<|im_end|>', chatTemplate: 'chatml' });

const textPair = (prompt: string, chosen: string, rejected: string): PreferencePair => ({
  kind: 'text',
  prompt,
  chosen,
  rejected,
  metadata: {},
  source: location,
});
const ids = (pair: TokenizedPair | undefined) => {
  assert.ok(pair !== undefined);
  return {
    chosen: [[...pair.chosen.prompt], [...pair.chosen.completion]],
    rejected: [[...pair.rejected.prompt], [...pair.rejected.completion]],
  };
};

describe('text rows', () => {
  test('prompt "Q: 2+2?\\nA:" → BOS + [3, 4, 5, 6]; completions " 4", " 5" → [7], [8] + EOS 2', () => {
    const result = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', ' 4', ' 5')], textTokenizer());
    assert.deepEqual(ids(result.pairs[0]), {
      chosen: [
        [1, 3, 4, 5, 6],
        [7, 2],
      ],
      rejected: [
        [1, 3, 4, 5, 6],
        [8, 2],
      ],
    });
    assert.equal(result.pairs[0]?.chosen.prompt, result.pairs[0]?.rejected.prompt, 'equal prompts share one array');
    assert.deepEqual(result.lengths, [{ prompt: 5, chosen: 2, rejected: 2 }]);
    assert.equal(result.rendering, 'text');
  });

  test('no double BOS: a prompt that starts with "<s>" keeps that one BOS', () => {
    const result = tokenizePreferencePairs([textPair('<s>Q: 2+2?\nA:', ' 4', ' 5')], textTokenizer());
    assert.deepEqual(ids(result.pairs[0]).chosen[0], [1, 3, 4, 5, 6]);
  });

  test('a tokenizer whose post-processor adds no BOS gets none: prompt [3, 4, 5, 6]', () => {
    const result = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', ' 4', ' 5')], textTokenizer(false));
    assert.deepEqual(ids(result.pairs[0]).chosen[0], [3, 4, 5, 6]);
  });

  test('EOS is appended only when missing: " 4</s>" → [7, 2]; " 4</s>\\n" → [7, 2, 5] (trailing newline looked through)', () => {
    const result = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', ' 4</s>', ' 4</s>\n')], textTokenizer());
    assert.deepEqual(ids(result.pairs[0]).chosen[1], [7, 2]);
    assert.deepEqual(ids(result.pairs[0]).rejected[1], [7, 2, 5]);
  });

  test('a token merged across the boundary ("Say" + "ing" = "Saying") belongs to the completion', () => {
    // tokens("Say") = [20], tokens("Saying") = [21]: common prefix 0, so chosen's prompt is only the BOS.
    const result = tokenizePreferencePairs([textPair('Say', 'ing', ' no')], textTokenizer());
    assert.deepEqual(ids(result.pairs[0]), {
      chosen: [[1], [21, 2]],
      rejected: [
        [1, 20],
        [22, 2],
      ],
    });
    assert.equal(result.report.count('prompt_tokens_merged'), 1);
  });

  test('an empty completion is trained as its EOS alone; without an EOS it has no token and is dropped', () => {
    const withEos = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', '', ' 5')], textTokenizer());
    assert.deepEqual(ids(withEos.pairs[0]).chosen[1], [2]);
    const noEos = new FakeTokenizer({ vocab: TEXT_VOCAB });
    const dropped = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', '', ' 5')], noEos);
    assert.equal(dropped.pairs.length, 0);
    assert.equal(dropped.report.count('no_completion_tokens'), 1);
  });
});

describe('chat rows', () => {
  // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n" = [3, 5, 7, 9, 4, 7, 3, 6, 7];
  // the whole chosen dialogue adds "Hello<|im_end|>\n" = [11, 4, 7]; rejected "Bye…" = [12, 4, 7].
  const PROMPT = [3, 5, 7, 9, 4, 7, 3, 6, 7];
  for (const name of [
    'conversational.jsonl',
    'conversational_implicit.jsonl',
    'hh-rlhf.jsonl',
    'hh-rlhf-explicit.jsonl',
    'ultrafeedback.jsonl',
  ]) {
    test(`${name} through ChatML: prompt ${JSON.stringify(PROMPT)}, completions [11, 4, 7] and [12, 4, 7] (EOS 4 already there)`, async () => {
      const dataset = await loadPreferenceDataset(fixture(name));
      const result = tokenizePreferencePairs(dataset.pairs, chatTokenizer());
      assert.equal(result.rendering, 'chat_template');
      assert.deepEqual(ids(result.pairs[0]), {
        chosen: [PROMPT, [11, 4, 7]],
        rejected: [PROMPT, [12, 4, 7]],
      });
      assert.deepEqual(result.report.kinds(), []);
    });
  }

  test('enable_thinking reaches the chat template: false puts the empty think block at the end of the prompt, completions unchanged', async () => {
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    const plain = tokenizePreferencePairs(dataset.pairs, chatTokenizer());
    const thinkOff = tokenizePreferencePairs(dataset.pairs, chatTokenizer(), { enable_thinking: false });
    const a = ids(plain.pairs[0]);
    const b = ids(thinkOff.pairs[0]);
    // The fake tokenizer writes "<think>\n\n</think>\n\n" one id per character: 19 more prompt ids.
    const [promptA, promptB] = [a.chosen[0] as number[], b.chosen[0] as number[]];
    assert.equal(promptB.length, promptA.length + '<think>\n\n</think>\n\n'.length);
    assert.deepEqual(promptB.slice(0, PROMPT.length), PROMPT);
    assert.deepEqual(b.chosen[1], [11, 4, 7]);
    assert.deepEqual(b.rejected[1], [12, 4, 7]);
    assert.deepEqual(thinkOff.report.kinds(), []);
    assert.deepEqual(ids(tokenizePreferencePairs(dataset.pairs, chatTokenizer(), { enable_thinking: true }).pairs[0]), a);
  });

  test('an EOS that the template does not write ("</s>" = 2) is appended after "<|im_end|>\\n": [11, 4, 7, 2]', async () => {
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    const tokenizer = new FakeTokenizer({ vocab: CHAT_VOCAB, eos: '</s>', chatTemplate: 'chatml' });
    assert.deepEqual(ids(tokenizePreferencePairs(dataset.pairs, tokenizer).pairs[0]).chosen[1], [11, 4, 7, 2]);
  });

  test('a template that writes BOS itself gets exactly one BOS, even when the post-processor would add one', async () => {
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    const tokenizer = new FakeTokenizer({ vocab: CHAT_VOCAB, bos: '<s>', eos: '<|im_end|>', addsBos: true, chatTemplate: 'chatml-bos' });
    assert.deepEqual(ids(tokenizePreferencePairs(dataset.pairs, tokenizer).pairs[0]).chosen[0], [1, ...PROMPT]);
  });

  test('a template whose prompt is not a prefix of the dialogue: the split falls at the longest common token prefix', async () => {
    // Prompt text ends "<|im_start|>assistant\n", the dialogue has "<|im_start|>model\nHello…": tokens agree up to the 2nd "<|im_start|>".
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    const tokenizer = new FakeTokenizer({ vocab: CHAT_VOCAB, eos: '<|im_end|>', chatTemplate: 'mismatched' });
    const result = tokenizePreferencePairs(dataset.pairs, tokenizer);
    assert.deepEqual(ids(result.pairs[0]).chosen, [
      [3, 5, 7, 9, 4, 7, 3],
      [13, 7, 11, 4, 7],
    ]);
    assert.equal(result.report.count('template_not_prefix'), 1);
  });

  test('HH-RLHF without a chat template is tokenised from its transcript: prompt "\\n\\nHuman: Hi\\n\\nAssistant:"', async () => {
    const dataset = await loadPreferenceDataset(fixture('hh-rlhf.jsonl'));
    const tokenizer = new FakeTokenizer({ vocab: CHAT_VOCAB, bos: '<s>', eos: '</s>', addsBos: true });
    const result = tokenizePreferencePairs(dataset.pairs, tokenizer);
    assert.equal(result.rendering, 'transcript');
    assert.deepEqual(ids(result.pairs[0]), {
      chosen: [
        [1, 7, 7, 14, 15, 7, 7, 16],
        [17, 2],
      ],
      rejected: [
        [1, 7, 7, 14, 15, 7, 7, 16],
        [18, 2],
      ],
    });
  });

  test('other chat rows without a chat template: a RenderError that says what to do', async () => {
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    assert.throws(
      () => tokenizePreferencePairs(dataset.pairs, new FakeTokenizer({ vocab: CHAT_VOCAB })),
      (e: unknown) => e instanceof RenderError && /no chat template.*use the chat\/instruct model's tokenizer/.test(e.message),
    );
  });

  test('a dialogue the template rejects is a bad row: an error by default, counted under on_bad_row: skip', async () => {
    class Strict extends FakeTokenizer {
      override applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string {
        if (messages.some((m) => m.content === 'Bye')) throw new Error('Conversation roles must alternate');
        return super.applyChatTemplate(messages, options);
      }
    }
    const dataset = await loadPreferenceDataset(fixture('conversational.jsonl'));
    const tokenizer = new Strict({ vocab: CHAT_VOCAB, eos: '<|im_end|>', chatTemplate: 'chatml' });
    assert.throws(
      () => tokenizePreferencePairs(dataset.pairs, tokenizer),
      (e: unknown) =>
        e instanceof BadRowError &&
        /conversational\.jsonl:1: the chat template cannot render this dialogue \(Conversation roles must alternate\)/.test(e.message),
    );
    const skipped = tokenizePreferencePairs(dataset.pairs, tokenizer, { on_bad_row: 'skip' });
    assert.equal(skipped.pairs.length, 0);
    assert.equal(skipped.report.count('bad_row'), 1);
  });
});

describe('truncation', () => {
  // Prompt: BOS 1 + six tokens 10..15 (7); chosen 4 tokens ending in EOS 2; rejected 2.
  const sides = (): TokenSides => ({
    chosen: { prompt: [1, 10, 11, 12, 13, 14, 15], completion: [20, 21, 22, 2] },
    rejected: { prompt: [1, 10, 11, 12, 13, 14, 15], completion: [30, 2] },
  });
  const limits = (maxLength: number | null, maxPromptLength: number | null, mode: 'keep_end' | 'keep_start') => ({
    maxLength,
    maxPromptLength,
    truncationMode: mode,
    bos: 1,
  });

  test('keep_end: 7 + 4 > 8, so the prompt keeps BOS and its last 3 tokens [1, 13, 14, 15]; completions fit', () => {
    const s = sides();
    assert.deepEqual(truncatePair(s, limits(8, 4, 'keep_end')), { notes: ['truncated_prompt'], dropped: null });
    assert.deepEqual(s.chosen.prompt, [1, 13, 14, 15]);
    assert.deepEqual(s.rejected.prompt, [1, 13, 14, 15]);
    assert.deepEqual(s.chosen.completion, [20, 21, 22, 2]);
  });

  test('keep_start: the prompt keeps its first 4 tokens [1, 10, 11, 12]', () => {
    const s = sides();
    truncatePair(s, limits(8, 4, 'keep_start'));
    assert.deepEqual(s.chosen.prompt, [1, 10, 11, 12]);
  });

  test('keep_end without a BOS keeps the last 4 tokens', () => {
    const s = sides();
    s.chosen.prompt = s.chosen.prompt.slice(1);
    truncatePair(s, limits(8, 4, 'keep_end'));
    assert.deepEqual(s.chosen.prompt, [12, 13, 14, 15]);
  });

  test('max_length 6: after the prompt cut to 4, chosen keeps its first 6 − 4 = 2 tokens [20, 21] (EOS cut); rejected fits', () => {
    const s = sides();
    assert.deepEqual(truncatePair(s, limits(6, 4, 'keep_end')), { notes: ['truncated_prompt', 'truncated_completion'], dropped: null });
    assert.deepEqual(s.chosen.completion, [20, 21]);
    assert.deepEqual(s.rejected.completion, [30, 2]);
  });

  test('a pair that fits max_length is not cut, though its prompt (7) exceeds max_prompt_length (4)', () => {
    const s = sides();
    assert.deepEqual(truncatePair(s, limits(11, 4, 'keep_end')), { notes: [], dropped: null });
    assert.equal(s.chosen.prompt.length, 7);
  });

  test('max_prompt_length null and a prompt filling max_length 7: completions truncated to nothing, the pair is dropped', () => {
    assert.deepEqual(truncatePair(sides(), limits(7, null, 'keep_end')), {
      notes: ['truncated_completion'],
      dropped: 'completion_truncated_to_nothing',
    });
  });

  test('through tokenizePreferencePairs: one pair cut (prompt and completion), counted; lengths are before the cut', () => {
    // "Q: 2+2?\nA:" = BOS + 4 tokens; completion " 4 4 4" = 3 × [7] + EOS = 4 tokens; 5 + 4 > 6.
    const result = tokenizePreferencePairs([textPair('Q: 2+2?\nA:', ' 4 4 4', ' 5')], textTokenizer(), {
      max_length: 6,
      max_prompt_length: 3,
    });
    assert.deepEqual(ids(result.pairs[0]), {
      chosen: [
        [1, 5, 6],
        [7, 7, 7],
      ],
      rejected: [
        [1, 5, 6],
        [8, 2],
      ],
    });
    assert.deepEqual(result.lengths, [{ prompt: 5, chosen: 4, rejected: 2 }]);
    assert.equal(result.report.count('truncated_prompt'), 1);
    assert.equal(result.report.count('truncated_completion'), 1);
  });
});

describe('length statistics', () => {
  test('nearest-rank percentiles of 1..10: p50 = 5, p90 = 9, p95 = 10, p99 = 10, p100 = 10', () => {
    assert.deepEqual(percentiles([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), { p50: 5, p90: 9, p95: 10, p99: 10, p100: 10 });
  });
});
