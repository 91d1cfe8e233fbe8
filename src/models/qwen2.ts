// Qwen2 (Qwen2.5 too) as transformers' Qwen2ForCausalLM: the Llama decoder with biases on
// q_proj, k_proj and v_proj (none on o_proj), and sliding-window attention only when
// use_sliding_window is set, on layers from max_window_layers on (or as layer_types says).
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, type Resolved, resolveConfig } from './config-schema.js';
import { ModelConfigError } from './errors.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';

/** Qwen2Config's keys this package reads, with transformers' defaults. */
export const QWEN2_CONFIG_SCHEMA = {
  vocab_size: field.int(151936, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(4096, 'model width C', { min: 1 }),
  intermediate_size: field.int(22016, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(32, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(null, 'width of each head; null means hidden_size / num_attention_heads', { min: 2 }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(32768, 'context length, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-6, 'RMSNorm epsilon', { above: 0 }),
  tie_word_embeddings: field.bool(false, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(10000, 'RoPE base θ (transformers < 5; rope_parameters.rope_theta comes first)', { above: 0 }),
  rope_scaling: field.objectOrNull(
    'RoPE frequency scaling as transformers < 5 writes it: null, {rope_type: linear, factor} or {rope_type: llama3, ...}',
  ),
  rope_parameters: field.objectOrNull(
    'RoPE settings as transformers >= 5 writes them: {rope_type, rope_theta, factor, ...} (see rope-parameters.ts)',
  ),
  use_sliding_window: field.bool(false, 'use sliding-window attention on layers from max_window_layers on'),
  sliding_window: field.intOrNull(4096, 'attention window in tokens, when use_sliding_window', { min: 1 }),
  max_window_layers: field.int(28, 'layers below this index use full attention', { min: 0 }),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  bos_token_id: field.tokenIds(null, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(null, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(null, 'padding token id'),
};

export type Qwen2Config = WithLlamaFamilyDefaults<Resolved<typeof QWEN2_CONFIG_SCHEMA>> & {
  /** Per layer, 'full_attention' or 'sliding_attention' (transformers' layer_types, derived when absent). */
  layer_types: ('full_attention' | 'sliding_attention')[];
};

/** Reads a Qwen2 config.json object: defaults filled (heads, RoPE in either format, layer_types), cross-field rules checked. */
export function resolveQwen2Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Qwen2Config {
  const c = resolveConfig(QWEN2_CONFIG_SCHEMA, raw, where);
  return withLlamaFamilyDefaults({ ...c, layer_types: qwenLayerTypes(c, raw, where) }, where);
}

/**
 * Qwen2's and Qwen3's layer_types: as config.json lists them, else sliding from max_window_layers
 * on when use_sliding_window (transformers' Qwen2Config / Qwen3Config __post_init__).
 */
export function qwenLayerTypes(
  c: { use_sliding_window: boolean; sliding_window: number | null; max_window_layers: number; num_hidden_layers: number },
  raw: Readonly<Record<string, unknown>>,
  where: string,
): ('full_attention' | 'sliding_attention')[] {
  const window = c.use_sliding_window ? c.sliding_window : null;
  const given = raw['layer_types'];
  if (given === undefined || given === null) {
    return Array.from({ length: c.num_hidden_layers }, (_, i) =>
      window !== null && i >= c.max_window_layers ? 'sliding_attention' : 'full_attention',
    );
  }
  if (
    Array.isArray(given) &&
    given.length === c.num_hidden_layers &&
    given.every((t) => t === 'full_attention' || t === 'sliding_attention')
  ) {
    return given as ('full_attention' | 'sliding_attention')[];
  }
  throw new ModelConfigError('layer_types', `expected ${c.num_hidden_layers} entries of 'full_attention' or 'sliding_attention'`, where);
}

/** Qwen2: biases on q/k/v only; the sliding window (when use_sliding_window) on the layers layer_types marks. */
function qwen2Variant(c: Qwen2Config): LlamaFamilyVariant {
  const window = c.use_sliding_window ? c.sliding_window : null;
  return {
    qkvBias: true,
    outputBias: false,
    mlpBias: false,
    slidingWindows: c.layer_types.map((t) => (t === 'sliding_attention' ? window : null)),
  };
}

export class Qwen2ForCausalLM extends LlamaDecoderModel<Qwen2Config> {
  readonly architecture = 'Qwen2ForCausalLM' as const;
  readonly modelType = 'qwen2';

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Qwen2Config, extra: Record<string, unknown> = {}) {
    super(store, config, qwen2Variant(config), extra);
  }
}
