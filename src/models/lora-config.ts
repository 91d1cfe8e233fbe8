// LoRA settings and PEFT's adapter_config.json (peft/tuners/lora/config.py LoraConfig, PEFT
// 0.21; the file is LoraConfig.to_dict() as PeftModel.save_pretrained writes it). Only plain
// LoRA is implemented: fields that select a variant (DoRA, bias training, per-layer ranks, ...)
// are refused with their name rather than silently ignored.
import { AlphaDpoError } from '../errors.js';

export interface LoraSettings {
  /** Rank r of A [r, in] and B [out, r]. */
  r: number;
  /** α: the branch is scaled by α / r (α / √r with rsLoRA). */
  lora_alpha: number;
  /** Dropout probability on the branch's input, training mode only. */
  lora_dropout: number;
  /** Module names (exact or a dotted suffix, e.g. `q_proj`), 'all-linear', or one regular expression matched against the whole module name. */
  target_modules: readonly string[] | string;
  /** Modules trained in full and saved with the adapter (e.g. `ln_f`); null for none. */
  modules_to_save: readonly string[] | null;
  /** rsLoRA (Kalajdzievski 2023): scaling α / √r instead of α / r. */
  use_rslora: boolean;
}

/** An adapter folder or adapter setting that cannot be used; the message says which file or key and what to do. */
export class AdapterError extends AlphaDpoError {}

/** PEFT's scaling of the branch (tuners/lora/layer.py update_layer). */
export function loraScaling(s: Pick<LoraSettings, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return s.use_rslora ? s.lora_alpha / Math.sqrt(s.r) : s.lora_alpha / s.r;
}

/** Throws AdapterError for settings no LoRA layer can have. */
export function checkLoraSettings(s: LoraSettings, where: string): void {
  if (!(Number.isInteger(s.r) && s.r > 0)) throw new AdapterError(`${where}: r (lora_r) must be a whole number ≥ 1, got ${s.r}.`);
  if (!Number.isFinite(s.lora_alpha)) throw new AdapterError(`${where}: lora_alpha must be a number, got ${s.lora_alpha}.`);
  if (!(s.lora_dropout >= 0 && s.lora_dropout < 1))
    throw new AdapterError(`${where}: lora_dropout must be in [0, 1), got ${s.lora_dropout}.`);
  const t = s.target_modules;
  if ((typeof t === 'string' && t === '') || (Array.isArray(t) && t.length === 0))
    throw new AdapterError(`${where}: target_modules is empty: name the layers to adapt (e.g. [q_proj, v_proj]) or 'all-linear'.`);
}

/**
 * adapter_config.json as PEFT writes it. `fanInFanOut` is true for GPT-2 (Conv1D weights), as
 * PEFT sets it there; the variant fields are written at their "off" values so PEFT reads plain LoRA.
 */
export function adapterConfigJson(
  s: LoraSettings,
  extra: { fanInFanOut: boolean; baseModel: string | null; targets: readonly string[] },
): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: extra.baseModel,
    r: s.r,
    lora_alpha: s.lora_alpha,
    lora_dropout: s.lora_dropout,
    // The resolved module names, as PEFT itself writes them for 'all-linear'.
    target_modules: [...extra.targets],
    modules_to_save: s.modules_to_save === null ? null : [...s.modules_to_save],
    fan_in_fan_out: extra.fanInFanOut,
    bias: 'none',
    use_rslora: s.use_rslora,
    use_dora: false,
    init_lora_weights: true,
    inference_mode: true,
    rank_pattern: {},
    alpha_pattern: {},
    layers_to_transform: null,
    layers_pattern: null,
    exclude_modules: null,
    target_parameters: null,
    trainable_token_indices: null,
    lora_bias: false,
    revision: null,
  };
}

/** Fields whose non-default values select a LoRA variant this package does not implement. */
const VARIANT_FIELDS: readonly [string, (v: unknown) => boolean, string][] = [
  ['use_dora', (v) => v === true, 'DoRA'],
  ['bias', (v) => v !== undefined && v !== 'none', 'trained biases'],
  ['lora_bias', (v) => v === true, 'a bias in lora_B'],
  ['rank_pattern', (v) => v !== undefined && v !== null && Object.keys(v as object).length > 0, 'per-layer ranks'],
  ['alpha_pattern', (v) => v !== undefined && v !== null && Object.keys(v as object).length > 0, 'per-layer alphas'],
  ['layers_to_transform', (v) => v !== undefined && v !== null, 'adapting only some layer indices'],
  ['exclude_modules', (v) => v !== undefined && v !== null && (v as unknown[]).length !== 0, 'excluded modules'],
  ['target_parameters', (v) => v !== undefined && v !== null && (v as unknown[]).length !== 0, 'LoRA on bare parameters'],
  ['trainable_token_indices', (v) => v !== undefined && v !== null, 'trainable token rows'],
  ['use_qalora', (v) => v === true, 'QA-LoRA'],
  ['layer_replication', (v) => v !== undefined && v !== null, 'layer replication'],
];

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** LoraSettings from a parsed adapter_config.json (`where` names the file in messages). */
export function parseAdapterConfig(raw: unknown, where: string): LoraSettings & { base_model_name_or_path: string | null } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AdapterError(`${where} must hold a JSON object.`);
  const c = raw as Record<string, unknown>;
  if (c.peft_type !== 'LORA') {
    throw new AdapterError(`${where}: peft_type is ${JSON.stringify(c.peft_type)}; only LoRA adapters ("LORA") are supported.`);
  }
  if (c.task_type !== undefined && c.task_type !== null && c.task_type !== 'CAUSAL_LM') {
    throw new AdapterError(`${where}: task_type is ${JSON.stringify(c.task_type)}; only CAUSAL_LM adapters can be loaded on a causal LM.`);
  }
  for (const [key, isSet, what] of VARIANT_FIELDS) {
    if (isSet(c[key])) throw new AdapterError(`${where}: ${key} = ${JSON.stringify(c[key])} asks for ${what}, which is not implemented.`);
  }
  const num = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number') throw new AdapterError(`${where}: ${key} must be a number, got ${JSON.stringify(v)}.`);
    return v;
  };
  const targets = c.target_modules;
  if (!(typeof targets === 'string' || isStringList(targets))) {
    throw new AdapterError(
      `${where}: target_modules must be a list of module names or one regular expression, got ${JSON.stringify(targets)}.`,
    );
  }
  const save = c.modules_to_save ?? null;
  if (save !== null && !isStringList(save)) throw new AdapterError(`${where}: modules_to_save must be a list of module names or null.`);
  const base = c.base_model_name_or_path ?? null;
  const settings = {
    r: num('r', 8),
    lora_alpha: num('lora_alpha', 8),
    lora_dropout: num('lora_dropout', 0),
    target_modules: targets,
    modules_to_save: save,
    use_rslora: c.use_rslora === true,
    base_model_name_or_path: typeof base === 'string' ? base : null,
  };
  checkLoraSettings(settings, where);
  return settings;
}

/**
 * PEFT's default target_modules per model_type, used when none are given
 * (peft/utils/constants.py TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING); null where PEFT
 * has none (Phi-3, OLMo 2), which, as in PEFT, means the targets must be named.
 */
export function defaultLoraTargets(modelType: string): string[] | null {
  if (modelType === 'gpt2') return ['c_attn'];
  if (['llama', 'mistral', 'qwen2', 'qwen3', 'gemma2', 'gemma3_text'].includes(modelType)) return ['q_proj', 'v_proj'];
  return null;
}
