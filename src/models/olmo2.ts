// OLMo 2 (OLMo et al. 2024, arXiv 2501.00656) as transformers' Olmo2ForCausalLM: the Llama
// decoder with the norms moved after each sublayer (h = x + post_attention_layernorm(attn(x));
// out = h + post_feedforward_layernorm(mlp(h)); no input_layernorm), RMSNorm of the whole query
// and key projections before they are split into heads (q_norm [H·D], k_norm [Hkv·D]), and
// RMSNorm weights applied in float32 before the cast back (Olmo2RMSNorm).
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, floatKeysOf, type Resolved, resolveConfig } from './config-schema.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';

/** Olmo2Config's keys this package reads, with transformers' defaults. */
export const OLMO2_CONFIG_SCHEMA = {
  vocab_size: field.int(50304, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(4096, 'model width C', { min: 1 }),
  intermediate_size: field.int(11008, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(null, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(null, 'width of each head; null means hidden_size / num_attention_heads', { min: 2 }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(2048, 'context length, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-5, 'RMSNorm epsilon (every norm, q_norm and k_norm included)', { above: 0 }),
  tie_word_embeddings: field.bool(false, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(10000, 'RoPE base θ (transformers < 5; rope_parameters.rope_theta comes first)', { above: 0 }),
  rope_scaling: field.objectOrNull(
    'RoPE frequency scaling as transformers < 5 writes it: null, {rope_type: linear, factor} or {rope_type: llama3, ...}',
  ),
  rope_parameters: field.objectOrNull(
    'RoPE settings as transformers >= 5 writes them: {rope_type, rope_theta, factor, ...} (see rope-parameters.ts)',
  ),
  attention_bias: field.bool(false, 'biases on q_proj, k_proj, v_proj and o_proj'),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  bos_token_id: field.tokenIds(null, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(50279, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(1, 'padding token id'),
};

export type Olmo2Config = WithLlamaFamilyDefaults<Resolved<typeof OLMO2_CONFIG_SCHEMA>>;

/** Reads an OLMo 2 config.json object: defaults filled (heads, RoPE in either format), cross-field rules checked. */
export function resolveOlmo2Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Olmo2Config {
  return withLlamaFamilyDefaults(resolveConfig(OLMO2_CONFIG_SCHEMA, raw, where), where);
}

/** OLMo 2: attention_bias on all four projections, post-sublayer norms, q/k norms over the projections. */
function olmo2Variant(c: Olmo2Config): LlamaFamilyVariant {
  return {
    qkvBias: c.attention_bias,
    outputBias: c.attention_bias,
    mlpBias: false,
    slidingWindows: new Array(c.num_hidden_layers).fill(null),
    qkNorm: 'projection',
    normStyle: 'float32',
    normPlacement: 'post',
  };
}

export class Olmo2ForCausalLM extends LlamaDecoderModel<Olmo2Config> {
  readonly architecture = 'Olmo2ForCausalLM' as const;
  readonly modelType = 'olmo2';
  override readonly floatConfigKeys = floatKeysOf(OLMO2_CONFIG_SCHEMA);

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Olmo2Config, extra: Record<string, unknown> = {}) {
    super(store, config, olmo2Variant(config), extra);
  }
}
