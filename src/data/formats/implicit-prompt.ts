// The prompt of an implicit-prompt row: the longest common prefix of chosen and rejected, by
// messages or by characters.
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import { messagesEqual } from './chat-messages.js';

/** Number of leading messages that chosen and rejected share (equal role and content). */
export function commonMessagePrefix(chosen: readonly ChatMessage[], rejected: readonly ChatMessage[]): number {
  let k = 0;
  while (k < chosen.length && k < rejected.length && messagesEqual(chosen[k] as ChatMessage, rejected[k] as ChatMessage)) k += 1;
  return k;
}

const isWhitespace = (c: string | undefined) => c !== undefined && /\s/u.test(c);

/**
 * Where a text pair's prompt ends: the largest k ≤ p (p = longest common character prefix) such
 * that k = 0, or the prompt's last character text[k−1] is not whitespace and each text either
 * ends at k or has whitespace at k. So the cut falls at the start of a whitespace run, never
 * inside a word, and the completions start with their whitespace (" yes" / " yellow", not
 * "s" / "llow" after a prompt ending in "ye").
 *
 * Why: a shared partial word would end the prompt on a token fragment the model never sees
 * before a completion, and byte-pair tokenizers attach leading whitespace to the next word, so
 * a cut before the whitespace keeps tokens(prompt) a prefix of tokens(prompt + completion).
 * TRL's extract_prompt moves back over one space only and can split words.
 */
export function textPromptBoundary(chosen: string, rejected: string): number {
  let p = 0;
  const limit = Math.min(chosen.length, rejected.length);
  while (p < limit && chosen.charCodeAt(p) === rejected.charCodeAt(p)) p += 1;
  const atBoundary = (text: string, k: number) => k === text.length || isWhitespace(text[k]);
  for (let k = p; k > 0; k--) {
    if (!isWhitespace(chosen[k - 1]) && atBoundary(chosen, k) && atBoundary(rejected, k)) return k;
  }
  return 0;
}
