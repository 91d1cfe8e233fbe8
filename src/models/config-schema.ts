// Model configs as schemas: each Hugging Face config.json key an architecture reads, with its
// type, transformers' default, its valid range and what it means. The TypeScript config type is
// derived from the schema, and resolveConfig() fills the defaults once, when the config is read.
// Keys outside the schema (transformers_version, use_cache, ...) are kept for saving, unread.
import {
  type BooleanField,
  type EnumField,
  type NumberField,
  type ObjectField,
  resolveSchemaOrThrow,
  type Schema,
  type SchemaValues,
  type TokenIdsField,
} from '../config/index.js';
import { ModelConfigError } from './errors.js';

/** A field of a model config schema (the shared config engine's field). */
export type { Field as FieldSpec } from '../config/index.js';

type Opts = { min?: number; above?: number };
const bound = (o: Opts | undefined) =>
  o?.above !== undefined ? { min: o.above, minExclusive: true } : o?.min !== undefined ? { min: o.min, minExclusive: false } : {};

/** Field builders with transformers' defaults: `field.int(12, 'Decoder layers.', { min: 1 })`. */
export const field = {
  int: (def: number, doc: string, o?: Opts): NumberField & { default: number } => ({
    type: 'number',
    integer: true,
    default: def,
    doc,
    ...bound(o),
  }),
  intOrNull: (def: number | null, doc: string, o?: Opts): NumberField & { default: number | null; nullable: true } => ({
    type: 'number',
    integer: true,
    default: def,
    nullable: true,
    doc,
    ...bound(o),
  }),
  number: (def: number, doc: string, o?: Opts): NumberField & { default: number } => ({ type: 'number', default: def, doc, ...bound(o) }),
  numberOrNull: (def: number | null, doc: string, o?: Opts): NumberField & { default: number | null; nullable: true } => ({
    type: 'number',
    default: def,
    nullable: true,
    doc,
    ...bound(o),
  }),
  bool: (def: boolean, doc: string): BooleanField & { default: boolean } => ({ type: 'boolean', default: def, doc }),
  choice: <C extends string>(def: C, choices: readonly C[], doc: string): EnumField & { values: readonly C[]; default: C } => ({
    type: 'enum',
    values: choices,
    default: def,
    doc,
  }),
  objectOrNull: (doc: string): ObjectField => ({ type: 'object', default: null, nullable: true, doc }),
  /** Token ids: an integer, a list of integers (several EOS ids), or null. */
  tokenIds: (def: number | null, doc: string): TokenIdsField => ({ type: 'tokenIds', default: def, nullable: true, doc }),
};

export type { Schema };
/** A model config with every schema key resolved; the type is derived from the schema. */
export type Resolved<S extends Schema> = SchemaValues<S>;

/**
 * The schema's keys read from `raw` with their defaults filled in; wrong types and ranges are
 * reported together in one ModelConfigError naming each key. Keys outside the schema are left
 * alone (config.json keeps transformers_version, use_cache, ...), and null is a value only where
 * transformers allows it.
 */
export function resolveConfig<S extends Schema>(schema: S, raw: Readonly<Record<string, unknown>>, where: string): Resolved<S> {
  return resolveSchemaOrThrow(schema, raw, { error: ModelConfigError, where, unknownKeys: 'ignore', nullOnNonNullable: 'error' }).values;
}

/** Throws a ModelConfigError for `key` unless `ok`. */
export function requireConfig(ok: boolean, key: string, message: string, where: string): void {
  if (!ok) throw new ModelConfigError(key, message, where);
}

/** The schema's non-integer number keys: what transformers' config classes declare as floats (see configJsonText). */
export function floatKeysOf(schema: Schema): string[] {
  return Object.entries(schema)
    .filter(([, f]) => f.type === 'number' && !(f as NumberField).integer)
    .map(([key]) => key);
}
