// The log-probs one training or evaluation batch gives the loss: the policy's (with gradients),
// the reference's (live under no-grad, or read from the precomputed table), completion lengths,
// and per-token terms only when the loss asks for them (lossRequirements()). For a loss on
// unpaired examples the batch's rows are the examples and their KL rows (PreferenceBatch.desirable).
import type { PreferenceBatch } from '../data/batch/preference-batches.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import type { lossRequirements } from '../losses/preference-loss.js';
import type { PreferenceLogps, UnpairedLogps } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { Device } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { chosenRows, rejectedRows, type ScoringOptions, scoreBatch } from './batch-scores.js';
import type { ReferenceTable } from './reference-cache.js';
import { TrainConfigError } from './train-config.js';

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

/**
 * Whether `rows` are what the loss reads: labelled rows with their KL rows (unpairedRows) for a
 * loss on unpaired examples, pairs otherwise. A TrainConfigError saying how to build them if not.
 */
export function checkRowKinds(need: BatchLogpsSettings['need'], rows: readonly TokenizedPair[], what: string, lossType: unknown): void {
  const unpaired = need.examples === 'unpaired';
  if (!rows.some((row) => (row.label !== undefined) !== unpaired)) return;
  const loss = JSON.stringify(lossType);
  throw new TrainConfigError(
    'loss_type',
    unpaired
      ? `the loss ${loss} takes unpaired examples, but the ${what} rows are pairs: build them with unpairedRows(tokenizeUnpairedExamples(...).examples, batchSize, max_length).`
      : `the ${what} rows are unpaired examples (from unpairedRows), but the loss ${loss} takes preference pairs: use kto or apo_zero_unpaired.`,
  );
}

/** Sequence log-probs of a batch in the form preferenceLoss takes. Call inside torch.tidy. */
export function batchLogps(
  policy: CausalLM,
  reference: ReferenceSource,
  batch: PreferenceBatch,
  settings: BatchLogpsSettings,
): PreferenceLogps | UnpairedLogps {
  return settings.need.examples === 'unpaired'
    ? unpairedBatchLogps(policy, reference, batch, settings)
    : pairBatchLogps(policy, reference, batch, settings);
}

/** Rows [0, B) are the examples, [B, 2B) their KL rows (data/batch/unpaired-rows.ts). */
function unpairedBatchLogps(
  policy: CausalLM,
  reference: ReferenceSource,
  batch: PreferenceBatch,
  settings: BatchLogpsSettings,
): UnpairedLogps {
  if (!batch.desirable) throw new Error('internal: a loss on unpaired examples was given a batch of pairs');
  const b = batch.pairCount;
  // Without the KL rows (apo_zero_unpaired) the models score rows [0, B) only: half the forward.
  const rows = settings.need.kl
    ? batch
    : {
        ...batch,
        inputIds: chosenRows(batch.inputIds, b),
        attentionMask: chosenRows(batch.attentionMask, b),
        labels: chosenRows(batch.labels, b),
      };
  // The plain padded layout: packed scoring assumes rows b and B + b share a prompt, which KL rows do not.
  const plain: BatchLogpsSettings = { ...settings, scoring: undefined };
  const scores = inPrecision(settings, () => scoreBatch(policy, rows, { tokens: false, wpo: false }));
  const policySeq = sequenceValues(scores.sums, scores.lengths, settings);
  const logps: UnpairedLogps = {
    policy: chosenRows(policySeq, b),
    desirable: torch
      .tensor(
        batch.desirable.map((d) => (d ? 1 : 0)),
        { dtype: 'bool' },
      )
      .to(policySeq.device as Device),
  };
  if (settings.need.kl) logps.policyKl = rejectedRows(policySeq, b);
  if (settings.need.reference) {
    const ref = referenceLogps(reference, rows, plain).sequence;
    logps.reference = chosenRows(ref, b);
    if (settings.need.kl) logps.referenceKl = rejectedRows(ref, b);
  }
  return logps;
}

function pairBatchLogps(
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
