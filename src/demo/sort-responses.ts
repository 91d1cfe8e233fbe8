// Between token ids and the task's prompts and responses.
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { DEMO_IDS } from './demo-tokenizer.js';
import { LETTERS, lettersText, promptText, type SortPrompt, type SortResponse } from './letter-sort-task.js';

/** Marks a generated token that is not a letter (BOS, PAD, "=", <unk>): it counts toward the length and never matches. */
export const NOT_A_LETTER = -1;

/** Prompt ids as the tokenizer writes them: BOS, the letters, "=". */
export function encodePrompt(tokenizer: Tokenizer, prompt: SortPrompt): number[] {
  return tokenizer.encode(promptText(prompt));
}

/** Completion ids of a response: its letters, then EOS. */
export function encodeCompletion(tokenizer: Tokenizer, letters: readonly number[]): number[] {
  const ids = letters.length === 0 ? [] : tokenizer.encode(lettersText(letters), { addSpecialTokens: false });
  return [...ids, DEMO_IDS.eos];
}

/** A generated token sequence (EOS last when the model ended it) as a response. */
export function responseFromTokens(tokens: readonly number[]): SortResponse {
  const finished = tokens.length > 0 && tokens[tokens.length - 1] === DEMO_IDS.eos;
  const body = finished ? tokens.slice(0, -1) : tokens;
  return {
    letters: body.map((id) => {
      const letter = id - DEMO_IDS.firstLetter;
      return letter >= 0 && letter < LETTERS.length ? letter : NOT_A_LETTER;
    }),
    finished,
  };
}
