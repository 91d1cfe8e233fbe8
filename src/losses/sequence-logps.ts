// Log-probs of label tokens under a causal LM's logits: logits[:, t] predicts labels[:, t + 1];
// labels of -100 (prompt, padding) are masked. log p = logit[label] − logsumexp(logits) per
// position, so no second [B, T, V] tensor (a log_softmax) is materialised.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { EmptySequenceError, LossInputError } from './errors.js';

/** Label value that marks a position with no target (TRL's and Hugging Face's label_pad_token_id). */
export const IGNORE_INDEX = -100;

export interface TokenLogpsResult {
  /** [B, T − 1] log π(labels[:, t + 1] | logits[:, t]), nats; 0 at masked positions. */
  logps: Tensor;
  /** [B, T − 1] bool, true where the shifted label is a completion token. */
  mask: Tensor;
}

const isHalf = (t: Tensor) => t.dtype === 'float16' || t.dtype === 'bfloat16';

function checkLogitsAndLabels(logits: Tensor, labels: Tensor): void {
  if (logits.ndim !== 3) throw new LossInputError('logits', `expected shape [B, T, V], got [${logits.shape.join(', ')}].`);
  const [batch, time, vocab] = logits.shape as [number, number, number];
  if (labels.ndim !== 2 || labels.size(0) !== batch || labels.size(1) !== time) {
    throw new LossInputError(
      'labels',
      `expected shape [${batch}, ${time}] to match logits [${logits.shape.join(', ')}], got [${labels.shape.join(', ')}].`,
    );
  }
  if (labels.dtype !== 'int64')
    throw new LossInputError('labels', `expected int64 token ids, got ${labels.dtype} (convert with labels.long()).`);
  if (batch === 0) throw new LossInputError('logits', 'the batch is empty (B = 0).');
  if (time < 2) throw new LossInputError('logits', `needs at least 2 positions (T = ${time}): position t predicts label t + 1.`);
  const bad = torch.tidy(() => {
    const target = labels.slice(1, 1, time);
    return target
      .ne(IGNORE_INDEX)
      .logicalAnd(target.lt(0).logicalOr(target.ge(vocab)))
      .any()
      .item();
  });
  if (bad)
    throw new LossInputError(
      'labels',
      `holds a token id outside [0, ${vocab}) that is not ${IGNORE_INDEX}: check the tokenizer's vocabulary size against the model's.`,
    );
}

/** Per-position log-probs of the shifted labels, and the completion mask. Gradients flow to logits. */
export function tokenLogps(logits: Tensor, labels: Tensor): TokenLogpsResult {
  checkLogitsAndLabels(logits, labels);
  return torch.tidy(() => {
    const time = logits.size(1);
    const target = labels.slice(1, 1, time); // [B, T−1]
    const mask = target.ne(IGNORE_INDEX);
    const index = target.maskedFill(mask.logicalNot(), 0).unsqueeze(2); // any valid id where masked; zeroed below
    const shifted = logits.slice(1, 0, time - 1); // [B, T−1, V] view, no copy
    let perToken: Tensor;
    if (isHalf(logits)) {
      // logsumexp in 16 bits loses ~2 decimal digits; upcast one row [T−1, V] at a time instead of the whole batch.
      const rows: Tensor[] = [];
      for (let b = 0; b < logits.size(0); b++) {
        const row = shifted.select(0, b).to('float32');
        rows.push(row.gather(1, index.select(0, b)).squeeze(1).sub(row.logsumexp(1)));
      }
      perToken = torch.stack(rows);
    } else {
      perToken = shifted.gather(2, index).squeeze(2).sub(shifted.logsumexp(2));
    }
    return { logps: torch.where(mask, perToken, 0), mask };
  });
}

/** Unmasked label count per row; an all-masked row is an error naming it. */
function completionLengths(mask: Tensor, field: string): Tensor {
  const counts = mask.sum(1);
  const empty = counts
    .toNumbers()
    .map((n, b) => (n === 0 ? b : -1))
    .filter((b) => b >= 0);
  if (empty.length > 0) {
    counts.dispose();
    throw new EmptySequenceError(field, empty);
  }
  return counts;
}

/**
 * [B] log π(completion | prompt) per sequence: the sum over unmasked positions, or with
 * `average` the per-token mean (nats/token; SimPO, α-DPO, IPO and ORPO use averages). A row
 * whose labels are all -100 is an EmptySequenceError naming it, never NaN.
 */
export function sequenceLogps(logits: Tensor, labels: Tensor, options: { average: boolean }): Tensor {
  const { logps, mask } = tokenLogps(logits, labels);
  return torch.tidy(() => {
    try {
      const counts = completionLengths(mask, 'labels');
      const sum = logps.sum(1);
      return options.average ? sum.div(counts) : sum;
    } finally {
      logps.dispose();
      mask.dispose();
    }
  });
}

/**
 * [B] WPO log-weights (Zhou et al. 2024, arXiv 2406.11827, Eq. 2): the per-token mean of
 * log p(y_t) − log Σ_v p(v)², the sampled token's log-prob aligned by the distribution's
 * collision probability. No gradient. Pass them as logps.wpoChosen / wpoRejected with use_weighting.
 */
export function wpoLogWeights(logits: Tensor, labels: Tensor): Tensor {
  checkLogitsAndLabels(logits, labels);
  return torch.noGrad(() =>
    torch.tidy(() => {
      const time = logits.size(1);
      const target = labels.slice(1, 1, time);
      const mask = target.ne(IGNORE_INDEX);
      const counts = completionLengths(mask, 'labels');
      const index = target.maskedFill(mask.logicalNot(), 0).unsqueeze(2);
      const shifted = logits.slice(1, 0, time - 1);
      const rows: Tensor[] = [];
      // One row at a time: 2·logits is a [T−1, V] temporary instead of [B, T−1, V].
      for (let b = 0; b < logits.size(0); b++) {
        const row = isHalf(logits) ? shifted.select(0, b).to('float32') : shifted.select(0, b);
        const lse = row.logsumexp(1);
        // log p − (logsumexp(2z) − 2·logsumexp(z)) = z_y − logsumexp(2z) + logsumexp(z)
        rows.push(row.gather(1, index.select(0, b)).squeeze(1).sub(row.mul(2).logsumexp(1)).add(lse));
      }
      return torch.where(mask, torch.stack(rows), 0).sum(1).div(counts);
    }),
  );
}
