// Gemma 2 (Gemma Team 2024, arXiv 2408.00118) as transformers' Gemma2ForCausalLM: the Gemma
// decoder (gemma-decoder.ts) with attention logits soft-capped at 50 and final logits at 30 by
// default, every other layer on a sliding window (layers 0, 2, 4, … unless layer_types says
// otherwise) and one RoPE setting for all layers.
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import type { RopeParameters } from '../nn/rotary-embedding.js';
import { field, floatKeysOf, type Resolved, resolveConfig } from './config-schema.js';
import { checkGemmaConfig, GemmaDecoderModel, type GemmaLayerType, type GemmaVariant, gemmaLayerTypes } from './gemma-decoder.js';
import { legacyRopeScaling, resolveRopeParameters } from './rope-parameters.js';

/** Gemma2Config's keys this package reads, with transformers' defaults. */
export const GEMMA2_CONFIG_SCHEMA = {
  vocab_size: field.int(256000, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(2304, 'model width C (embeddings are scaled by √C)', { min: 1 }),
  intermediate_size: field.int(9216, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(26, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(8, 'query heads H', { min: 1 }),
  num_key_value_heads: field.int(4, 'key/value heads (grouped-query attention)', { min: 1 }),
  head_dim: field.int(256, 'width D of each head (independent of hidden_size)', { min: 2 }),
  hidden_activation: field.choice('gelu_pytorch_tanh', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name; tanh GELU: GeGLU)'),
  max_position_embeddings: field.int(8192, 'context length, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-6, 'RMSNorm epsilon', { above: 0 }),
  tie_word_embeddings: field.bool(true, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(10000, 'RoPE base θ (transformers < 5; rope_parameters.rope_theta comes first)', { above: 0 }),
  rope_scaling: field.objectOrNull('RoPE frequency scaling as transformers < 5 writes it: null, linear or llama3'),
  rope_parameters: field.objectOrNull('RoPE settings as transformers >= 5 writes them: {rope_type, rope_theta, ...}'),
  attention_bias: field.bool(false, 'biases on q_proj, k_proj, v_proj and o_proj'),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  query_pre_attn_scalar: field.int(256, 'attention scores are scaled by query_pre_attn_scalar^−½ (not head_dim^−½)', { min: 1 }),
  sliding_window: field.intOrNull(4096, 'attention window in tokens of the sliding layers', { min: 1 }),
  final_logit_softcapping: field.numberOrNull(30, 'logits become cap·tanh(logits / cap); null: none', { above: 0 }),
  attn_logit_softcapping: field.numberOrNull(50, 'attention scores become cap·tanh(scores / cap) before masking; null: none', { above: 0 }),
  bos_token_id: field.tokenIds(2, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(1, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(0, 'padding token id'),
};

export type Gemma2Config = Omit<Resolved<typeof GEMMA2_CONFIG_SCHEMA>, 'rope_parameters'> & {
  rope_parameters: RopeParameters;
  /** Per layer, 'full_attention' or 'sliding_attention' (transformers' layer_types, derived when absent). */
  layer_types: GemmaLayerType[];
};

/** Reads a Gemma 2 config.json object: defaults filled (layer_types, RoPE in either format), cross-field rules checked. */
export function resolveGemma2Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Gemma2Config {
  const c = resolveConfig(GEMMA2_CONFIG_SCHEMA, raw, where);
  const rope = resolveRopeParameters(c, where);
  const resolved = {
    ...c,
    layer_types: gemmaLayerTypes(raw, c.num_hidden_layers, 2, where),
    rope_theta: rope.rope_theta,
    rope_scaling: legacyRopeScaling(rope),
    rope_parameters: rope,
  };
  checkGemmaConfig(resolved, where);
  return resolved;
}

export class Gemma2ForCausalLM extends GemmaDecoderModel<Gemma2Config> {
  readonly architecture = 'Gemma2ForCausalLM' as const;
  readonly modelType = 'gemma2';
  override readonly floatConfigKeys = floatKeysOf(GEMMA2_CONFIG_SCHEMA);

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Gemma2Config, extra: Record<string, unknown> = {}) {
    const rope = config.rope_parameters;
    const variant: GemmaVariant = { qkNorm: false, rope: { full_attention: rope, sliding_attention: rope } };
    super(store, config, variant, extra);
  }
}
