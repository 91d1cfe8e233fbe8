// Scoring a batch of [chosen; rejected] rows with a model: per-sequence sums of completion-token
// log-probs and completion lengths. The plain path is one forward over the padded [2B, T] batch
// to full logits; the default path (ScoringOptions) rearranges the batch (prefix sharing,
// padding-free packing, packed-pairs.ts), takes the final hidden states and runs the LM head only
// at completion tokens, in vocabulary chunks. Both give the same numbers within round-off.
import { collatedRows, packPairs } from '../data/batch/packed-pairs.js';
import type { PreferenceBatch } from '../data/batch/preference-batches.js';
import { EmptySequenceError, LossInputError } from '../losses/errors.js';
import { linearTokenLogps } from '../losses/linear-token-logps.js';
import { IGNORE_INDEX, sequenceLogps, tokenLogps, wpoLogWeights } from '../losses/sequence-logps.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { TrainConfig } from './train-config.js';

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

/** How a batch is laid out for the forward pass (the training config's prefix_sharing, padding_free, vocab_chunk_size). */
export interface ScoringOptions {
  /** One sequence [common prefix, chosen rest, rejected rest] per pair (prefix_sharing); skipped while the model is in training mode (dropout). */
  prefixSharing: boolean;
  /** Every sequence of the batch in one row, no padding (padding_free). */
  paddingFree: boolean;
  /** LM head in vocabulary chunks of this size, only at completion tokens (vocab_chunk_size); 0: whole vocabulary. */
  vocabChunk: number;
}

/** Today's layout: the padded batch, full logits (every option off). */
export const PLAIN_SCORING: ScoringOptions = { prefixSharing: false, paddingFree: false, vocabChunk: 0 };

/** The scoring options a training config sets. */
export function scoringOptions(config: Pick<TrainConfig, 'prefix_sharing' | 'padding_free' | 'vocab_chunk_size'>): ScoringOptions {
  return { prefixSharing: config.prefix_sharing, paddingFree: config.padding_free, vocabChunk: config.vocab_chunk_size };
}

const isPlain = (o: ScoringOptions) => !o.prefixSharing && !o.paddingFree && o.vocabChunk === 0;

/**
 * Use torch.noGrad for a frozen model. The plain path's [2B, T, V] logits are released before
 * this returns, as Python drops its temporaries at once: autograd keeps what backward needs on
 * its own, so holding them until the end of the step would only add a logits-sized block to peak memory.
 */
export function scoreBatch(
  model: CausalLM,
  batch: PreferenceBatch,
  need: { tokens: boolean; wpo: boolean },
  options: ScoringOptions = PLAIN_SCORING,
): BatchScores {
  if (!isPlain(options)) return scorePacked(model, batch, need, options);
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

/** The same scores from the packed layout and the LM head at completion tokens only. */
function scorePacked(
  model: CausalLM,
  batch: PreferenceBatch,
  need: { tokens: boolean; wpo: boolean },
  options: ScoringOptions,
): BatchScores {
  const rows = 2 * batch.pairCount;
  const time = batch.labels.size(1);
  const arrays = {
    inputIds: batch.inputIds.toArray() as BigInt64Array,
    attentionMask: batch.attentionMask.toArray() as BigInt64Array,
    labels: batch.labels.toArray() as BigInt64Array,
  };
  // Dropout would draw one mask for a shared prefix where the padded batch draws two.
  const prefixSharing = options.prefixSharing && !model.training;
  const packed = packPairs(collatedRows(arrays, rows, time), time, {
    pairs: batch.pairCount,
    prefixSharing,
    paddingFree: options.paddingFree,
    paddingValue: 0,
  });
  const counts = new Float32Array(rows);
  for (const slot of packed.slot) counts[Number(slot)] = (counts[Number(slot)] as number) + 1;
  const empty = [...counts.keys()].filter((r) => counts[r] === 0);
  if (empty.length > 0) throw new EmptySequenceError('labels', empty);
  const vocab = model.vocabSize;
  if (packed.targets.some((id) => id < 0n || id >= BigInt(vocab))) {
    throw new LossInputError(
      'labels',
      `holds a token id outside [0, ${vocab}) that is not ${IGNORE_INDEX}: check the tokenizer's vocabulary size against the model's.`,
    );
  }
  return torch.tidy(() => {
    const shape = [packed.rows, packed.length];
    const hidden = model.hiddenStates(torch.tensor(packed.inputIds).reshape(shape), {
      positionIds: torch.tensor(packed.positionIds).reshape(shape),
      layout: {
        sequenceIds: torch.tensor(packed.sequenceIds).reshape(shape),
        branchIds: torch.tensor(packed.branchIds).reshape(shape),
        spans: packed.spans ?? undefined,
      },
    }); // [R, T', C]
    const atCompletions = hidden.reshape([packed.rows * packed.length, model.hiddenSize]).indexSelect(0, torch.tensor(packed.hiddenIndex)); // [N, C]
    const { logps, collision } = linearTokenLogps(atCompletions, model.lmHeadWeight, torch.tensor(packed.targets), {
      chunk: options.vocabChunk,
      softcap: model.finalLogitSoftcap,
    }); // [N]
    const slot = torch.tensor(packed.slot);
    const sums = torch.zeros([rows], { dtype: logps.dtype }).scatterAdd(0, slot, logps);
    const lengths = torch.tensor(counts);
    let tokens: BatchScores['tokens'] = null;
    if (need.tokens) {
      const flat = torch.zeros([rows * (time - 1)], { dtype: logps.dtype }).scatterAdd(0, torch.tensor(packed.unsharedIndex), logps);
      tokens = { logps: flat.view([rows, time - 1]), mask: batch.labels.slice(1, 1, time).ne(IGNORE_INDEX) };
    }
    // WPO (arXiv 2406.11827, Eq. 2): the per-token mean of log p(y_t) − log Σ_v p(v)², no gradient.
    const wpo = need.wpo
      ? torch.noGrad(() => torch.zeros([rows], { dtype: logps.dtype }).scatterAdd(0, slot, logps.detach().sub(collision)).div(lengths))
      : null;
    return { sums, lengths, tokens, wpo };
  });
}

/** Rows [0, B) are the chosen sequences, [B, 2B) the rejected ones. */
export function chosenRows(t: Tensor, pairs: number): Tensor {
  return t.narrow(0, 0, pairs);
}

export function rejectedRows(t: Tensor, pairs: number): Tensor {
  return t.narrow(0, pairs, pairs);
}
