// Mistral (Jiang et al. 2023) as transformers' MistralForCausalLM: the Llama decoder with
// grouped-query attention by default and a sliding window on every layer (each query sees the
// `sliding_window` most recent positions, itself included; null for full attention).
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, type Resolved, resolveConfig } from './config-schema.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';

/** MistralConfig's keys this package reads, with transformers' defaults. */
export const MISTRAL_CONFIG_SCHEMA = {
  vocab_size: field.int(32000, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(4096, 'model width C', { min: 1 }),
  intermediate_size: field.int(14336, 'MLP width', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(8, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(null, 'width of each head; null means hidden_size / num_attention_heads', { min: 2 }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(4096 * 32, 'context length, in tokens (informational for RoPE)', { min: 1 }),
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
  sliding_window: field.intOrNull(4096, 'attention window in tokens (each query sees this many positions ending at itself); null: full', {
    min: 1,
  }),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  bos_token_id: field.tokenIds(1, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(2, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(null, 'padding token id'),
};

export type MistralConfig = WithLlamaFamilyDefaults<Resolved<typeof MISTRAL_CONFIG_SCHEMA>>;

/** Reads a Mistral config.json object: defaults filled (heads, RoPE in either format), cross-field rules checked. */
export function resolveMistralConfig(raw: Readonly<Record<string, unknown>>, where = 'config.json'): MistralConfig {
  return withLlamaFamilyDefaults(resolveConfig(MISTRAL_CONFIG_SCHEMA, raw, where), where);
}

/** Mistral: no biases; every layer has the sliding window (null: full attention). */
function mistralVariant(c: MistralConfig): LlamaFamilyVariant {
  return {
    qkvBias: false,
    outputBias: false,
    mlpBias: false,
    slidingWindows: new Array(c.num_hidden_layers).fill(c.sliding_window),
  };
}

export class MistralForCausalLM extends LlamaDecoderModel<MistralConfig> {
  readonly architecture = 'MistralForCausalLM' as const;
  readonly modelType = 'mistral';

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: MistralConfig, extra: Record<string, unknown> = {}) {
    super(store, config, mistralVariant(config), extra);
  }
}
