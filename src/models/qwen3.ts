// Qwen3 (Qwen Team 2025) as transformers' Qwen3ForCausalLM: Qwen2's decoder without q/k/v biases
// (attention_bias, default false, sets biases on all four projections) and with an RMSNorm over
// each head of the queries and keys before RoPE (q_norm, k_norm: weights [head_dim] shared by
// the heads). head_dim is a config key of its own (128 by default, not hidden_size / heads).
// Sliding windows as Qwen2: only with use_sliding_window, from max_window_layers on.
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, floatKeysOf, type Resolved, resolveConfig } from './config-schema.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';
import { qwenLayerTypes } from './qwen2.js';

/** Qwen3Config's keys this package reads, with transformers' defaults. */
export const QWEN3_CONFIG_SCHEMA = {
  vocab_size: field.int(151936, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(4096, 'model width C', { min: 1 }),
  intermediate_size: field.int(22016, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(32, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(128, 'width D of each head (independent of hidden_size); null means hidden_size / num_attention_heads', {
    min: 2,
  }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(32768, 'context length, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-6, 'RMSNorm epsilon (every norm, q_norm and k_norm included)', { above: 0 }),
  tie_word_embeddings: field.bool(false, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(10000, 'RoPE base θ (transformers < 5; rope_parameters.rope_theta comes first)', { above: 0 }),
  rope_scaling: field.objectOrNull(
    'RoPE frequency scaling as transformers < 5 writes it: null, {rope_type: linear, factor} or {rope_type: llama3, ...}',
  ),
  rope_parameters: field.objectOrNull(
    'RoPE settings as transformers >= 5 writes them: {rope_type, rope_theta, factor, ...} (see rope-parameters.ts)',
  ),
  attention_bias: field.bool(false, 'biases on q_proj, k_proj, v_proj and o_proj'),
  use_sliding_window: field.bool(false, 'use sliding-window attention on layers from max_window_layers on'),
  sliding_window: field.intOrNull(4096, 'attention window in tokens, when use_sliding_window', { min: 1 }),
  max_window_layers: field.int(28, 'layers below this index use full attention', { min: 0 }),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  bos_token_id: field.tokenIds(null, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(null, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(null, 'padding token id'),
};

export type Qwen3Config = WithLlamaFamilyDefaults<Resolved<typeof QWEN3_CONFIG_SCHEMA>> & {
  /** Per layer, 'full_attention' or 'sliding_attention' (transformers' layer_types, derived when absent). */
  layer_types: ('full_attention' | 'sliding_attention')[];
};

/** Reads a Qwen3 config.json object: defaults filled (heads, RoPE in either format, layer_types), cross-field rules checked. */
export function resolveQwen3Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Qwen3Config {
  const c = resolveConfig(QWEN3_CONFIG_SCHEMA, raw, where);
  return withLlamaFamilyDefaults({ ...c, layer_types: qwenLayerTypes(c, raw, where) }, where);
}

/** Qwen3: attention_bias on all four projections, per-head q/k norms, Qwen2's sliding layers. */
function qwen3Variant(c: Qwen3Config): LlamaFamilyVariant {
  const window = c.use_sliding_window ? c.sliding_window : null;
  return {
    qkvBias: c.attention_bias,
    outputBias: c.attention_bias,
    mlpBias: false,
    slidingWindows: c.layer_types.map((t) => (t === 'sliding_attention' ? window : null)),
    qkNorm: 'head',
  };
}

export class Qwen3ForCausalLM extends LlamaDecoderModel<Qwen3Config> {
  readonly architecture = 'Qwen3ForCausalLM' as const;
  readonly modelType = 'qwen3';
  override readonly floatConfigKeys = floatKeysOf(QWEN3_CONFIG_SCHEMA);

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Qwen3Config, extra: Record<string, unknown> = {}) {
    super(store, config, qwen3Variant(config), extra);
  }
}
