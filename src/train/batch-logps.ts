// The log-probs one training or evaluation batch gives the loss: the policy's (with gradients),
// the reference's (live under no-grad, or read from the precomputed table), completion lengths,
// and per-token terms only when the loss asks for them (lossRequirements()).
import type { PreferenceBatch } from '../data/batch/preference-batches.js';
import type { lossRequirements } from '../losses/preference-loss.js';
import type { PreferenceLogps } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { chosenRows, rejectedRows, type ScoringOptions, scoreBatch } from './batch-scores.js';
import type { ReferenceTable } from './reference-cache.js';

/**
 * Where reference log-probs come from: a frozen model, a precomputed table, or nowhere
 * (reference-free losses). `baseOfAdapter`: the model is the LoRA policy itself, run with its
 * adapter switched off (one copy of the base weights, as TRL's disable_adapter()).
 */
export type ReferenceSource = { model: CausalLM; baseOfAdapter?: boolean } | { table: ReferenceTable } | null;

export interface BatchLogpsSettings {
  /** true: per-token averages (SimPO, α-DPO); false: sums (DPO). */
  ln: boolean;
  need: ReturnType<typeof lossRequirements>;
  /** How the batch is laid out for the forward passes (scoringOptions(config)); default: the plain padded batch. */
  scoring?: ScoringOptions | undefined;
  /**
   * bf16 mixed precision: the models' forward passes run under CPU autocast (bfloat16 matmuls);
   * the log-probs come out in float32 (tokenLogps upcasts the logits before the log-softmax).
   */
  bf16?: boolean;
}

/** `fn` under bfloat16 CPU autocast when the settings ask for mixed precision. */
function inPrecision<T>(settings: BatchLogpsSettings, fn: () => T): T {
  return settings.bf16 ? torch.autocast('cpu', 'bfloat16', fn) : fn();
}

/** Per-sequence log-probs as the loss takes them: averaged over completion tokens (ln) or summed. */
function sequenceValues(sums: Tensor, lengths: Tensor, settings: BatchLogpsSettings): Tensor {
  return settings.ln ? sums.div(lengths) : sums;
}

function referenceLogps(
  source: ReferenceSource,
  batch: PreferenceBatch,
  settings: BatchLogpsSettings,
): { sequence: Tensor; tokens: Tensor | null } {
  const perSequence = (sums: Tensor, lengths: Tensor) => sequenceValues(sums, lengths, settings);
  if (source === null) throw new Error('internal: the loss needs reference log-probs and no reference source was given');
  if ('table' in source) {
    const pick = (values: Float64Array) => batch.indices.map((i) => values[i] as number);
    const { chosenSum, rejectedSum, chosenLength, rejectedLength } = source.table;
    const sums = torch.tensor([...pick(chosenSum), ...pick(rejectedSum)]);
    const lengths = torch.tensor([...pick(chosenLength), ...pick(rejectedLength)]);
    return { sequence: perSequence(sums, lengths), tokens: null };
  }
  const score = () =>
    torch.noGrad(() =>
      inPrecision(settings, () => scoreBatch(source.model, batch, { tokens: settings.need.tokens, wpo: false }, settings.scoring)),
    );
  const adapter = source.baseOfAdapter ? source.model.adapter : null;
  if (source.baseOfAdapter && adapter === null) throw new Error('internal: baseOfAdapter on a model without an adapter');
  const scores = adapter ? adapter.withBaseModel(score) : score();
  return { sequence: perSequence(scores.sums, scores.lengths), tokens: scores.tokens?.logps ?? null };
}

/** Sequence log-probs of a batch in the form preferenceLoss takes. Call inside torch.tidy. */
export function batchLogps(
  policy: CausalLM,
  reference: ReferenceSource,
  batch: PreferenceBatch,
  settings: BatchLogpsSettings,
): PreferenceLogps {
  const b = batch.pairCount;
  const { need } = settings;
  // The reference first: switching a LoRA adapter off rewrites modules_to_save in place, which
  // must not happen between the policy's forward pass and its backward pass.
  const ref = need.reference ? referenceLogps(reference, batch, settings) : null;
  const policyScores = inPrecision(settings, () => scoreBatch(policy, batch, { tokens: need.tokens, wpo: need.wpo }, settings.scoring));
  const policySeq = sequenceValues(policyScores.sums, policyScores.lengths, settings);
  const logps: PreferenceLogps = {
    policyChosen: chosenRows(policySeq, b),
    policyRejected: rejectedRows(policySeq, b),
    chosenLengths: chosenRows(policyScores.lengths, b),
    rejectedLengths: rejectedRows(policyScores.lengths, b),
    chosenNll: chosenRows(policyScores.sums, b).neg(),
  };
  if (policyScores.wpo) {
    logps.wpoChosen = chosenRows(policyScores.wpo, b);
    logps.wpoRejected = rejectedRows(policyScores.wpo, b);
  }
  let referenceTokens: Tensor | null = null;
  if (ref) {
    logps.referenceChosen = chosenRows(ref.sequence, b);
    logps.referenceRejected = rejectedRows(ref.sequence, b);
    referenceTokens = ref.tokens;
  }
  if (policyScores.tokens) {
    const { logps: tok, mask } = policyScores.tokens;
    logps.tokens = {
      policyChosen: chosenRows(tok, b),
      policyRejected: rejectedRows(tok, b),
      chosenMask: chosenRows(mask, b),
      rejectedMask: rejectedRows(mask, b),
      ...(referenceTokens ? { referenceChosen: chosenRows(referenceTokens, b), referenceRejected: rejectedRows(referenceTokens, b) } : {}),
    };
  }
  return logps;
}
