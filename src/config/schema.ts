// The config-schema engine: every config of the package (training, loss, data, model) is one
// object of fields, each with its type, default, range, unit and documentation. From it come the
// config's TypeScript type (FieldValue / SchemaValues below, by mapped types, never written again
// by hand), its validation and defaults (resolveSchema), `alpha-dpo train --help` and the docs.

/** What every field says about itself: `doc` says what it means, with units and source. */
interface FieldInfo {
  doc: string;
  /** The unit of a number, where it has one (e.g. 'nats/token', 'optimiser steps'). */
  unit?: string;
  /** Where the key and its default come from (e.g. 'TRL DPOConfig', 'transformers TrainingArguments'). */
  source?: string;
}

export interface NumberField extends FieldInfo {
  type: 'number';
  /** null: off unless set; undefined: no default (null when absent, and required by whoever reads it). */
  default: number | null | undefined;
  integer?: boolean;
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** null is a value with its own meaning (the doc says which), not "unset". */
  nullable?: boolean;
}
export interface BooleanField extends FieldInfo {
  type: 'boolean';
  default: boolean | null;
}
export interface StringField extends FieldInfo {
  type: 'string';
  default: string | null;
  nullable?: boolean;
}
export interface EnumField extends FieldInfo {
  type: 'enum';
  values: readonly string[];
  default: string | null;
  nullable?: boolean;
}
export interface NumberListField extends FieldInfo {
  type: 'number[]';
  default: null;
}
/** Token ids: an integer, a list of integers (several EOS ids), or null. */
export interface TokenIdsField extends FieldInfo {
  type: 'tokenIds';
  default: number | null;
  nullable: true;
}
export interface ObjectField extends FieldInfo {
  type: 'object';
  default: null;
  nullable: true;
}
/**
 * A value of its own shape (a loss list, a data source): `parse` checks it (calling `fail` with
 * what is wrong, optionally naming a sub-key such as `dataset_mixer.PATH`) and returns the
 * resolved value; it also receives the default when the key is absent or null.
 */
export interface CustomField<T = unknown> extends FieldInfo {
  type: 'custom';
  default: unknown;
  parse: (value: unknown, fail: (detail: string, subKey?: string) => never) => T;
}
/** A key accepted so that existing configs load, with no effect here; `doc` says why (shown as a note). */
export interface NoteField extends FieldInfo {
  type: 'note';
}

export type Field =
  | NumberField
  | BooleanField
  | StringField
  | EnumField
  | NumberListField
  | TokenIdsField
  | ObjectField
  | CustomField
  | NoteField;

export type Schema = Readonly<Record<string, Field>>;

type BaseValue<F> = F extends { type: 'enum'; values: readonly (infer V)[] }
  ? V
  : F extends { type: 'number' }
    ? number
    : F extends { type: 'boolean' }
      ? boolean
      : F extends { type: 'string' }
        ? string
        : F extends { type: 'number[]' }
          ? readonly number[]
          : F extends { type: 'tokenIds' }
            ? number | number[]
            : F extends { type: 'object' }
              ? Record<string, unknown>
              : F extends { type: 'custom'; parse: (...args: never[]) => infer T }
                ? T
                : never;

type NullIn<F> = F extends { type: 'custom' | 'note' }
  ? never
  : F extends { nullable: true }
    ? null
    : F extends { default: null | undefined }
      ? null
      : never;

/** The TypeScript type of a field's resolved value, derived from the field. */
export type FieldValue<F> = BaseValue<F> | NullIn<F>;

/** The keys of a schema that carry a value (every key but the accepted-with-a-note ones). */
export type ValueKeys<S> = { [K in keyof S]: S[K] extends { type: 'note' } ? never : K }[keyof S];

/** A resolved config: every value key with its checked value or default. */
export type SchemaValues<S> = { -readonly [K in ValueKeys<S>]: FieldValue<S[K]> };

/** What a caller may write: any subset of the keys; null unsets a key (it takes its default). */
export type SchemaInput<S> = { [K in ValueKeys<S>]?: FieldValue<S[K]> | null };

/** A field's range as text (e.g. '≥ 0 and < 1'), or '' when it has none. */
export function rangeText(field: Field): string {
  if (field.type !== 'number') return '';
  const lo = field.min === undefined ? '' : `${field.minExclusive ? '>' : '≥'} ${field.min}`;
  const hi = field.max === undefined ? '' : `${field.maxExclusive ? '<' : '≤'} ${field.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

/** A field's type as text for help and docs (e.g. 'integer ≥ 1', "'ema' | 'batch'"). */
export function typeText(field: Field): string {
  switch (field.type) {
    case 'number': {
      const range = rangeText(field);
      return `${field.integer ? 'integer' : 'number'}${range ? ` ${range}` : ''}${field.nullable ? ' or null' : ''}`;
    }
    case 'enum':
      return field.values.map((v) => `'${v}'`).join(' | ');
    case 'number[]':
      return 'list of numbers';
    case 'tokenIds':
      return 'token id or list of token ids';
    case 'custom':
      return 'see the description';
    case 'note':
      return 'accepted, no effect';
    default:
      return field.type;
  }
}

/**
 * One help line per key: name, type, default, unit, then the doc (what `alpha-dpo train --help`
 * prints and the docs tabulate).
 */
export function describeSchema(schema: Schema): string[] {
  return Object.entries(schema).map(([key, field]) => {
    const def =
      'default' in field && field.default !== undefined && field.default !== null ? `, default ${JSON.stringify(field.default)}` : '';
    const unit = field.unit ? `, ${field.unit}` : '';
    return `  ${key} (${typeText(field)}${def}${unit})\n      ${field.doc}${field.source ? ` [${field.source}]` : ''}`;
  });
}
