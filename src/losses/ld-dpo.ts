// LD-DPO's sequence log-probs (Liu et al. 2024, arXiv 2409.06411): the tokens of each completion up
// to the length of the shorter completion of its pair count fully, the rest with weight ld_alpha.
// Applied to policy and reference alike, counting positions within the completion, as TRL ≥ 0.29.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { PreferenceLogps, TokenLogps } from './types.js';

/** Σ_{t ≤ l_p} log p_t + ld_alpha·Σ_{t > l_p} log p_t per row (nats), t counted over completion tokens only. */
function weightedSum(tokenLogps: Tensor, mask: Tensor, sharedLength: Tensor, ldAlpha: number): Tensor {
  const kept = mask.ne(0);
  const position = kept.cumsum(1, 'int64'); // 1-based index among completion tokens
  const limit = sharedLength.unsqueeze(1);
  const shared = kept.logicalAnd(position.le(limit));
  const tail = kept.logicalAnd(position.gt(limit));
  return torch
    .where(shared, tokenLogps, 0)
    .sum(1)
    .add(torch.where(tail, tokenLogps, 0).sum(1).mul(ldAlpha));
}

/** The [B] sequence log-probs a loss sees when ld_alpha is set, from the per-token ones. */
export function ldDpoLogps(tokens: TokenLogps, ldAlpha: number): Partial<PreferenceLogps> {
  const sharedLength = tokens.chosenMask.ne(0).sum(1).minimum(tokens.rejectedMask.ne(0).sum(1)); // l_p = min(|y_w|, |y_l|)
  const out: Partial<PreferenceLogps> = {
    policyChosen: weightedSum(tokens.policyChosen, tokens.chosenMask, sharedLength, ldAlpha),
    policyRejected: weightedSum(tokens.policyRejected, tokens.rejectedMask, sharedLength, ldAlpha),
  };
  if (tokens.referenceChosen && tokens.referenceRejected) {
    out.referenceChosen = weightedSum(tokens.referenceChosen, tokens.chosenMask, sharedLength, ldAlpha);
    out.referenceRejected = weightedSum(tokens.referenceRejected, tokens.rejectedMask, sharedLength, ldAlpha);
  }
  return out;
}
