// Phi-3 and Phi-3.5 (Abdin et al. 2024, arXiv 2404.14219) as transformers' Phi3ForCausalLM: the
// Llama decoder with one fused qkv_proj [H·D + 2·Hkv·D, C] (its output split q | k | v) and one
// fused gate_up_proj [2·I, C] (first half the gate), kept fused as the checkpoint stores them,
// so loading and saving are plain lookups; dropout on each sublayer's output (resid_pdrop; like
// transformers 5, embd_pdrop is read but not applied); a sliding window on every layer when set.
// RoPE: default (the 4k-context models) or LongRoPE (the 128k models and Phi-3.5: rope type
// 'longrope', older 'su'), switching to the long factors when a pass reaches beyond
// original_max_position_embeddings, as transformers does; partial_rotary_factor < 1 (Phi-4-mini)
// rotates only the first int(head_dim · factor) features of each head. An explicit LongRoPE factor
// or attention_factor is refused with a ModelConfigError.
import { ACTIVATION_NAMES } from '../nn/activations.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { field, floatKeysOf, type Resolved, requireConfig, resolveConfig } from './config-schema.js';
import { ModelConfigError } from './errors.js';
import { LlamaDecoderModel, type LlamaFamilyVariant, type WithLlamaFamilyDefaults, withLlamaFamilyDefaults } from './llama-decoder.js';

/** Phi3Config's keys this package reads, with transformers' defaults. */
export const PHI3_CONFIG_SCHEMA = {
  vocab_size: field.int(32064, 'tokens in the vocabulary', { min: 1 }),
  hidden_size: field.int(3072, 'model width C', { min: 1 }),
  intermediate_size: field.int(8192, 'MLP width I (gate_up_proj has 2·I rows)', { min: 1 }),
  num_hidden_layers: field.int(32, 'decoder layers', { min: 1 }),
  num_attention_heads: field.int(32, 'query heads H', { min: 1 }),
  num_key_value_heads: field.intOrNull(null, 'key/value heads (grouped-query attention); null means num_attention_heads', { min: 1 }),
  head_dim: field.intOrNull(null, 'width of each head; null means hidden_size / num_attention_heads', { min: 2 }),
  resid_pdrop: field.number(0, 'dropout probability on attention and MLP outputs (training mode only)', { min: 0 }),
  embd_pdrop: field.number(0, "embedding dropout; transformers' Phi3Model does not apply it, nor does this package", { min: 0 }),
  attention_dropout: field.number(0, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  hidden_act: field.choice('silu', ACTIVATION_NAMES, 'MLP gate activation (ACT2FN name)'),
  max_position_embeddings: field.int(4096, 'context length, in tokens (informational for default RoPE)', { min: 1 }),
  original_max_position_embeddings: field.int(4096, 'context length before LongRoPE scaling, in tokens (longer passes use long_factor)', {
    min: 1,
  }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  rms_norm_eps: field.number(1e-5, 'RMSNorm epsilon', { above: 0 }),
  tie_word_embeddings: field.bool(false, 'the LM head reuses the token embedding (no lm_head.weight)'),
  rope_theta: field.number(10000, 'RoPE base θ (transformers < 5; rope_parameters.rope_theta comes first)', { above: 0 }),
  rope_scaling: field.objectOrNull('RoPE scaling as transformers < 5 writes it: null or {type: longrope, short_factor, long_factor}'),
  rope_parameters: field.objectOrNull(
    'RoPE settings as transformers >= 5 writes them: {rope_type: default, rope_theta, partial_rotary_factor: 1} (see rope-parameters.ts)',
  ),
  partial_rotary_factor: field.number(
    1,
    'share of each head RoPE rotates (Phi-4-mini: 0.75; transformers 5 writes it in rope_parameters)',
    {
      above: 0,
    },
  ),
  sliding_window: field.intOrNull(null, 'attention window in tokens on every layer; null: full attention', { min: 1 }),
  bos_token_id: field.tokenIds(1, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(32000, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(32000, 'padding token id'),
};

export type Phi3Config = WithLlamaFamilyDefaults<Resolved<typeof PHI3_CONFIG_SCHEMA>>;

/** Reads a Phi-3 config.json object: defaults filled (heads, RoPE in either format), unsupported RoPE refused. */
export function resolvePhi3Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): Phi3Config {
  const schema = resolveConfig(PHI3_CONFIG_SCHEMA, raw, where);
  // transformers 5 writes partial_rotary_factor inside the RoPE settings, 4.x at the top level;
  // the RoPE settings come first (convert_rope_params_to_dict: rope_scaling, else rope_parameters).
  const settings = [schema.rope_scaling, schema.rope_parameters].find((v) => v !== null && Object.keys(v).length > 0);
  const nested = settings?.['partial_rotary_factor'];
  if (nested !== undefined && nested !== null && typeof nested !== 'number') {
    throw new ModelConfigError('rope_parameters.partial_rotary_factor', `expected a number, got ${JSON.stringify(nested)}`, where);
  }
  const c = { ...schema, partial_rotary_factor: nested ?? schema.partial_rotary_factor };
  requireConfig(c.partial_rotary_factor <= 1, 'partial_rotary_factor', `must be at most 1, got ${c.partial_rotary_factor}`, where);
  for (const key of ['resid_pdrop', 'embd_pdrop'] as const) requireConfig(c[key] < 1, key, 'must be below 1', where);
  const resolved = withLlamaFamilyDefaults(c, where, { longrope: true, partialRotary: true });
  const rotary = phi3RotaryDim(resolved);
  requireConfig(
    rotary >= 2 && rotary % 2 === 0,
    'partial_rotary_factor',
    `head_dim (${resolved.head_dim}) × ${c.partial_rotary_factor} = ${rotary} rotated features; an even number ≥ 2 is needed`,
    where,
  );
  const rope = resolved.rope_parameters;
  if (rope.rope_type === 'longrope') {
    for (const key of ['short_factor', 'long_factor'] as const) {
      requireConfig(
        rope[key].length === rotary / 2,
        `rope_parameters.${key}`,
        `has ${rope[key].length} entries; one per rotated pair is needed (head_dim · partial_rotary_factor / 2 = ${rotary / 2})`,
        where,
      );
    }
  }
  return resolved;
}

/** Features of each head that RoPE rotates: int(head_dim · partial_rotary_factor), as transformers' Phi3RotaryEmbedding. */
function phi3RotaryDim(c: { head_dim: number; partial_rotary_factor: number }): number {
  return Math.floor(c.head_dim * c.partial_rotary_factor);
}

/** Phi-3: no biases, fused projections, residual dropout, the sliding window on every layer. */
function phi3Variant(c: Phi3Config): LlamaFamilyVariant {
  return {
    qkvBias: false,
    outputBias: false,
    mlpBias: false,
    slidingWindows: new Array(c.num_hidden_layers).fill(c.sliding_window),
    fusedProjections: true,
    residualDropout: c.resid_pdrop,
    rotaryDim: phi3RotaryDim(c),
  };
}

export class Phi3ForCausalLM extends LlamaDecoderModel<Phi3Config> {
  readonly architecture = 'Phi3ForCausalLM' as const;
  readonly modelType = 'phi3';
  override readonly floatConfigKeys = floatKeysOf(PHI3_CONFIG_SCHEMA);

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: Phi3Config, extra: Record<string, unknown> = {}) {
    super(store, config, phi3Variant(config), extra);
  }
}
