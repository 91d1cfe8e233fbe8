// The RoPE settings of a Llama-family config.json, in either format transformers writes:
//   transformers >= 5   "rope_parameters": { "rope_type", "rope_theta", "factor", ... }
//   transformers < 5    top-level "rope_theta" and "rope_scaling": { "rope_type" (or "type"), "factor", ... }
// Read as transformers 5 reads them (modeling_rope_utils.py, RotaryEmbeddingConfigMixin:
// convert_rope_params_to_dict and standardize_rope_params): the settings are rope_scaling when it
// is set, else rope_parameters; θ is their rope_theta, else the top-level rope_theta, else the
// architecture's default; the type is rope_type (or the older `type`), else 'default'; llama3's
// original_max_position_embeddings defaults to max_position_embeddings. A type this package does
// not implement is refused, naming it: computing it as another type gives wrong logits silently.
import { ROPE_TYPES, type RopeParameters } from '../nn/rotary-embedding.js';
import { ModelConfigError } from './errors.js';

/** The config keys RoPE is read from (schema-resolved: rope_theta has the architecture's default). */
export interface RopeConfigKeys {
  rope_theta: number;
  rope_scaling: Record<string, unknown> | null;
  rope_parameters: Record<string, unknown> | null;
  max_position_embeddings: number;
}

const isSet = (v: Record<string, unknown> | null): v is Record<string, unknown> => v !== null && Object.keys(v).length > 0;

// Layer-type keys under which transformers 5 nests per-layer RoPE settings (Gemma 3 and others).
const NESTED_KEYS = ['full_attention', 'sliding_attention'];

/** The resolved RoPE settings of a config; a ModelConfigError names the key at fault. */
export function resolveRopeParameters(c: RopeConfigKeys, where: string): RopeParameters {
  const source = isSet(c.rope_scaling) ? 'rope_scaling' : 'rope_parameters';
  const raw = isSet(c.rope_scaling) ? c.rope_scaling : (c.rope_parameters ?? {});
  const nested = NESTED_KEYS.filter((k) => k in raw);
  if (nested.length > 0) {
    throw new ModelConfigError(source, `RoPE settings per layer type (${nested.join(', ')}) are not implemented`, where);
  }
  const type = raw['rope_type'] ?? raw['type'] ?? 'default';
  const num = (key: string, value: unknown = raw[key]): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
      throw new ModelConfigError(
        `${source}.${key}`,
        `expected a number > 0 for rope type '${String(type)}', got ${JSON.stringify(value)}`,
        where,
      );
    }
    return value;
  };
  const theta = num('rope_theta', raw['rope_theta'] ?? c.rope_theta);
  const partial = raw['partial_rotary_factor'];
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw new ModelConfigError(
      `${source}.partial_rotary_factor`,
      `is ${JSON.stringify(partial)}: rotary embeddings on part of each head are not implemented (only 1.0)`,
      where,
    );
  }
  switch (type) {
    case 'default':
      return { rope_type: 'default', rope_theta: theta };
    case 'linear':
      return { rope_type: 'linear', rope_theta: theta, factor: num('factor') };
    case 'llama3': {
      const rope = {
        rope_type: 'llama3' as const,
        rope_theta: theta,
        factor: num('factor'),
        low_freq_factor: num('low_freq_factor'),
        high_freq_factor: num('high_freq_factor'),
        original_max_position_embeddings: num(
          'original_max_position_embeddings',
          raw['original_max_position_embeddings'] ?? c.max_position_embeddings,
        ),
      };
      if (!(rope.high_freq_factor > rope.low_freq_factor)) {
        throw new ModelConfigError(`${source}.high_freq_factor`, 'must be greater than low_freq_factor', where);
      }
      return rope;
    }
    default:
      throw new ModelConfigError(
        source,
        `rope type ${JSON.stringify(type)} is not supported (supported: ${ROPE_TYPES.join(', ')}). ` +
          'dynamic, yarn, longrope and other types scale positions differently and are not implemented; ' +
          'computing them as another type would give wrong logits.',
        where,
      );
  }
}

/** rope_scaling as transformers < 5 writes it (null for plain RoPE), so both versions read a saved config alike. */
export function legacyRopeScaling(rope: RopeParameters): Record<string, unknown> | null {
  if (rope.rope_type === 'default') return null;
  const { rope_theta: _theta, ...scaling } = rope;
  return scaling;
}
