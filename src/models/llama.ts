// Llama (Touvron et al. 2023; also SmolLM, TinyLlama, Llama 3.x) as transformers'
// LlamaForCausalLM: config keys and defaults of LlamaConfig; the decoder is llama-decoder.ts.
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, type Resolved, resolveConfig } from './config-schema.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';

/** LlamaConfig's keys this package reads, with transformers' defaults. */
export const LLAMA_CONFIG_SCHEMA = {
  vocab_size: field.int(32000, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(4096, 'model width C', { min: 1 }),
  intermediate_size: field.int(11008, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(null, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(null, 'width of each head; null means hidden_size / num_attention_heads', { min: 2 }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(2048, 'context length the model was trained for, in tokens (informational for RoPE)', { min: 1 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-6, 'RMSNorm epsilon', { above: 0 }),
  pretraining_tp: field.int(1, 'tensor-parallel slices used in pretraining (numerically the same computation; not used)', { min: 1 }),
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
  mlp_bias: field.bool(false, 'biases on gate_proj, up_proj and down_proj'),
  bos_token_id: field.tokenIds(1, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(2, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(null, 'padding token id'),
};

export type LlamaConfig = WithLlamaFamilyDefaults<Resolved<typeof LLAMA_CONFIG_SCHEMA>>;

/** Reads a Llama config.json object: defaults filled (heads, RoPE in either format), cross-field rules checked. */
export function resolveLlamaConfig(raw: Readonly<Record<string, unknown>>, where = 'config.json'): LlamaConfig {
  return withLlamaFamilyDefaults(resolveConfig(LLAMA_CONFIG_SCHEMA, raw, where), where);
}

/** Llama's biases: attention_bias on q/k/v and o_proj, mlp_bias on the MLP; no sliding window. */
export function llamaVariant(c: LlamaConfig): LlamaFamilyVariant {
  return {
    qkvBias: c.attention_bias,
    outputBias: c.attention_bias,
    mlpBias: c.mlp_bias,
    slidingWindows: new Array(c.num_hidden_layers).fill(null),
  };
}

export class LlamaForCausalLM extends LlamaDecoderModel<LlamaConfig> {
  readonly architecture = 'LlamaForCausalLM' as const;
  readonly modelType = 'llama';

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: LlamaConfig, extra: Record<string, unknown> = {}) {
    super(store, config, llamaVariant(config), extra);
  }
}
