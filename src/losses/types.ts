// The shapes shared by every preference loss: what goes in (sequence log-probs and the extras
// some losses need), what comes out, and what a registered loss declares about itself.
import type { Tensor } from '../tensor/tensor.js';
import type { AlphaDpoState } from './alpha-dpo-state.js';
import type { ConfigKey, ResolvedLossConfig } from './config.js';

/**
 * Per-sequence log-probs of a batch of B preference pairs, each a [B] floating-point tensor,
 * already summed or averaged over the completion tokens by the caller (see sequenceLogps).
 * Row b of every tensor belongs to pair b.
 */
export interface PreferenceLogps {
  /** log π_θ(y_w | x) of the chosen completions. Gradients flow back through it. */
  policyChosen: Tensor;
  /** log π_θ(y_l | x) of the rejected completions. */
  policyRejected: Tensor;
  /** log π_ref(y_w | x) under the frozen reference model (losses that need a reference). */
  referenceChosen?: Tensor;
  /** log π_ref(y_l | x). */
  referenceRejected?: Tensor;
  /** |y_w|: completion token counts of the chosen completions (r-dpo; the NLL terms). */
  chosenLengths?: Tensor;
  /** |y_l|: completion token counts of the rejected completions (r-dpo). */
  rejectedLengths?: Tensor;
  /**
   * −Σ_t log π_θ(y_w,t | …): the summed negative log-likelihood of each chosen completion
   * (sft, orpo, cpo, simpo with sft_weight). With chosenLengths it gives the token-mean NLL
   * Σ_b nll_b / Σ_b |y_w,b| that TRL and SimPO compute with cross_entropy.
   */
  chosenNll?: Tensor;
  /** WPO log-weights of the chosen completions, from wpoLogWeights() (use_weighting). */
  wpoChosen?: Tensor;
  /** WPO log-weights of the rejected completions. */
  wpoRejected?: Tensor;
  /** Per-token log-probs and masks (ld_alpha); with them the sequence log-probs are recomputed. */
  tokens?: TokenLogps;
}

/**
 * Per-token log-probs [B, T] (the `logps` of tokenLogps()) and completion masks [B, T] (bool or
 * 0/1). Chosen and rejected may have different T. Values at masked positions are ignored.
 */
export interface TokenLogps {
  policyChosen: Tensor;
  policyRejected: Tensor;
  referenceChosen?: Tensor;
  referenceRejected?: Tensor;
  chosenMask: Tensor;
  rejectedMask: Tensor;
}

/** What preferenceLoss returns. The tensors belong to the caller (dispose them, or use torch.tidy). */
export interface PreferenceLossOutput {
  /** [B] per-pair losses; the training loss is losses.mean(). Carries gradients to the policy log-probs. */
  losses: Tensor;
  /** [B] implicit rewards of the chosen completions, detached, as the loss's source logs them. */
  chosenRewards: Tensor;
  /** [B] implicit rewards of the rejected completions, detached. */
  rejectedRewards: Tensor;
  /** Batch means with TRL's names (rewards/chosen, rewards/accuracies, logps/chosen, …) plus the loss's own. */
  metrics: Record<string, number>;
  /**
   * What this call computed but suspects is not what the user meant (e.g. α-DPO's z divided by
   * eps because the running σ is 0). Empty when all is well. A trainer should log them.
   */
  warnings: LossWarning[];
}

/** A warning from a loss: `code` is stable (log the first of each code, count the rest); `message` says what happened and what to do. */
export interface LossWarning {
  /** e.g. 'alpha-dpo/sigma-at-eps'. */
  code: string;
  message: string;
}

/** Per-call options that are not hyper-parameters. */
export interface PreferenceLossOptions {
  /** false for evaluation batches: α-DPO and bco_pair then leave their running statistics alone unless update_stats_in_eval. Default true. */
  training?: boolean;
  /**
   * Data-parallel training: concatenates a per-pair tensor [B] across every process's share of the
   * global batch. Losses that take statistics over the batch (α-DPO's gap, bco_pair's δ) compute
   * them on the result, so N processes compute what one process computes with the whole batch.
   * Absent: the batch is this call's pairs only.
   */
  gatherPairs?: ((perPair: Tensor) => Tensor) | undefined;
}

/**
 * Inputs a loss may need beyond the policy log-probs: 'reference' (referenceChosen/Rejected),
 * 'lengths' (chosenLengths and rejectedLengths), 'chosenNll' (chosenNll and chosenLengths).
 */
export type LossNeed = 'reference' | 'lengths' | 'chosenNll';

/** The validated inputs handed to a registered loss. Reference tensors are present when the loss declared 'reference'. */
export interface LossContext {
  logps: PreferenceLogps;
  config: ResolvedLossConfig;
  state: AlphaDpoState | undefined;
  training: boolean;
  /** See PreferenceLossOptions.gatherPairs. */
  gatherPairs?: ((perPair: Tensor) => Tensor) | undefined;
}

/** What one registered loss computes; preferenceLoss adds the common metrics. */
export interface LossTerms {
  losses: Tensor;
  chosenRewards: Tensor;
  rejectedRewards: Tensor;
  /** Extra metrics: scalar tensors (read in one transfer) or numbers. */
  metrics?: Record<string, Tensor | number>;
  warnings?: LossWarning[];
  /** State changes (α-DPO's running statistics, bco_pair's δ), applied by preferenceLoss only once every loss of the call is finite. */
  commit?: () => void;
}

/** A loss registered by name. Each lives in its own file under loss-types/. */
export interface LossDefinition {
  /** The loss_type string (TRL's name where TRL has the loss). */
  readonly name: string;
  /** Paper and code the formula follows. */
  readonly source: string;
  /** 'average' for losses defined on per-token averages (SimPO, α-DPO, IPO, ORPO), else 'sum'. A recommendation to the caller. */
  readonly logps: 'sum' | 'average';
  /** Config keys the loss reads (beyond the general loss_weights, ld_alpha, use_weighting). */
  readonly uses: readonly ConfigKey[];
  /** Config keys without default that must be given. */
  readonly requires: readonly ConfigKey[];
  /** Whether f_divergence_type changes this loss (TRL ≥ 0.29 applies it through the scores). */
  readonly fDivergence: boolean;
  /** Whether the loss sorts the batch (AOT), so per-row WPO weights would not match rows. */
  readonly sortsBatch?: boolean;
  /** false for a loss with no implicit reward (sft): a list then reports another entry's rewards. */
  readonly hasRewards?: boolean;
  /** Inputs needed for this config. */
  needs(config: ResolvedLossConfig): readonly LossNeed[];
  /** Loss-specific config checks beyond types and ranges (e.g. exo_pair needs label_smoothing > 0). */
  validate?(config: ResolvedLossConfig): void;
  /** Loss-specific input checks, run before any loss of the call computes (so no state changes on bad input). */
  checkInputs?(logps: PreferenceLogps): void;
  compute(context: LossContext): LossTerms;
}
