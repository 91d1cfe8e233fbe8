// Gemma 3 text models (Gemma Team 2025, arXiv 2503.19786) as transformers' Gemma3ForCausalLM
// (model_type gemma3_text: the 270M and 1B checkpoints; the multimodal Gemma3ForConditionalGeneration
// folders are not this class). The Gemma decoder (gemma-decoder.ts) with per-head q/k norms, no
// soft-capping by default, five sliding-window layers for each full one (sliding_window_pattern 6)
// and two RoPE settings: θ = rope_local_base_freq (10⁴) on sliding layers, θ = rope_theta (10⁶)
// with rope_scaling on full layers. transformers 5 writes them as rope_parameters per layer type
// ({full_attention: {...}, sliding_attention: {...}}); 4.x as rope_theta, rope_local_base_freq and
// rope_scaling (which transformers 5 merges into full_attention's settings). Both are read, and
// both are written back, consistently.
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import type { RopeParameters } from '../nn/rotary-embedding.js';
import { field, floatKeysOf, type Resolved, requireConfig, resolveConfig } from './config-schema.js';
import { ModelConfigError } from './errors.js';
import { checkGemmaConfig, GemmaDecoderModel, type GemmaLayerType, gemmaLayerTypes } from './gemma-decoder.js';
import { legacyRopeScaling, resolveRopeParameters } from './rope-parameters.js';

/** Gemma3TextConfig's keys this package reads, with transformers' defaults. */
export const GEMMA3_TEXT_CONFIG_SCHEMA = {
  vocab_size: field.int(262208, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(2304, 'model width C (embeddings are scaled by √C)', { min: 1 }),
  intermediate_size: field.int(9216, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(26, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(8, 'query heads H', { min: 1 }),
  num_key_value_heads: field.int(4, 'key/value heads (grouped-query attention)', { min: 1 }),
  head_dim: field.int(256, 'width D of each head (independent of hidden_size)', { min: 2 }),
  hidden_activation: field.choice('gelu_pytorch_tanh', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name; tanh GELU: GeGLU)'),
  max_position_embeddings: field.int(131072, 'context length, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-6, 'RMSNorm epsilon (every norm, q_norm and k_norm included)', { above: 0 }),
  tie_word_embeddings: field.bool(true, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(1e6, 'RoPE base θ of the full-attention layers (transformers < 5)', { above: 0 }),
  rope_local_base_freq: field.number(1e4, 'RoPE base θ of the sliding-window layers (transformers < 5)', { above: 0 }),
  rope_scaling: field.objectOrNull('RoPE scaling of the full-attention layers: null, linear or llama3 (transformers < 5)'),
  rope_parameters: field.objectOrNull(
    'RoPE settings per layer type as transformers >= 5 writes them: {full_attention: {rope_type, rope_theta, ...}, sliding_attention: {...}}',
  ),
  attention_bias: field.bool(false, 'biases on q_proj, k_proj, v_proj and o_proj'),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  query_pre_attn_scalar: field.int(256, 'attention scores are scaled by query_pre_attn_scalar^−½ (not head_dim^−½)', { min: 1 }),
  sliding_window: field.intOrNull(4096, 'attention window in tokens of the sliding layers', { min: 1 }),
  sliding_window_pattern: field.int(6, 'every this-many-th layer has full attention when layer_types is absent', { min: 1 }),
  final_logit_softcapping: field.numberOrNull(null, 'logits become cap·tanh(logits / cap); null: none', { above: 0 }),
  attn_logit_softcapping: field.numberOrNull(null, 'attention scores become cap·tanh(scores / cap) before masking; null: none', {
    above: 0,
  }),
  use_bidirectional_attention: field.bool(false, 'bidirectional attention (EmbeddingGemma); only false is implemented'),
  bos_token_id: field.tokenIds(2, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(1, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(0, 'padding token id'),
};

export type Gemma3TextConfig = Omit<Resolved<typeof GEMMA3_TEXT_CONFIG_SCHEMA>, 'rope_parameters'> & {
  rope_parameters: Record<GemmaLayerType, RopeParameters>;
  /** Per layer, 'full_attention' or 'sliding_attention' (transformers' layer_types, derived when absent). */
  layer_types: GemmaLayerType[];
};

type RawGemma3 = Resolved<typeof GEMMA3_TEXT_CONFIG_SCHEMA>;

/** The RoPE settings of each layer type, read as transformers 5's Gemma3TextConfig.convert_rope_params_to_dict does. */
function resolveGemma3Rope(c: RawGemma3, where: string): Record<GemmaLayerType, RopeParameters> {
  const given = c.rope_parameters ?? {};
  const keys = Object.keys(given);
  const unknown = keys.filter((k) => k !== 'full_attention' && k !== 'sliding_attention');
  if (unknown.length > 0) {
    throw new ModelConfigError(
      'rope_parameters',
      `Gemma 3 gives RoPE settings per layer type ({full_attention: {...}, sliding_attention: {...}}); found ${unknown.join(', ')}`,
      where,
    );
  }
  const part = (type: GemmaLayerType): Record<string, unknown> => {
    const v = given[type];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ModelConfigError(`rope_parameters.${type}`, 'expected an object', where);
    return v as Record<string, unknown>;
  };
  const common = { rope_scaling: null, max_position_embeddings: c.max_position_embeddings };
  // rope_scaling (transformers 4) is merged into the full-attention settings, as transformers 5 does.
  const full = resolveRopeParameters(
    { ...common, rope_theta: c.rope_theta, rope_parameters: { ...part('full_attention'), ...(c.rope_scaling ?? {}) } },
    where,
  );
  const sliding = resolveRopeParameters(
    { ...common, rope_theta: c.rope_local_base_freq, rope_parameters: part('sliding_attention') },
    where,
  );
  return { full_attention: full, sliding_attention: sliding };
}

/** Reads a Gemma 3 text config.json object: defaults filled (layer_types, RoPE per layer type in either format), rules checked. */
export function resolveGemma3TextConfig(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Gemma3TextConfig {
  const c = resolveConfig(GEMMA3_TEXT_CONFIG_SCHEMA, raw, where);
  requireConfig(
    !c.use_bidirectional_attention,
    'use_bidirectional_attention',
    'is true: bidirectional attention (EmbeddingGemma) is not implemented; this package runs causal language models',
    where,
  );
  const rope = resolveGemma3Rope(c, where);
  const resolved = {
    ...c,
    layer_types: gemmaLayerTypes(raw, c.num_hidden_layers, c.sliding_window_pattern, where),
    // All three forms written consistently, so transformers 4.x and 5.x read the same model.
    rope_parameters: rope,
    rope_theta: rope.full_attention.rope_theta,
    rope_local_base_freq: rope.sliding_attention.rope_theta,
    rope_scaling: legacyRopeScaling(rope.full_attention),
  };
  checkGemmaConfig(resolved, where);
  return resolved;
}

export class Gemma3ForCausalLM extends GemmaDecoderModel<Gemma3TextConfig> {
  readonly architecture = 'Gemma3ForCausalLM' as const;
  readonly modelType = 'gemma3_text';
  override readonly floatConfigKeys = floatKeysOf(GEMMA3_TEXT_CONFIG_SCHEMA);

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Gemma3TextConfig, extra: Record<string, unknown> = {}) {
    super(store, config, { qkNorm: true, rope: config.rope_parameters }, extra);
  }
}
