// What the BOS and EOS rules need to know about a tokenizer, read once from it.
import type { Tokenizer } from '../../tokenizers/tokenizer.js';

export interface BosEosFacts {
  bos: number | null;
  eos: number | null;
  /** Whether the tokenizer's own post-processor puts BOS first (Llama, Mistral, Gemma: yes; GPT-2, Qwen: no). */
  addsBos: boolean;
  /** Whether token `id` decodes to whitespace only (such trailing tokens are skipped when looking for an EOS). */
  isWhitespace(id: number): boolean;
}

/** Probes `tokenizer` by encoding one letter with and without special tokens. */
export function bosEosFacts(tokenizer: Tokenizer): BosEosFacts {
  const bos = tokenizer.bosTokenId;
  const withSpecials = tokenizer.encode('a', { addSpecialTokens: true });
  const without = tokenizer.encode('a', { addSpecialTokens: false });
  const addsBos = bos !== null && withSpecials[0] === bos && without[0] !== bos;
  const whitespace = new Map<number, boolean>();
  return {
    bos,
    eos: tokenizer.eosTokenId,
    addsBos,
    isWhitespace(id: number): boolean {
      let known = whitespace.get(id);
      if (known === undefined) {
        const text = tokenizer.decode([id], { skipSpecialTokens: false });
        known = text.length > 0 && text.trim() === '';
        whitespace.set(id, known);
      }
      return known;
    },
  };
}

/** Whether `completion` already ends with EOS, ignoring trailing whitespace tokens (ChatML's "<|im_end|>\n"). */
export function endsWithEos(completion: readonly number[], facts: BosEosFacts): boolean {
  for (let i = completion.length - 1; i >= 0; i--) {
    const id = completion[i] as number;
    if (id === facts.eos) return true;
    if (!facts.isWhitespace(id)) return false;
  }
  return false;
}
