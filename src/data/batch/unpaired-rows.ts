// Unpaired examples laid out for batching with their KL rows, as TRL's KTOTrainer builds them:
// the examples are cut, in order, into chunks of the batch size (the last may be shorter), and
// within a chunk of n the KL row of example k is completion k after prompt (k + 1) mod n, a
// mismatched prompt/completion pair. The KL rows of a batch drawn in order are thus the batch's
// own completions with other prompts, the estimate of the reference point z₀ of KTO (Ethayarajh
// et al. 2024, §4.1). TRL 1.13 rotates the completions instead ((x_k, y_{k−1})): the same set of rows.
import type { TokenizedExample } from '../tokenize/tokenize-unpaired.js';
import type { TokenizedPair } from '../tokenize/tokenized-pair.js';

/**
 * Each example as a TokenizedPair with `label`: chosen = (prompt k, completion k), rejected = its
 * KL row (prompt (k + 1) mod n, completion k). A KL row longer than max_length loses the end of
 * its completion (TRL's collator cuts KL rows at max_length); at least one token always stays,
 * since the other example's prompt left room for its own completion.
 */
export function unpairedRows(examples: readonly TokenizedExample[], chunkSize: number, maxLength: number | null): TokenizedPair[] {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new Error(`internal: chunk size ${chunkSize}`);
  const rows: TokenizedPair[] = [];
  for (let start = 0; start < examples.length; start += chunkSize) {
    const n = Math.min(chunkSize, examples.length - start);
    for (let k = 0; k < n; k++) {
      const example = examples[start + k] as TokenizedExample;
      const other = examples[start + ((k + 1) % n)] as TokenizedExample;
      const room = maxLength === null ? example.completion.length : maxLength - other.prompt.length;
      rows.push({
        chosen: { prompt: example.prompt, completion: example.completion },
        rejected: { prompt: other.prompt, completion: example.completion.subarray(0, Math.max(1, room)) },
        source: example.source,
        metadata: example.metadata,
        label: example.label,
      });
    }
  }
  return rows;
}
