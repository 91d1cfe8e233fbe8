// Model configs as schemas: each Hugging Face config.json key an architecture reads, with its
// type, transformers' default, its valid range and what it means. The TypeScript config type is
// derived from the schema, and resolveConfig() fills the defaults once, when the config is read.
// Keys outside the schema (transformers_version, use_cache, ...) are kept for saving, unread.
import { ModelConfigError } from './errors.js';

type Kind = 'integer' | 'tokenIds' | 'number' | 'boolean' | 'string' | 'object';

export interface FieldSpec<T> {
  kind: Kind;
  /** transformers' default when the key is absent (or null where the field is nullable). */
  default: T;
  nullable: boolean;
  /** Smallest allowed value (numbers); `exclusive` makes it a strict bound. */
  min?: { value: number; exclusive: boolean };
  /** Allowed values (strings). */
  choices?: readonly string[];
  /** What the key means, with units. */
  doc: string;
}

type Opts = { min?: number; above?: number };
const bound = (o: Opts | undefined) =>
  o?.above !== undefined
    ? { min: { value: o.above, exclusive: true } }
    : o?.min !== undefined
      ? { min: { value: o.min, exclusive: false } }
      : {};

export const field = {
  int: (def: number, doc: string, o?: Opts): FieldSpec<number> => ({ kind: 'integer', default: def, nullable: false, doc, ...bound(o) }),
  intOrNull: (def: number | null, doc: string, o?: Opts): FieldSpec<number | null> => ({
    kind: 'integer',
    default: def,
    nullable: true,
    doc,
    ...bound(o),
  }),
  number: (def: number, doc: string, o?: Opts): FieldSpec<number> => ({ kind: 'number', default: def, nullable: false, doc, ...bound(o) }),
  bool: (def: boolean, doc: string): FieldSpec<boolean> => ({ kind: 'boolean', default: def, nullable: false, doc }),
  choice: <C extends string>(def: C, choices: readonly C[], doc: string): FieldSpec<C> => ({
    kind: 'string',
    default: def,
    nullable: false,
    choices,
    doc,
  }),
  objectOrNull: (doc: string): FieldSpec<Record<string, unknown> | null> => ({ kind: 'object', default: null, nullable: true, doc }),
  /** Token ids: an integer, a list of integers (several EOS ids), or null. */
  tokenIds: (def: number | null, doc: string): FieldSpec<number | number[] | null> => ({
    kind: 'tokenIds',
    default: def,
    nullable: true,
    doc,
  }),
};

export type Schema = Record<string, FieldSpec<unknown>>;
export type Resolved<S extends Schema> = { -readonly [K in keyof S]: S[K] extends FieldSpec<infer T> ? T : never };

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `${typeof value} ${JSON.stringify(value)}`;
}

function check(key: string, spec: FieldSpec<unknown>, value: unknown, where: string): unknown {
  if (value === undefined) return spec.default;
  if (value === null) {
    if (spec.nullable) return null;
    throw new ModelConfigError(key, `must not be null (default ${JSON.stringify(spec.default)}: ${spec.doc})`, where);
  }
  const fail = (expected: string): never => {
    throw new ModelConfigError(key, `expected ${expected}, got ${describe(value)} (${spec.doc})`, where);
  };
  switch (spec.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail('an integer');
      break;
    case 'tokenIds': {
      // Several ids are allowed (Llama 3's eos_token_id: [128001, 128008, 128009]).
      const ids = Array.isArray(value) ? value : [value];
      if (ids.length === 0 || !ids.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
        fail('a token id (a non-negative integer) or a list of them');
      }
      break;
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a finite number');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      break;
    case 'string':
      if (typeof value !== 'string') fail('a string');
      if (spec.choices && !spec.choices.includes(value as string)) fail(`one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`);
      break;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) fail('an object');
      break;
  }
  if (spec.min !== undefined && typeof value === 'number') {
    const { value: m, exclusive } = spec.min;
    if (exclusive ? !(value > m) : !(value >= m)) fail(`a number ${exclusive ? '>' : '≥'} ${m}`);
  }
  return value;
}

/** The schema's keys read from `raw` with their defaults filled in; a wrong type or range is a ModelConfigError naming the key. */
export function resolveConfig<S extends Schema>(schema: S, raw: Readonly<Record<string, unknown>>, where: string): Resolved<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) out[key] = check(key, spec, raw[key], where);
  return out as Resolved<S>;
}

/** Throws a ModelConfigError for `key` unless `ok`. */
export function requireConfig(ok: boolean, key: string, message: string, where: string): void {
  if (!ok) throw new ModelConfigError(key, message, where);
}
