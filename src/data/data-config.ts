// The data config: one schema (type, default, range, doc) from which the TypeScript type, the
// defaults, the validation, the CLI flags and the table in docs/data.md all come (the engine is
// src/config/). Keys are TRL's and Hugging Face's names, so an existing YAML keeps working; they
// stay snake_case on purpose.
import { constants as bufferConstants } from 'node:buffer';
import { throwIfProblems } from '../config/config-error.js';
import { type Field, type Resolution, resolveSchema, type SchemaInput, type SchemaValues } from '../config/index.js';
import { DataConfigError } from './errors.js';

export const DATASET_FORMATS = [
  'auto',
  'standard',
  'standard_implicit',
  'conversational',
  'conversational_implicit',
  'hh_rlhf',
  'ultrafeedback',
  'unpaired',
  'unpaired_conversational',
] as const;
export type DatasetFormatOption = (typeof DATASET_FORMATS)[number];

export const TRUNCATION_MODES = ['keep_end', 'keep_start'] as const;
export type TruncationMode = (typeof TRUNCATION_MODES)[number];

export const BAD_ROW_POLICIES = ['error', 'skip', 'warn'] as const;
export type BadRowPolicy = (typeof BAD_ROW_POLICIES)[number];

/** A field of the data schema. */
export type DataFieldSpec = Field;

/** The longest row a JSON Lines reader can take: a row becomes one JavaScript string (2^29 − 24 characters in Node 20). */
export const MAX_ROW_BYTES_LIMIT = bufferConstants.MAX_STRING_LENGTH;

/** Every data key with its default and meaning. Token counts are tokens of the model's tokenizer. */
export const DATA_CONFIG_SCHEMA = {
  dataset_format: {
    type: 'enum',
    values: DATASET_FORMATS,
    default: 'auto',
    doc:
      "Row format. 'auto' detects it from the first row that has the chosen and rejected columns (docs/data.md lists the rules); " +
      'every later row must then fit the same format.',
  },
  prompt_key: { type: 'string', default: 'prompt', doc: 'Column holding the prompt (absent in implicit-prompt formats).' },
  chosen_key: { type: 'string', default: 'chosen', doc: 'Column holding the preferred completion (or whole dialogue).' },
  rejected_key: { type: 'string', default: 'rejected', doc: 'Column holding the dispreferred completion (or whole dialogue).' },
  completion_key: {
    type: 'string',
    default: 'completion',
    doc: 'Column holding the one completion of an unpaired row (TRL KTO format: prompt, completion, label).',
  },
  label_key: {
    type: 'string',
    default: 'label',
    doc: 'Column holding the boolean label of an unpaired row: true = desirable (thumbs up), false = undesirable.',
  },
  max_length: {
    type: 'number',
    integer: true,
    nullable: true,
    default: 2048,
    min: 2,
    unit: 'tokens',
    doc: 'Tokens per sequence (prompt + completion) after truncation; null: no limit. 2048 in the α-DPO/SimPO runs.',
  },
  max_prompt_length: {
    type: 'number',
    integer: true,
    nullable: true,
    default: 1800,
    min: 1,
    unit: 'tokens',
    doc:
      'Tokens the prompt is cut to when prompt + longer completion exceeds max_length (a pair that fits is never cut); ' +
      'null: the prompt is never cut. 1800 in the α-DPO/SimPO runs. Must be below max_length.',
  },
  truncation_mode: {
    type: 'enum',
    values: TRUNCATION_MODES,
    default: 'keep_end',
    doc:
      "Which end of an over-long prompt survives: 'keep_end' cuts its start (a leading BOS is kept), as in the α-DPO/SimPO runs; " +
      "'keep_start' cuts its end. Completions always keep their start.",
  },
  pad_to_multiple_of: {
    type: 'number',
    integer: true,
    nullable: true,
    default: null,
    min: 1,
    unit: 'tokens',
    doc: 'Round each batch length up to a multiple of this many tokens (e.g. 8 for tensor cores); null: the longest row.',
  },
  padding_value: {
    type: 'number',
    integer: true,
    nullable: true,
    default: null,
    min: 0,
    doc: "Token id written at padded positions of input_ids; null: the tokenizer's pad token, else its EOS, else 0. Masked out either way.",
  },
  max_row_bytes: {
    type: 'number',
    integer: true,
    nullable: true,
    default: 64 * 1024 * 1024,
    min: 1,
    max: MAX_ROW_BYTES_LIMIT,
    unit: 'bytes',
    doc:
      'Longest JSON Lines row, in bytes of its line (decompressed; the newline not counted). A longer line stops reading with ' +
      `file and line, before it fills memory (a file without line breaks, a gzip bomb). Default 64 MiB; null: ${MAX_ROW_BYTES_LIMIT}, ` +
      "the most a JavaScript string holds. Other formats have their own bounds (docs/data.md, 'Size limits').",
  },
  on_bad_row: {
    type: 'enum',
    values: BAD_ROW_POLICIES,
    default: 'error',
    doc: "A structurally invalid row: 'error' stops with file, line and reason; 'skip' drops it; 'warn' drops it and logs it. Drops are counted.",
  },
  enable_thinking: {
    type: 'boolean',
    default: null,
    doc:
      "Passed to the chat template as enable_thinking (Qwen3's switch: false adds an empty <think></think> block after the " +
      "generation prompt, as transformers' apply_chat_template(enable_thinking=False)); null: the template's own default.",
  },
  shuffle: {
    type: 'boolean',
    default: true,
    doc: 'Shuffle the pairs each epoch with the seeded generator (seed and epoch give the order).',
  },
  group_by_length: {
    type: 'boolean',
    default: false,
    doc: "Batch pairs of similar length: sort each shuffled megabatch of 50 batches by length (Hugging Face's LengthGroupedSampler).",
  },
  dataloader_drop_last: {
    type: 'boolean',
    default: false,
    doc: "Drop each epoch's last batch when it has fewer pairs than the batch size.",
  },
} as const satisfies Record<string, Field>;

export type DataConfigKey = keyof typeof DATA_CONFIG_SCHEMA;
export const DATA_CONFIG_KEYS = Object.keys(DATA_CONFIG_SCHEMA) as DataConfigKey[];

/** The config with every default filled in. */
export type DataConfig = Readonly<SchemaValues<typeof DATA_CONFIG_SCHEMA>>;
/** What a caller writes: any subset of the keys. */
export type DataConfigInput = SchemaInput<typeof DATA_CONFIG_SCHEMA>;

// Configs made by resolveDataConfig (frozen): passed to it again, they are returned as they are.
const resolvedConfigs = new WeakSet<object>();

/** Checks a data config and collects every problem (none thrown), the cross-field rule included. */
export function checkDataConfig(
  config: Readonly<Record<string, unknown>>,
  where?: (key: string) => string | null,
): Resolution<typeof DATA_CONFIG_SCHEMA> {
  const resolution = resolveSchema(DATA_CONFIG_SCHEMA, config, {
    error: DataConfigError,
    where,
    unknownKeys: 'error',
    nullOnNonNullable: 'unset',
    unknownKeyHint: `Known settings: ${DATA_CONFIG_KEYS.join(', ')}.`,
  });
  const { max_length: maxLength, max_prompt_length: maxPromptLength } = resolution.values;
  if (maxLength !== null && maxPromptLength !== null && maxPromptLength >= maxLength) {
    resolution.problems.push(
      new DataConfigError(
        'max_prompt_length',
        `${maxPromptLength} must be below max_length (${maxLength}), or a cut prompt would leave no room for the completion. ` +
          'The α-DPO/SimPO runs used max_length 2048, max_prompt_length 1800.',
        where?.('max_prompt_length') ?? null,
      ),
    );
  }
  return resolution;
}

/**
 * Checks types, ranges and cross-field rules, rejects unknown keys (naming the nearest) and fills
 * defaults; every problem in one DataConfigError. The result is frozen and, passed in again, is
 * returned unchecked: resolve once and pass it down.
 */
export function resolveDataConfig(config: unknown = {}): DataConfig {
  if (typeof config === 'object' && config !== null && resolvedConfigs.has(config)) return config as DataConfig;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new DataConfigError(
      'config',
      `expected an object of data settings (e.g. { max_length: 2048 }), got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}.`,
    );
  }
  const { values, problems } = checkDataConfig(config as Record<string, unknown>);
  throwIfProblems(DataConfigError, problems);
  const resolved = Object.freeze(values);
  resolvedConfigs.add(resolved);
  return resolved;
}

/**
 * Reads a flag's text as the field's type (for the CLI): integers, 'null' for nullable fields,
 * 'true'/'false' for booleans; anything else is checked like a YAML value.
 */
export function parseDataConfigValue(key: DataConfigKey, text: string): unknown {
  const spec: DataFieldSpec = DATA_CONFIG_SCHEMA[key];
  if (spec.type === 'number') return text === 'null' ? null : /^-?\d+$/.test(text) ? Number(text) : text;
  if (spec.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}
