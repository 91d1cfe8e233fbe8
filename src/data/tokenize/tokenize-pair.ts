// One pair to token ids, like TRL 0.8.6's DPOTrainer.build_tokenized_answer: each side is the
// tokens of the whole rendered sequence, split where it stops agreeing with the tokens of the
// rendered prompt. Then BOS (text only), EOS and truncation.
//
// - Prompt/completion boundary: k = the longest common prefix of tokens(prompt) and
//   tokens(prompt + completion). Normally k = |tokens(prompt)|; when a token merged across the
//   boundary (prompt_tokens_merged) or the template renders the prompt differently inside the
//   whole dialogue (template_not_prefix), k is smaller and the trained sequence is still exactly
//   tokens(prompt + completion), with the disagreeing tokens counted as completion.
// - BOS: text rows get the tokenizer's BOS first when its post-processor adds one and the text
//   does not already start with it (never two). Chat-template rows are encoded without special
//   tokens, as transformers' apply_chat_template(tokenize=True) does: the template writes its own BOS.
// - EOS: appended to a completion that does not already end with it (trailing whitespace tokens
//   such as ChatML's "\n" after "<|im_end|>" are looked through).
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { OddRowKind } from '../odd-row-kinds.js';
import { type BosEosFacts, endsWithEos } from './bos-eos-facts.js';
import type { RenderedPair } from './render-pair.js';
import type { PairTokenLengths } from './tokenized-pair.js';
import type { TokenSides } from './truncate-pair.js';

export interface PairTokens {
  sides: TokenSides;
  /** Lengths before truncation. */
  lengths: PairTokenLengths;
  /** Kept kinds that applied (prompt_tokens_merged, template_not_prefix). */
  notes: OddRowKind[];
  /** 'no_completion_tokens' when a side has no completion token at all, else null. */
  dropped: OddRowKind | null;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k += 1;
  return k;
}

export function tokenizePair(rendered: RenderedPair, tokenizer: Tokenizer, specials: BosEosFacts): PairTokens {
  const notes = new Set<OddRowKind>();
  const promptIds = tokenizer.encode(rendered.prompt, { addSpecialTokens: false });
  const addBos = rendered.rendering !== 'chat_template' && specials.addsBos && specials.bos !== null;
  const side = (full: string) => {
    const fullIds = tokenizer.encode(full, { addSpecialTokens: false });
    const k = commonPrefixLength(promptIds, fullIds);
    if (!full.startsWith(rendered.prompt)) notes.add('template_not_prefix');
    else if (k < promptIds.length) notes.add('prompt_tokens_merged');
    const prompt = fullIds.slice(0, k);
    const completion = fullIds.slice(k);
    if (addBos && prompt[0] !== specials.bos) prompt.unshift(specials.bos as number);
    if (specials.eos !== null && !endsWithEos(completion, specials)) completion.push(specials.eos);
    return { prompt, completion };
  };
  const chosen = side(rendered.chosen);
  const rejected = side(rendered.rejected);
  const empty = chosen.completion.length === 0 || rejected.completion.length === 0;
  return {
    sides: { chosen, rejected },
    lengths: {
      prompt: Math.max(chosen.prompt.length, rejected.prompt.length),
      chosen: chosen.completion.length,
      rejected: rejected.completion.length,
    },
    notes: [...notes],
    dropped: empty ? 'no_completion_tokens' : null,
  };
}
