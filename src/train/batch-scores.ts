// Scoring a batch of [chosen; rejected] rows with a model: one forward over the concatenated
// batch, then per-sequence sums of completion-token log-probs and completion lengths.
import type { PreferenceBatch } from '../data/batch/preference-batches.js';
import { IGNORE_INDEX, sequenceLogps, tokenLogps, wpoLogWeights } from '../losses/sequence-logps.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export interface BatchScores {
  /** [2B] Σ_t log π(y_t), nats; carries gradients when the model is being trained. */
  sums: Tensor;
  /** [2B] completion token counts (float32). */
  lengths: Tensor;
  /** Per-token log-probs and masks [2B, T−1] (only when asked: ld_alpha). */
  tokens: { logps: Tensor; mask: Tensor } | null;
  /** [2B] WPO log-weights (only when asked: use_weighting). */
  wpo: Tensor | null;
}

/**
 * Use torch.noGrad for a frozen model. The [2B, T, V] logits are released before this returns,
 * as Python drops its temporaries at once: autograd keeps what backward needs on its own, so
 * holding them until the end of the step would only add a logits-sized block to peak memory.
 */
export function scoreBatch(model: CausalLM, batch: PreferenceBatch, need: { tokens: boolean; wpo: boolean }): BatchScores {
  return torch.tidy(() => {
    const logits = model.forward(batch.inputIds, { attentionMask: batch.attentionMask }); // [2B, T, V]
    const sums = sequenceLogps(logits, batch.labels, { average: false });
    const time = batch.labels.size(1);
    const lengths = batch.labels.slice(1, 1, time).ne(IGNORE_INDEX).sum(1).to('float32');
    return {
      sums,
      lengths,
      tokens: need.tokens ? tokenLogps(logits, batch.labels) : null,
      wpo: need.wpo ? wpoLogWeights(logits, batch.labels) : null,
    };
  });
}

/** Rows [0, B) are the chosen sequences, [B, 2B) the rejected ones. */
export function chosenRows(t: Tensor, pairs: number): Tensor {
  return t.narrow(0, 0, pairs);
}

export function rejectedRows(t: Tensor, pairs: number): Tensor {
  return t.narrow(0, pairs, pairs);
}
