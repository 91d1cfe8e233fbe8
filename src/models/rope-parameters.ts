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
  /** Context length before scaling as a top-level key (Phi-3); it takes precedence, as in transformers 5. */
  original_max_position_embeddings?: number | undefined;
}

export interface RopeOptions {
  /** Accept LongRoPE (only Phi-3 switches between its short and long factors as transformers does). */
  longrope?: boolean | undefined;
  /** Leave partial_rotary_factor to the caller (Phi-3 rotates part of each head) instead of refusing it. */
  partialRotary?: boolean | undefined;
}

const isSet = (v: Record<string, unknown> | null): v is Record<string, unknown> => v !== null && Object.keys(v).length > 0;

// Layer-type keys under which transformers 5 nests per-layer RoPE settings (Gemma 3 and others).
const NESTED_KEYS = ['full_attention', 'sliding_attention'];

/** The resolved RoPE settings of a config; a ModelConfigError names the key at fault. */
export function resolveRopeParameters(c: RopeConfigKeys, where: string, options: RopeOptions = {}): RopeParameters {
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
  if (partial !== undefined && partial !== null && partial !== 1 && options.partialRotary !== true) {
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
    case 'longrope':
    case 'su':
      if (options.longrope !== true) break;
      return resolveLongrope(raw, theta, c, source, where);
  }
  throw new ModelConfigError(
    source,
    `rope type ${JSON.stringify(type)} is not supported (supported: ${ROPE_TYPES.join(', ')}${options.longrope ? ', longrope' : ''}). ` +
      'dynamic, yarn, longrope (except on Phi-3) and other types scale positions differently and are not implemented; ' +
      'computing them as another type would give wrong logits.',
    where,
  );
}

/** rope_scaling as transformers < 5 writes it (null for plain RoPE), so both versions read a saved config alike. */
export function legacyRopeScaling(rope: RopeParameters): Record<string, unknown> | null {
  if (rope.rope_type === 'default') return null;
  // transformers 4's Phi3Config accepts exactly these three keys; the rest come from top-level keys.
  if (rope.rope_type === 'longrope') return { type: 'longrope', short_factor: rope.short_factor, long_factor: rope.long_factor };
  const { rope_theta: _theta, ...scaling } = rope;
  return scaling;
}

const isNumberList = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0);

/** LongRoPE as transformers 5's _compute_longrope_parameters reads it (Phi-3's 'su' is its older name). */
function resolveLongrope(raw: Record<string, unknown>, theta: number, c: RopeConfigKeys, source: string, where: string): RopeParameters {
  for (const key of ['short_factor', 'long_factor']) {
    if (!isNumberList(raw[key])) throw new ModelConfigError(`${source}.${key}`, 'expected a list of positive numbers for longrope', where);
  }
  const original = c.original_max_position_embeddings ?? raw['original_max_position_embeddings'] ?? c.max_position_embeddings;
  if (typeof original !== 'number' || !(original > 1)) {
    throw new ModelConfigError('original_max_position_embeddings', `expected a number > 1, got ${JSON.stringify(original)}`, where);
  }
  // Explicit factor / attention_factor would be lost in the rope_scaling transformers 4 reads (it
  // accepts exactly type, short_factor and long_factor), so they are refused rather than dropped.
  for (const key of ['factor', 'attention_factor']) {
    if (raw[key] !== undefined && raw[key] !== null) {
      throw new ModelConfigError(
        `${source}.${key}`,
        'an explicit longrope factor is not implemented: it is derived from max_position_embeddings / original_max_position_embeddings',
        where,
      );
    }
  }
  const factor = c.max_position_embeddings / original;
  const attention = factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  return {
    rope_type: 'longrope',
    rope_theta: theta,
    short_factor: raw['short_factor'] as number[],
    long_factor: raw['long_factor'] as number[],
    original_max_position_embeddings: original,
    attention_factor: attention,
  };
}
