// The sampling warpers of transformers' generate, in its order: temperature, then top-k, then
// top-p (nucleus). Each removes tokens by setting their score to −∞ (filter_value), keeping at
// least one token (min_tokens_to_keep = 1).
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export interface WarpOptions {
  /** Divides the logits (> 0); 1 leaves them. */
  temperature: number;
  /** Keep the k highest-scoring tokens, ties with the k-th included; 0 disables. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability reaches top_p; 1 disables. */
  topP: number;
}

/** float32 [B, V] scores -> warped scores [B, V] (removed tokens at −∞). */
export function warpLogits(scores: Tensor, options: WarpOptions): Tensor {
  return torch.tidy(() => {
    const vocab = scores.size(-1);
    let s = options.temperature === 1 ? scores : scores.div(options.temperature);
    if (options.topK > 0 && options.topK < vocab) {
      // TopKLogitsWarper: scores < (k-th largest score) are removed.
      const [values] = s.topk(options.topK, -1);
      const kth = values.narrow(-1, options.topK - 1, 1);
      s = s.maskedFill(s.lt(kth), Number.NEGATIVE_INFINITY);
    }
    if (options.topP < 1) {
      // TopPLogitsWarper: sort ascending, drop the low tail whose cumulative probability is ≤ 1 − top_p,
      // always keeping the most likely token.
      const [sorted, order] = s.sort(-1, false);
      const cumulative = sorted.softmax(-1).cumsum(-1);
      const notLast = torch.arange(0, vocab).lt(vocab - 1);
      const removeSorted = cumulative.le(1 - options.topP).logicalAnd(notLast);
      const remove = removeSorted.scatter(-1, order, removeSorted);
      s = s.maskedFill(remove, Number.NEGATIVE_INFINITY);
    }
    return s;
  });
}
