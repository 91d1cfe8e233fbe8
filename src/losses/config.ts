// The preference-loss config: one schema (type, default, range, doc with source and units) from
// which the TypeScript type, the defaults and the validation all come. Keys are the reference
// code's and TRL's names, so an existing YAML keeps working; they stay snake_case on purpose.
import { LossConfigError } from './errors.js';
import { nearestName } from './nearest-name.js';

export const NORMALIZATIONS = ['ema-moments', 'ema', 'ema-debiased', 'batch', 'none'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

export const F_DIVERGENCES = ['reverse_kl', 'forward_kl', 'js_divergence', 'alpha_divergence'] as const;
export type FDivergenceType = (typeof F_DIVERGENCES)[number];

interface NumberField {
  type: 'number';
  /** undefined: no default, required by the losses that use it; null: off unless set. */
  default: number | null | undefined;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  doc: string;
}
interface BooleanField {
  type: 'boolean';
  default: boolean;
  doc: string;
}
interface EnumField {
  type: 'enum';
  values: readonly string[];
  default: string;
  doc: string;
}
interface NumberListField {
  type: 'number[]';
  default: null;
  doc: string;
}
type FieldSpec = NumberField | BooleanField | EnumField | NumberListField;

/** Every config key, with its default, range, unit and source. docs/losses.md tabulates the same. */
export const CONFIG_SCHEMA = {
  beta: {
    type: 'number',
    default: undefined,
    min: 0,
    minExclusive: true,
    doc:
      'β, the inverse temperature of the implicit reward (logit units per nat of log-prob score; for ipo it is τ, for orpo λ). ' +
      'No default: TRL DPO uses 0.1 on summed log-probs, SimPO and α-DPO use 2–10 on per-token averages.',
  },
  label_smoothing: {
    type: 'number',
    default: 0,
    min: 0,
    max: 0.5,
    doc: 'ε, the assumed probability that a preference label is flipped (cDPO, robust, EXO, AOT, SimPO, α-DPO, CPO, R-DPO). 0 in every published α-DPO run.',
  },
  gamma_beta_ratio: {
    type: 'number',
    default: 0.25,
    doc: 'γ_r, the target reward margin in per-token log-prob units (nats/token); paper γ = β·γ_r. Default 0.25 as in the SimPO and α-DPO configs.',
  },
  alpha: {
    type: 'number',
    default: undefined,
    min: 0,
    doc: "α-DPO's α: weight of the gap's z-score in the margin (nats/token per unit z); paper α·M = β·α·z. Published 0.05–0.2; α = 0 is SimPO.",
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
    doc: "Whether evaluation calls update α-DPO's running statistics (true reproduces the reference, which updates on every batch).",
  },
  sft_weight: {
    type: 'number',
    default: 0,
    min: 0,
    doc: "Weight of the chosen completions' token-mean NLL added to simpo / simpo_hinge (SimPO repo's sft_weight).",
  },
  cpo_alpha: {
    type: 'number',
    default: 1,
    min: 0,
    doc: "Weight of the chosen completions' token-mean NLL in CPO (TRL CPOConfig.cpo_alpha).",
  },
  rdpo_alpha: {
    type: 'number',
    default: undefined,
    doc: "R-DPO's α: logit penalty per token of length difference, σ(β·(Δπ − Δref) − α·(|y_w| − |y_l|)) (Park et al. 2024). The α-DPO repo's gamma_beta_ratio for rDPO is rdpo_alpha/β.",
  },
  discopop_tau: {
    type: 'number',
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
    default: null,
    min: 0,
    max: 1,
    doc: 'LD-DPO α: weight of the log-probs of tokens beyond the shorter completion of the pair (1 = plain sums, 0 = shared prefix only). Needs logps.tokens.',
  },
  use_weighting: {
    type: 'boolean',
    default: false,
    doc: "WPO weighting: multiply each pair's loss by exp(w_chosen + w_rejected), the per-token-mean aligned log-probs (Zhou et al. 2024, Eq. 2). Needs logps.wpoChosen/wpoRejected.",
  },
  loss_weights: {
    type: 'number[]',
    default: null,
    doc: 'One weight per entry of a loss_type list (e.g. MPO: [0.8, 0.2, 1.0]); default 1 each.',
  },
} as const satisfies Record<string, FieldSpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];

/** The config a caller writes: every key optional except as the chosen loss requires. */
export interface PreferenceLossConfig {
  beta?: number;
  label_smoothing?: number;
  gamma_beta_ratio?: number;
  alpha?: number;
  normalization?: Normalization;
  ema_momentum?: number;
  eps?: number;
  update_stats_in_eval?: boolean;
  sft_weight?: number;
  cpo_alpha?: number;
  rdpo_alpha?: number;
  discopop_tau?: number;
  f_divergence_type?: FDivergenceType;
  f_alpha_divergence_coef?: number;
  ld_alpha?: number | null;
  use_weighting?: boolean;
  loss_weights?: readonly number[] | null;
}

/** The config with defaults filled in; a key without default that was not given is null. */
export interface ResolvedLossConfig {
  beta: number | null;
  label_smoothing: number;
  gamma_beta_ratio: number;
  alpha: number | null;
  normalization: Normalization;
  ema_momentum: number;
  eps: number;
  update_stats_in_eval: boolean;
  sft_weight: number;
  cpo_alpha: number;
  rdpo_alpha: number | null;
  discopop_tau: number;
  f_divergence_type: FDivergenceType;
  f_alpha_divergence_coef: number;
  ld_alpha: number | null;
  use_weighting: boolean;
  loss_weights: readonly number[] | null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

function checkNumber(key: string, spec: NumberField, value: unknown): number {
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    // YAML 1.1 parsers read `5e-2` (no dot) as a string: the reference code crashes on it.
    throw new LossConfigError(
      key,
      `expected a number, got ${describe(value)}. YAML 1.1 reads exponent forms without a dot (5e-2) as strings: write 0.05 or 5.0e-2.`,
    );
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LossConfigError(
      key,
      `expected a finite number, got ${typeof value === 'number' ? String(value) : describe(value)}. ${spec.doc}`,
    );
  }
  const low = spec.min;
  const high = spec.max;
  const belowMin = low !== undefined && (spec.minExclusive ? value <= low : value < low);
  const aboveMax = high !== undefined && (spec.maxExclusive ? value >= high : value > high);
  if (belowMin || aboveMax) {
    const lo = low === undefined ? '' : `${spec.minExclusive ? '>' : '≥'} ${low}`;
    const hi = high === undefined ? '' : `${spec.maxExclusive ? '<' : '≤'} ${high}`;
    throw new LossConfigError(key, `${value} is out of range: it must be ${[lo, hi].filter(Boolean).join(' and ')}. ${spec.doc}`);
  }
  return value;
}

function checkField(key: ConfigKey, value: unknown): unknown {
  const spec: FieldSpec = CONFIG_SCHEMA[key];
  switch (spec.type) {
    case 'number':
      if (value === null && spec.default === null) return null;
      return checkNumber(key, spec, value);
    case 'boolean':
      if (typeof value !== 'boolean') throw new LossConfigError(key, `expected true or false, got ${describe(value)}. ${spec.doc}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        const near = typeof value === 'string' ? nearestName(value, spec.values) : null;
        throw new LossConfigError(
          key,
          `expected one of ${spec.values.map((v) => `'${v}'`).join(', ')}, got ${describe(value)}.${near ? ` Did you mean '${near}'?` : ''}`,
        );
      }
      return value;
    case 'number[]':
      if (value === null) return null;
      if (!Array.isArray(value) || value.length === 0)
        throw new LossConfigError(key, `expected a non-empty list of numbers, got ${describe(value)}.`);
      value.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new LossConfigError(`${key}[${i}]`, `expected a finite number, got ${describe(v)}.`);
      });
      return Object.freeze([...value]);
  }
}

/**
 * Checks types and ranges, rejects unknown keys (suggesting the nearest known one) and fills
 * defaults. Whether a key suits the chosen loss is checked by preferenceLoss, which knows it.
 */
export function resolveLossConfig(config: unknown): ResolvedLossConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new LossConfigError('config', `expected an object of loss settings (e.g. { beta: 0.1 }), got ${describe(config)}.`);
  }
  const raw = config as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key in CONFIG_SCHEMA) continue;
    if (key === 'loss_type') {
      throw new LossConfigError(
        key,
        "pass the loss type (or list of loss types) as preferenceLoss's first argument, not inside the config.",
      );
    }
    const near = nearestName(key, CONFIG_KEYS);
    throw new LossConfigError(key, `unknown config key.${near ? ` Did you mean '${near}'?` : ''} Known keys: ${CONFIG_KEYS.join(', ')}.`);
  }
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = raw[key];
    out[key] = value === undefined ? (CONFIG_SCHEMA[key].default ?? null) : checkField(key, value);
  }
  return Object.freeze(out) as unknown as ResolvedLossConfig;
}

/** Whether the caller set `key` to something other than its default (so it would change a loss). */
export function isSetToNonDefault(config: object, key: ConfigKey): boolean {
  const value = (config as Record<string, unknown>)[key];
  if (value === undefined || value === null) return false;
  const fallback = CONFIG_SCHEMA[key].default;
  return fallback === undefined || fallback === null || value !== fallback;
}
