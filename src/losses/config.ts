// The preference-loss config: one schema (type, default, range, doc with source and units) from
// which the TypeScript types, the defaults and the validation all come (the engine is
// src/config/). Keys are the reference
// code's and TRL's names, so an existing YAML keeps working; they stay snake_case on purpose.
import { throwIfProblems } from '../config/config-error.js';
import { type Field, type Resolution, resolveSchema, type SchemaInput, type SchemaValues } from '../config/index.js';
import { LossConfigError } from './errors.js';

export const NORMALIZATIONS = ['ema-moments', 'ema', 'ema-debiased', 'batch', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const F_DIVERGENCES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;
export type FDivergenceType = (typeof F_DIVERGENCES)[number];

/** Every config key, with its default, range, unit and source. docs/losses.md tabulates the same. */
export const CONFIG_SCHEMA = {
  beta: {
    type: 'number',
    unit: 'logits per nat',
    source: 'TRL DPOConfig.beta',
    default: undefined,
    min: 0,
    minExclusive: true,
    doc:
      'β, the inverse temperature of the implicit reward (logit units per nat of log-prob score; for ipo it is τ, for orpo λ). ' +
      'No default: TRL DPO uses 0.1 on summed log-probs, SimPO and α-DPO use 2–10 on per-token averages.',
  },
  label_smoothing: {
    type: 'number',
    unit: 'probability',
    source: 'TRL DPOConfig.label_smoothing',
    default: 0,
    min: 0,
    max: 0.5,
    doc: 'ε, the assumed probability that a preference label is flipped (cDPO, robust, EXO, AOT, SimPO, α-DPO, CPO, R-DPO). 0 in every published α-DPO run.',
  },
  gamma_beta_ratio: {
    type: 'number',
    unit: 'nats/token',
    source: 'SimPO and α-DPO configs',
    default: 0.25,
    doc: 'γ_r, the target reward margin in per-token log-prob units (nats/token); paper γ = β·γ_r. Default 0.25 as in the SimPO and α-DPO configs.',
  },
  alpha: {
    type: 'number',
    unit: 'nats/token per unit z',
    source: 'α-DPO reference code',
    default: undefined,
    min: 0,
    doc:
      "α-DPO's α: weight of the gap's z-score in the margin (nats/token per unit z); paper α·M = β·α·z. Published 0.05–0.2; α = 0 is SimPO. " +
      "For cpo, cpo_simpo and alphapo it is AlphaPO's α (TRL CPOConfig.alpha, unitless): each log-prob ℓ becomes the reward (1 − e^(−α·ℓ))/α; unset or 0 keeps ℓ.",
  },
  normalization: {
    type: 'enum',
    values: NORMALIZATIONS,
    default: 'ema-moments',
    doc:
      "How α-DPO turns the gap g into z. 'ema-moments' (default): bias-corrected EMA mean and variance of every gap seen, this batch included, " +
      "so |z| ≤ √(B/(1 − m)) and one-pair micro-batches work; 'ema' (the reference: zero-start EMA of batch means and batch stds, no bias correction; " +
      "σ stays 0 with one pair per call); 'ema-debiased' ('ema' divided by 1 − m^t); 'batch' (this batch's z-score); 'none' (z = g).",
  },
  ema_momentum: {
    type: 'number',
    default: 0.9,
    min: 0,
    max: 1,
    maxExclusive: true,
    doc: 'm, the momentum of the running mean and std of the gap (reference: 0.9, i.e. μ ← 0.9·μ + 0.1·batch mean).',
  },
  eps: {
    type: 'number',
    unit: 'nats/token',
    default: 1e-6,
    min: 1e-12,
    doc:
      'Floor on σ in z = (g − μ)/max(σ, eps), nats/token. 1e-6 is about the float32 rounding noise of a gap of averaged log-probs near −1, ' +
      'so any σ below it carries no information; any σ ≥ eps is used unchanged, as in the reference. At least 1e-12 (float64 noise of a gap ' +
      'near 1 is 1e-16): a smaller floor only inflates z, and below ~1e-35 the float32 logits overflow to Inf.',
  },
  update_stats_in_eval: {
    type: 'boolean',
    default: false,
    doc: "Whether evaluation calls update the running statistics of α-DPO and of bco_pair's δ (true reproduces the α-DPO reference and TRL ≤ 0.28's BCO, which update on every batch).",
  },
  sft_weight: {
    type: 'number',
    default: 0,
    min: 0,
    doc: "Weight of the chosen completions' token-mean NLL added to simpo / simpo_hinge (SimPO repo's sft_weight).",
  },
  cpo_alpha: {
    type: 'number',
    source: 'TRL CPOConfig.cpo_alpha',
    default: 1,
    min: 0,
    doc: "Weight of the chosen completions' token-mean NLL in CPO (TRL CPOConfig.cpo_alpha).",
  },
  rpo_alpha: {
    type: 'number',
    source: 'TRL ≤ 0.28 DPOConfig.rpo_alpha',
    default: null,
    min: 0,
    doc:
      "RPO's α (Pang et al. 2024, arXiv 2404.19733): adds rpo_alpha × the chosen completions' token-mean NLL to every pair's loss, whatever the loss_type " +
      "(the paper recommends 1.0). Same as appending 'sft' to loss_type with weight rpo_alpha. Needs logps.chosenNll and chosenLengths.",
  },
  bco_running_delta: {
    type: 'boolean',
    source: 'TRL ≤ 0.28 DPOTrainer.dpo_loss (bco_pair)',
    default: false,
    doc:
      "BCO's reward shift δ (Jung et al. 2024): true subtracts the running mean of the batch-mean rewards from both rewards, as TRL ≤ 0.28 did; " +
      'false (TRL ≥ 0.29) uses no shift. The running mean lives in the state passed to preferenceLoss (saved with it in checkpoints).',
  },
  rdpo_alpha: {
    type: 'number',
    unit: 'logits per token',
    default: undefined,
    doc: "R-DPO's α: logit penalty per token of length difference, σ(β·(Δπ − Δref) − α·(|y_w| − |y_l|)) (Park et al. 2024). The α-DPO repo's gamma_beta_ratio for rDPO is rdpo_alpha/β.",
  },
  discopop_tau: {
    type: 'number',
    source: 'TRL DPOConfig.discopop_tau',
    default: 0.05,
    min: 0,
    minExclusive: true,
    doc: "τ of DiscoPOP's log-ratio modulation σ(β·Δ/τ) (TRL default, as the paper recommends).",
  },
  f_divergence_type: {
    type: 'enum',
    values: F_DIVERGENCES,
    default: 'reverse_kl',
    doc: 'f-DPO divergence (Wang et al. 2023): the score f′ applied to each log-ratio ρ = log π/π_ref before the loss. reverse_kl is plain DPO.',
  },
  f_alpha_divergence_coef: {
    type: 'number',
    default: 0.5,
    doc:
      'α of the α-divergence score u^(α−1)/(α−1), as TRL ≥ 0.29 reads f_alpha_divergence_coef (default 0.5). TRL ≤ 0.28 read the same key ' +
      'as c in (u_l^−c − u_w^−c)/c with default 1.0: that is c = 1 − α, so a value carried over from TRL ≤ 0.28 means 1 − α here.',
  },
  ld_alpha: {
    type: 'number',
    source: 'TRL DPOConfig.ld_alpha',
    default: null,
    min: 0,
    max: 1,
    doc: 'LD-DPO α: weight of the log-probs of tokens beyond the shorter completion of the pair (1 = plain sums, 0 = shared prefix only). Needs logps.tokens.',
  },
  use_weighting: {
    type: 'boolean',
    source: 'TRL DPOConfig.use_weighting',
    default: false,
    doc: "WPO weighting: multiply each pair's loss by exp(w_chosen + w_rejected), the per-token-mean aligned log-probs (Zhou et al. 2024, Eq. 2). Needs logps.wpoChosen/wpoRejected.",
  },
  desirable_weight: {
    type: 'number',
    source: 'TRL KTOConfig.desirable_weight',
    default: 1,
    min: 0,
    doc:
      "λ_D, the weight of each desirable example's loss in kto and apo_zero_unpaired. With n_D desirable and n_U undesirable examples, " +
      'KTO (Ethayarajh et al. 2024, §4.2) and TRL advise λ_D·n_D / (λ_U·n_U) in [1, 4/3]; the trainer logs a warning outside it.',
  },
  undesirable_weight: {
    type: 'number',
    source: 'TRL KTOConfig.undesirable_weight',
    default: 1,
    min: 0,
    doc: "λ_U, the weight of each undesirable example's loss in kto and apo_zero_unpaired (see desirable_weight for the rule of thumb).",
  },
  loss_weights: {
    type: 'number[]',
    default: null,
    doc: 'One weight per entry of a loss_type list (e.g. MPO: [0.8, 0.2, 1.0]); default 1 each.',
  },
} as const satisfies Record<string, Field>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];

/** The config a caller writes: every key optional except as the chosen loss requires; null leaves a key at its default. */
export type PreferenceLossConfig = SchemaInput<typeof CONFIG_SCHEMA>;

/** The config with defaults filled in; a key without default that was not given is null. */
export type ResolvedLossConfig = Readonly<SchemaValues<typeof CONFIG_SCHEMA>>;

// Configs made by resolveLossConfig: frozen, so preferenceLoss can trust them without checking again.
const resolvedConfigs = new WeakSet<object>();

/** Whether `config` came from resolveLossConfig (and so needs no checking again). */
export function isResolvedLossConfig(config: unknown): config is ResolvedLossConfig {
  return typeof config === 'object' && config !== null && resolvedConfigs.has(config);
}

/** Checks a loss config and collects every problem (none thrown); `where` names its source (a file, a flag). */
export function checkLossConfig(
  config: Readonly<Record<string, unknown>>,
  where?: (key: string) => string | null,
): Resolution<typeof CONFIG_SCHEMA> {
  return resolveSchema(CONFIG_SCHEMA, config, {
    error: LossConfigError,
    where,
    unknownKeys: 'error',
    nullOnNonNullable: 'unset',
    unknownKeyMessage: (key) =>
      key === 'loss_type' ? "pass the loss type (or list of loss types) as preferenceLoss's first argument, not inside the config." : null,
    unknownKeyHint: `Known keys: ${CONFIG_KEYS.join(', ')}.`,
  });
}

/**
 * Checks types and ranges, rejects unknown keys (suggesting the nearest known ones) and fills
 * defaults; every problem is reported in one LossConfigError. Whether a key suits the chosen loss
 * is checked by preferenceLoss, which knows it. The result is frozen, and preferenceLoss takes it
 * without checking it again: resolve once, then pass it to every call.
 */
export function resolveLossConfig(config: unknown): ResolvedLossConfig {
  if (isResolvedLossConfig(config)) return config;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new LossConfigError(
      'config',
      `expected an object of loss settings (e.g. { beta: 0.1 }), got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}.`,
    );
  }
  const { values, problems } = checkLossConfig(config as Record<string, unknown>);
  throwIfProblems(LossConfigError, problems);
  const resolved = Object.freeze(values);
  resolvedConfigs.add(resolved);
  return resolved;
}

/** Whether the caller set `key` to something other than its default (so it would change a loss). */
export function isSetToNonDefault(config: object, key: ConfigKey): boolean {
  const value = (config as Record<string, unknown>)[key];
  if (value === undefined || value === null) return false;
  const fallback = CONFIG_SCHEMA[key].default;
  return fallback === undefined || fallback === null || value !== fallback;
}
