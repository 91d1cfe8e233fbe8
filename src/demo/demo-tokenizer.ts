// The demo's tokenizer: one token per letter, "=" ending the prompt, and the special tokens
// <pad>, <s> (BOS), </s> (EOS), <unk>. It is written as a Hugging Face tokenizer.json (WordLevel
// model over whitespace-split words, BOS added by a TemplateProcessing post-processor) plus
// tokenizer_config.json, and read back with AutoTokenizer, so a saved demo model is a complete
// Hugging Face folder that transformers' AutoTokenizer also loads.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { LETTERS } from './letter-sort-task.js';

const SPECIAL_TOKENS = ['<pad>', '<s>', '</s>', '<unk>'] as const;
/** The token that ends every prompt: the response starts after it. */
export const ANSWER_MARK = '=';

/** The vocabulary in id order: special tokens, the answer mark, then the letters. */
export const DEMO_VOCAB: readonly string[] = [...SPECIAL_TOKENS, ANSWER_MARK, ...LETTERS];

/** Ids the demo's code uses directly. */
export const DEMO_IDS = {
  pad: 0,
  bos: 1,
  eos: 2,
  answerMark: DEMO_VOCAB.indexOf(ANSWER_MARK),
  /** Id of LETTERS[0]; letter i has id firstLetter + i. */
  firstLetter: DEMO_VOCAB.indexOf(LETTERS[0]),
} as const;

function addedToken(content: string, id: number): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** tokenizer.json contents. */
export function demoTokenizerJson(): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, id) => addedToken(t, id)),
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [DEMO_IDS.bos], tokens: ['<s>'] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(DEMO_VOCAB.map((t, id) => [t, id])), unk_token: '<unk>' },
  };
}

/** tokenizer_config.json contents. */
export function demoTokenizerConfig(): Record<string, unknown> {
  return {
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    tokenizer_class: 'PreTrainedTokenizerFast',
    clean_up_tokenization_spaces: false,
    model_max_length: 64,
  };
}

/** Writes the two files into `dir` (created if needed) and loads them with AutoTokenizer. */
export async function createDemoTokenizer(dir: string): Promise<AutoTokenizer> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(demoTokenizerJson(), null, 1)}\n`);
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(demoTokenizerConfig(), null, 1)}\n`);
  return AutoTokenizer.fromPretrained(dir);
}
