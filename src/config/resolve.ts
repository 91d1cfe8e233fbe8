// Validation and defaults for any schema (schema.ts): every key is checked and every problem is
// collected, so one run reports all of a config's mistakes. Callers add their cross-field rules
// to the same list and throw once (ConfigError.throwIfAny).
import { type ConfigError, type ConfigErrorClass, throwIfProblems } from './config-error.js';
import { type Field, rangeText, type Schema, type SchemaValues } from './schema.js';
import { didYouMean } from './suggest.js';
import { notSupportedYet } from './unsupported-keys.js';

/** A value as a message shows it: numbers and booleans as written, strings quoted. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a mapping' : typeof value;
}

class FieldProblem {
  constructor(
    readonly detail: string,
    readonly subKey: string | undefined,
  ) {}
}

function fail(detail: string, subKey?: string): never {
  throw new FieldProblem(detail, subKey);
}

function checkNumber(field: Field & { type: 'number' }, value: unknown): number {
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    // YAML 1.1 parsers read `5e-2` (no dot) as a string: the reference code crashes on it.
    fail(
      `expected a number, got ${describeValue(value)}. YAML 1.1 reads exponent forms without a dot (5e-2) as strings: write ${Number(value)} unquoted.`,
    );
  }
  const expected = `${field.integer ? 'a whole number' : 'a finite number'}${field.nullable ? ' or null' : ''}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || (field.integer && !Number.isSafeInteger(value))) {
    fail(`expected ${expected}, got ${describeValue(value)}. ${field.doc}`);
  }
  const { min, max } = field;
  const below = min !== undefined && (field.minExclusive ? value <= min : value < min);
  const above = max !== undefined && (field.maxExclusive ? value >= max : value > max);
  if (below || above) fail(`${value} is out of range: it must be ${rangeText(field)}. ${field.doc}`);
  return value;
}

/** The checked value of one field (value is neither undefined nor an "unset" null). */
function checkValue(field: Field, value: unknown): unknown {
  switch (field.type) {
    case 'number':
      return checkNumber(field, value);
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected true or false, got ${describeValue(value)}. ${field.doc}`);
      return value;
    case 'string':
      if (typeof value !== 'string' || value === '') fail(`expected a non-empty string, got ${describeValue(value)}. ${field.doc}`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !field.values.includes(value)) {
        const hint = typeof value === 'string' ? didYouMean(value, field.values) : '';
        fail(`expected one of ${field.values.map((v) => `'${v}'`).join(', ')}, got ${describeValue(value)}.${hint}`);
      }
      return value;
    case 'number[]':
      if (!Array.isArray(value) || value.length === 0) fail(`expected a non-empty list of numbers, got ${describeValue(value)}.`);
      (value as unknown[]).forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`expected a finite number, got ${describeValue(v)}.`, `[${i}]`);
      });
      return Object.freeze([...(value as number[])]);
    case 'tokenIds': {
      // Several ids are allowed (Llama 3's eos_token_id: [128001, 128008, 128009]).
      const ids = Array.isArray(value) ? value : [value];
      if (ids.length === 0 || !ids.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
        fail(`expected a token id (a non-negative integer) or a list of them, got ${describeValue(value)}. ${field.doc}`);
      }
      return value;
    }
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail(`expected a mapping, got ${describeValue(value)}. ${field.doc}`);
      return value;
    case 'custom':
      return field.parse(value, fail);
    case 'note':
      return value;
  }
}

export interface ResolveOptions {
  /** The ConfigError subclass problems are reported as. */
  error: ConfigErrorClass;
  /** Where values came from (a file, '--flag', a config's name), or per key; default: nowhere (code). */
  where?: string | null | ((key: string) => string | null);
  /** Keys outside the schema: 'error' (with suggestions) or 'ignore' (config.json keeps transformers_version and the like). */
  unknownKeys: 'error' | 'ignore';
  /**
   * null on a key whose field does not allow null: 'unset' (the key takes its default, so a
   * command-line `--key null` removes a YAML key) or 'error'.
   */
  nullOnNonNullable: 'unset' | 'error';
  /** Names suggested for an unknown key (default: the schema's keys). */
  knownKeys?: readonly string[];
  /** A message of its own for an unknown key, or null for the usual one. */
  unknownKeyMessage?: (key: string) => string | null;
  /** Appended to the unknown-key message (e.g. where the list of keys is). */
  unknownKeyHint?: string;
}

export interface Resolution<S extends Schema> {
  /** Every value key, checked, with defaults filled in (values of keys with problems are their defaults). */
  values: SchemaValues<S>;
  /** The keys the caller set to a value (not absent, not unset by null), with the values as given. */
  given: Record<string, unknown>;
  /** Accepted keys that have no effect here, with why. */
  notes: { key: string; why: string }[];
  problems: ConfigError[];
}

/** Where `key`'s value came from, per the options. */
export function whereOf(options: Pick<ResolveOptions, 'where'>, key: string): string | null {
  const { where } = options;
  return typeof where === 'function' ? where(key) : (where ?? null);
}

/** The message for a key no schema knows: "not supported yet" for known TRL/PEFT keys, else the nearest names. */
export function unknownKeyDetail(key: string, known: readonly string[], hint = ''): string {
  const unsupported = notSupportedYet(key);
  if (unsupported !== null) return `not supported yet (${unsupported}). Remove it.`;
  return `unknown key.${didYouMean(key, known)}${hint ? ` ${hint}` : ''}`;
}

function defaultOf(field: Field): unknown {
  if (field.type === 'note') return undefined;
  if (field.type === 'custom') return field.parse(field.default, fail);
  return field.default ?? null;
}

function allowsNull(field: Field): boolean {
  if (field.type === 'custom') return true;
  if (field.type === 'note') return false;
  return ('nullable' in field && field.nullable === true) || field.default === null || field.default === undefined;
}

/** Checks `raw` against `schema`: every problem is collected, none thrown. */
export function resolveSchema<S extends Schema>(schema: S, raw: Readonly<Record<string, unknown>>, options: ResolveOptions): Resolution<S> {
  const problems: ConfigError[] = [];
  const problem = (key: string, detail: string) => problems.push(new options.error(key, detail, whereOf(options, key)));
  const values: Record<string, unknown> = {};
  const given: Record<string, unknown> = {};
  const notes: { key: string; why: string }[] = [];

  if (options.unknownKeys === 'error') {
    const known = options.knownKeys ?? Object.keys(schema);
    for (const key of Object.keys(raw)) {
      if (Object.hasOwn(schema, key) || raw[key] === undefined) continue;
      problem(key, options.unknownKeyMessage?.(key) ?? unknownKeyDetail(key, known, options.unknownKeyHint));
    }
  }
  for (const [key, field] of Object.entries(schema)) {
    const value = Object.hasOwn(raw, key) ? raw[key] : undefined;
    try {
      if (field.type === 'note') {
        if (value !== undefined && value !== null) notes.push({ key, why: field.doc });
        continue;
      }
      if (value === undefined || (value === null && !allowsNull(field) && options.nullOnNonNullable === 'unset')) {
        values[key] = defaultOf(field);
        continue;
      }
      given[key] = value;
      if (value === null && field.type !== 'custom') {
        if (!allowsNull(field)) fail(`must not be null (default ${JSON.stringify(defaultOf(field))}). ${field.doc}`);
        values[key] = null;
      } else values[key] = checkValue(field, value);
    } catch (e) {
      if (!(e instanceof FieldProblem)) throw e;
      problem(`${key}${e.subKey === undefined ? '' : e.subKey.startsWith('[') ? e.subKey : `.${e.subKey}`}`, e.detail);
      values[key] = field.type === 'note' ? undefined : safeDefault(field);
    }
  }
  return { values: values as SchemaValues<S>, given, notes, problems };
}

function safeDefault(field: Field): unknown {
  try {
    return defaultOf(field);
  } catch {
    return null;
  }
}

/** resolveSchema, throwing every problem at once as options.error. */
export function resolveSchemaOrThrow<S extends Schema>(
  schema: S,
  raw: Readonly<Record<string, unknown>>,
  options: ResolveOptions,
): Resolution<S> {
  const resolution = resolveSchema(schema, raw, options);
  throwIfProblems(options.error, resolution.problems);
  return resolution;
}
