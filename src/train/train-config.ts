// The training config: every key of `alpha-dpo train CONFIG.yaml` defined once here, with its
// type, default and meaning. Keys are transformers' TrainingArguments / TRL DPOConfig names and
// the α-DPO reference code's, so the authors' YAML loads unchanged apart from paths. Loss keys
// (beta, alpha, ...) are the loss library's schema (src/losses/config.ts) and data keys
// (max_length, truncation_mode, ...) the data layer's (src/data/data-config.ts): one schema each,
// composed here; an unknown key is an error naming the nearest key of all three.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DATA_CONFIG_KEYS, type DataConfig, resolveDataConfig } from '../data/data-config.js';
import { CONFIG_KEYS as LOSS_CONFIG_KEYS, type PreferenceLossConfig, resolveLossConfig } from '../losses/config.js';
import { nearestName } from '../losses/nearest-name.js';
import { lossRequirements } from '../losses/preference-loss.js';
import { LOSS_TYPES, type LossType } from '../losses/registry.js';
import { LR_SCHEDULER_TYPES, type LrSchedulerType } from '../optim/lr-schedule.js';

export class TrainConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config key '${key}': ${message}`);
    this.name = 'TrainConfigError';
  }
}

type Field =
  | { type: 'string'; default: string | null; doc: string }
  | { type: 'number'; default: number | null; min?: number; max?: number; integer?: boolean; doc: string }
  | { type: 'boolean'; default: boolean | null; doc: string }
  | { type: 'enum'; values: readonly string[]; default: string | null; doc: string }
  | { type: 'json'; default: unknown; doc: string }
  // Accepted so the reference YAML loads; has no effect here (the doc says why).
  | { type: 'ignored'; doc: string };

const STRATEGIES = ['no', 'steps', 'epoch'] as const;
const MODEL_DTYPES = ['auto', 'float32', 'bfloat16', 'float16'] as const;

export const TRAIN_CONFIG_SCHEMA = {
  model_name_or_path: {
    type: 'string',
    default: null,
    doc: 'Hugging Face model folder of the policy (config.json, safetensors, tokenizer files).',
  },
  ref_model_name_or_path: { type: 'string', default: null, doc: 'Reference model folder; default: model_name_or_path (the SFT model).' },
  torch_dtype: {
    type: 'enum',
    values: MODEL_DTYPES,
    default: null,
    doc: "dtype the models are loaded in; null/'auto' load float32 (AdamW's update runs in float32 whatever this is).",
  },
  dataset: {
    type: 'json',
    default: null,
    doc: 'Training data: a file, a folder of shards, a list of files, or { train: files, test: files } (splits chosen by dataset_splits).',
  },
  dataset_mixer: {
    type: 'json',
    default: null,
    doc: "{ path: fraction }: the reference code's form; each path is read with dataset_splits and the first fraction×rows of it kept (1.0 = all).",
  },
  dataset_splits: {
    type: 'json',
    default: ['train', 'test'],
    doc: '[train split, eval split] names used to pick files from dataset/dataset_mixer.',
  },
  eval_dataset: { type: 'json', default: null, doc: 'Evaluation data, in any form dataset takes; overrides the eval split.' },
  loss_type: { type: 'json', default: 'sigmoid', doc: `Loss name or list of names (with loss_weights): ${LOSS_TYPES.join(', ')}.` },
  ln: {
    type: 'boolean',
    default: null,
    doc: 'Average sequence log-probs over completion tokens (true, SimPO/α-DPO) or sum them (false, DPO). Default: what the loss is defined on.',
  },
  trainer_type: {
    type: 'enum',
    values: ['dpo'],
    default: 'dpo',
    doc: "The α-DPO reference code's trainer switch; only 'dpo' (preference pairs) exists.",
  },
  learning_rate: { type: 'number', default: 1e-6, min: 0, doc: 'Peak learning rate of AdamW (TRL DPOConfig default 1e-6).' },
  lr_scheduler_type: {
    type: 'enum',
    values: LR_SCHEDULER_TYPES,
    default: 'linear',
    doc: 'Schedule of the learning rate (transformers formulas).',
  },
  warmup_ratio: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Fraction of optimiser steps spent warming up (ceil); warmup_steps > 0 wins.',
  },
  warmup_steps: { type: 'number', default: 0, min: 0, integer: true, doc: 'Warm-up optimiser steps.' },
  num_train_epochs: { type: 'number', default: 1, min: 0, doc: 'Epochs over the training pairs (may be fractional); max_steps > 0 wins.' },
  max_steps: { type: 'number', default: -1, min: -1, integer: true, doc: 'Optimiser steps to run; -1: from num_train_epochs.' },
  per_device_train_batch_size: {
    type: 'number',
    default: 8,
    min: 1,
    integer: true,
    doc: 'Pairs per micro-batch (2× rows: chosen and rejected).',
  },
  per_device_eval_batch_size: { type: 'number', default: 8, min: 1, integer: true, doc: 'Pairs per evaluation batch.' },
  gradient_accumulation_steps: {
    type: 'number',
    default: 1,
    min: 1,
    integer: true,
    doc: "Micro-batches per optimiser step; gradients equal the large batch's.",
  },
  max_grad_norm: { type: 'number', default: 1, min: 0, doc: 'Global gradient-norm clipping (0: off).' },
  weight_decay: {
    type: 'number',
    default: 0,
    min: 0,
    doc: "AdamW decoupled weight decay (not applied to biases and norm weights, as transformers' Trainer).",
  },
  adam_beta1: { type: 'number', default: 0.9, min: 0, max: 0.999999, doc: 'AdamW β1.' },
  adam_beta2: { type: 'number', default: 0.999, min: 0, max: 0.999999999, doc: 'AdamW β2.' },
  adam_epsilon: { type: 'number', default: 1e-8, min: 0, doc: 'AdamW ε.' },
  optim: {
    type: 'enum',
    values: ['adamw_torch', 'adamw_hf', 'adamw_torch_fused'],
    default: 'adamw_torch',
    doc: "Optimiser; all names mean PyTorch's AdamW here.",
  },
  seed: { type: 'number', default: 42, min: 0, integer: true, doc: 'Seeds libtorch, the data order and sampling.' },
  logging_steps: { type: 'number', default: 10, min: 1, integer: true, doc: 'Log averaged metrics every N optimiser steps.' },
  logging_first_step: { type: 'boolean', default: true, doc: 'Also log after the first optimiser step.' },
  eval_strategy: {
    type: 'enum',
    values: STRATEGIES,
    default: null,
    doc: "When to evaluate: 'no', every eval_steps ('steps'), or each epoch. Default: 'steps' when there is eval data.",
  },
  evaluation_strategy: { type: 'enum', values: STRATEGIES, default: null, doc: 'Older transformers name of eval_strategy.' },
  eval_steps: {
    type: 'number',
    default: null,
    min: 1,
    integer: true,
    doc: 'Evaluate every N optimiser steps (default: logging_steps), and at the end.',
  },
  do_eval: { type: 'boolean', default: null, doc: 'false turns evaluation off even when there is eval data.' },
  save_strategy: {
    type: 'enum',
    values: STRATEGIES,
    default: 'steps',
    doc: "When to write checkpoints: 'no', every save_steps, or each epoch.",
  },
  save_steps: { type: 'number', default: 500, min: 0, integer: true, doc: 'Checkpoint every N optimiser steps (0: never).' },
  save_total_limit: {
    type: 'number',
    default: null,
    min: 1,
    integer: true,
    doc: 'Keep at most this many checkpoints (the oldest are deleted).',
  },
  output_dir: { type: 'string', default: null, doc: 'Where checkpoints, metrics.jsonl and the final model go.' },
  overwrite_output_dir: {
    type: 'boolean',
    default: false,
    doc: "Start a new run in an output_dir that holds another run's checkpoints and metrics (they are removed). Without it such a folder is refused unless resuming.",
  },
  eval_on_start: { type: 'boolean', default: false, doc: 'Evaluate once before the first step (a step-0 baseline), as transformers.' },
  eval_split_size: {
    type: 'number',
    default: null,
    min: 0,
    doc: 'Hold out this fraction (< 1) or number (≥ 1, whole) of the training pairs for evaluation when the data has no eval split.',
  },
  precompute_ref_log_probs: {
    type: 'boolean',
    default: false,
    doc: 'Compute the reference log-probs once before training and cache them on disk (key: reference weights, data, tokenisation settings).',
  },
  disable_dropout: { type: 'boolean', default: true, doc: 'Turn dropout off in the policy and reference (TRL default).' },
  resume_from_checkpoint: {
    type: 'string',
    default: null,
    doc: "A checkpoint folder to resume from, or 'latest' (the newest complete one in output_dir).",
  },
  run_name: { type: 'string', default: null, doc: 'A name shown in logs and the summary.' },
  bf16: { type: 'ignored', doc: "Mixed precision is not implemented: training runs in the models' dtype with float32 optimiser maths." },
  fp16: { type: 'ignored', doc: 'See bf16.' },
  attn_implementation: { type: 'ignored', doc: 'One attention implementation (matmul + softmax) is used.' },
  gradient_checkpointing: { type: 'ignored', doc: 'Activation checkpointing is not implemented.' },
  gradient_checkpointing_kwargs: { type: 'ignored', doc: 'See gradient_checkpointing.' },
  preprocessing_num_workers: { type: 'ignored', doc: 'Tokenisation runs in the training process.' },
  hub_model_id: { type: 'ignored', doc: 'Nothing is pushed to a hub.' },
  push_to_hub: { type: 'ignored', doc: 'Nothing is pushed to a hub.' },
  report_to: { type: 'ignored', doc: 'Metrics go to output_dir/metrics.jsonl.' },
  log_level: { type: 'ignored', doc: 'One log level.' },
} as const satisfies Record<string, Field>;

export type TrainKey = keyof typeof TRAIN_CONFIG_SCHEMA;
export const TRAIN_KEYS = Object.keys(TRAIN_CONFIG_SCHEMA) as TrainKey[];
export const ALL_CONFIG_KEYS: readonly string[] = [...TRAIN_KEYS, ...LOSS_CONFIG_KEYS, ...DATA_CONFIG_KEYS];

type Strategy = (typeof STRATEGIES)[number];

/** A validated training config with defaults filled in. */
export interface TrainConfig {
  model_name_or_path: string | null;
  ref_model_name_or_path: string | null;
  torch_dtype: (typeof MODEL_DTYPES)[number] | null;
  dataset: unknown;
  dataset_mixer: Record<string, number> | null;
  dataset_splits: [string, string];
  eval_dataset: unknown;
  loss_type: LossType | LossType[];
  /** Resolved: true = averaged log-probs. */
  ln: boolean;
  learning_rate: number;
  lr_scheduler_type: LrSchedulerType;
  warmup_ratio: number;
  warmup_steps: number;
  num_train_epochs: number;
  max_steps: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  gradient_accumulation_steps: number;
  max_grad_norm: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  seed: number;
  logging_steps: number;
  logging_first_step: boolean;
  /** Resolved from eval_strategy / evaluation_strategy / do_eval. */
  eval_strategy: Strategy | null;
  eval_steps: number;
  do_eval: boolean;
  save_strategy: Strategy;
  save_steps: number;
  save_total_limit: number | null;
  output_dir: string | null;
  overwrite_output_dir: boolean;
  eval_on_start: boolean;
  eval_split_size: number | null;
  precompute_ref_log_probs: boolean;
  disable_dropout: boolean;
  resume_from_checkpoint: string | null;
  run_name: string | null;
  /** The loss keys as given (validated), for preferenceLoss. */
  loss: PreferenceLossConfig;
  /** The data keys with defaults. */
  data: DataConfig;
  /** Keys that were accepted but have no effect here, with why. */
  ignored: { key: string; why: string }[];
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value}'`;
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'null' : typeof value;
}

function checkField(key: string, spec: Field, value: unknown): unknown {
  if (value === null && 'default' in spec && spec.default === null) return null;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string' || value === '')
        throw new TrainConfigError(key, `expected a non-empty string, got ${describe(value)}. ${spec.doc}`);
      return value;
    case 'number': {
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
        throw new TrainConfigError(key, `expected a number, got ${describe(value)}. In YAML write it unquoted (e.g. 5.0e-7).`);
      }
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new TrainConfigError(key, `expected a number, got ${describe(value)}. ${spec.doc}`);
      if (spec.integer && !Number.isInteger(value)) throw new TrainConfigError(key, `expected a whole number, got ${value}.`);
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        const range = [spec.min !== undefined ? `≥ ${spec.min}` : '', spec.max !== undefined ? `≤ ${spec.max}` : '']
          .filter(Boolean)
          .join(' and ');
        throw new TrainConfigError(key, `${value} is out of range: it must be ${range}. ${spec.doc}`);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new TrainConfigError(key, `expected true or false, got ${describe(value)}.`);
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        const near = typeof value === 'string' ? nearestName(value, spec.values) : null;
        throw new TrainConfigError(
          key,
          `expected one of ${spec.values.join(', ')}, got ${describe(value)}.${near ? ` Did you mean '${near}'?` : ''}`,
        );
      }
      return value;
    case 'json':
    case 'ignored':
      return value;
  }
}

function checkLossType(value: unknown): LossType | LossType[] {
  const names = Array.isArray(value) ? value : [value];
  if (names.length === 0) throw new TrainConfigError('loss_type', 'expected a loss name or a non-empty list of names.');
  for (const name of names) {
    if (typeof name !== 'string' || !(LOSS_TYPES as readonly string[]).includes(name)) {
      const near = typeof name === 'string' ? nearestName(name, LOSS_TYPES) : null;
      throw new TrainConfigError(
        'loss_type',
        `unknown loss ${describe(name)}.${near ? ` Did you mean '${near}'?` : ''} Known: ${LOSS_TYPES.join(', ')}.`,
      );
    }
  }
  return Array.isArray(value) ? (names as LossType[]) : (value as LossType);
}

function checkDataSource(key: string, value: unknown): void {
  const isPaths = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string'));
  if (value === null || isPaths(value)) return;
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(isPaths)) return;
  throw new TrainConfigError(key, `expected a path, a list of paths or { split: paths }, got ${describe(value)}.`);
}

/**
 * Validates a config (from YAML, CLI flags or code): unknown keys (with the nearest known one),
 * types, ranges and cross-field rules, all before any model or data is loaded.
 */
export function resolveTrainConfig(input: Record<string, unknown>): TrainConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TrainConfigError('config', `expected a mapping of keys to values, got ${describe(input)}.`);
  }
  const train: Record<string, unknown> = {};
  const loss: Record<string, unknown> = {};
  const data: Record<string, unknown> = {};
  const ignored: { key: string; why: string }[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key in TRAIN_CONFIG_SCHEMA) {
      const spec: Field = TRAIN_CONFIG_SCHEMA[key as TrainKey];
      if (spec.type === 'ignored') ignored.push({ key, why: spec.doc });
      else train[key] = checkField(key, spec, value);
    } else if ((LOSS_CONFIG_KEYS as readonly string[]).includes(key)) loss[key] = value;
    else if ((DATA_CONFIG_KEYS as readonly string[]).includes(key)) data[key] = value;
    else {
      const near = nearestName(key, ALL_CONFIG_KEYS);
      throw new TrainConfigError(key, `unknown key.${near ? ` Did you mean '${near}'?` : ''} See alpha-dpo train --help for the list.`);
    }
  }
  const get = <T>(key: TrainKey): T => (key in train ? train[key] : (TRAIN_CONFIG_SCHEMA[key] as { default: unknown }).default) as T;

  const lossType = checkLossType(get('loss_type'));
  resolveLossConfig(loss); // types and ranges of the loss keys
  let requirements: ReturnType<typeof lossRequirements>;
  try {
    requirements = lossRequirements(lossType, loss as PreferenceLossConfig);
  } catch (e) {
    throw new TrainConfigError('loss_type', e instanceof Error ? e.message : String(e));
  }
  const dataConfig = resolveDataConfig(data);

  for (const key of ['dataset', 'eval_dataset'] as const) checkDataSource(key, get(key));
  const mixer = get<unknown>('dataset_mixer');
  if (mixer !== null) {
    if (typeof mixer !== 'object' || Array.isArray(mixer) || Object.keys(mixer as object).length === 0) {
      throw new TrainConfigError('dataset_mixer', `expected { path: fraction, ... }, got ${describe(mixer)}.`);
    }
    for (const [path, fraction] of Object.entries(mixer as Record<string, unknown>)) {
      if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
        throw new TrainConfigError(`dataset_mixer.${path}`, `expected a fraction in (0, 1], got ${describe(fraction)}.`);
      }
    }
    if (get('dataset') !== null) throw new TrainConfigError('dataset_mixer', 'give either dataset or dataset_mixer, not both.');
  }
  const splits = get<unknown>('dataset_splits');
  if (!Array.isArray(splits) || splits.length < 1 || splits.length > 2 || !splits.every((s) => typeof s === 'string')) {
    throw new TrainConfigError('dataset_splits', `expected [train split] or [train split, eval split], got ${describe(splits)}.`);
  }

  const strategy = (get<Strategy | null>('eval_strategy') ?? get<Strategy | null>('evaluation_strategy')) as Strategy | null;
  const doEval = get<boolean | null>('do_eval');
  const logging = get<number>('logging_steps');
  if (get<number>('max_steps') === 0) throw new TrainConfigError('max_steps', 'must be -1 (use num_train_epochs) or ≥ 1.');
  if (get<number>('max_steps') < 0 && !(get<number>('num_train_epochs') > 0)) {
    throw new TrainConfigError('num_train_epochs', 'must be > 0 when max_steps is -1.');
  }
  const ref = get<string | null>('ref_model_name_or_path');
  if (ref !== null && !requirements.reference) {
    throw new TrainConfigError('ref_model_name_or_path', `the loss ${JSON.stringify(lossType)} uses no reference model: remove this key.`);
  }
  if (get<boolean>('precompute_ref_log_probs') && !requirements.reference) {
    throw new TrainConfigError('precompute_ref_log_probs', `the loss ${JSON.stringify(lossType)} uses no reference model.`);
  }
  if (get<boolean>('precompute_ref_log_probs') && requirements.tokens) {
    throw new TrainConfigError(
      'precompute_ref_log_probs',
      'the cache holds sequence log-probs only, and ld_alpha needs per-token reference log-probs: turn one of them off.',
    );
  }
  const split = get<number | null>('eval_split_size');
  if (split !== null && !(split > 0 && (split < 1 || Number.isInteger(split)))) {
    throw new TrainConfigError('eval_split_size', `expected a fraction in (0, 1) or a whole number of pairs ≥ 1, got ${split}.`);
  }

  return {
    model_name_or_path: get('model_name_or_path'),
    ref_model_name_or_path: ref,
    torch_dtype: get('torch_dtype'),
    dataset: get('dataset'),
    dataset_mixer: mixer as Record<string, number> | null,
    dataset_splits: [splits[0] as string, (splits[1] as string | undefined) ?? 'test'],
    eval_dataset: get('eval_dataset'),
    loss_type: lossType,
    ln: get<boolean | null>('ln') ?? requirements.logps === 'average',
    learning_rate: get('learning_rate'),
    lr_scheduler_type: get('lr_scheduler_type'),
    warmup_ratio: get('warmup_ratio'),
    warmup_steps: get('warmup_steps'),
    num_train_epochs: get('num_train_epochs'),
    max_steps: get('max_steps'),
    per_device_train_batch_size: get('per_device_train_batch_size'),
    per_device_eval_batch_size: get('per_device_eval_batch_size'),
    gradient_accumulation_steps: get('gradient_accumulation_steps'),
    max_grad_norm: get('max_grad_norm'),
    weight_decay: get('weight_decay'),
    adam_beta1: get('adam_beta1'),
    adam_beta2: get('adam_beta2'),
    adam_epsilon: get('adam_epsilon'),
    seed: get('seed'),
    logging_steps: logging,
    logging_first_step: get('logging_first_step'),
    eval_strategy: doEval === false ? 'no' : strategy,
    eval_steps: get<number | null>('eval_steps') ?? logging,
    do_eval: doEval !== false,
    save_strategy: get('save_strategy'),
    save_steps: get('save_steps'),
    save_total_limit: get('save_total_limit'),
    output_dir: get('output_dir'),
    overwrite_output_dir: get('overwrite_output_dir'),
    eval_on_start: get('eval_on_start'),
    eval_split_size: get('eval_split_size'),
    precompute_ref_log_probs: get('precompute_ref_log_probs'),
    disable_dropout: get('disable_dropout'),
    resume_from_checkpoint: get('resume_from_checkpoint'),
    run_name: get('run_name'),
    loss: Object.freeze({ ...loss }) as PreferenceLossConfig,
    data: dataConfig,
    ignored,
  };
}

/** Parses a YAML 1.2 config file (so `alpha: 5e-2` is a number). Errors name the file. */
export async function readTrainConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TrainConfigError('config', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}.`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { version: '1.2' });
  } catch (e) {
    throw new TrainConfigError('config', `${path} is not valid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new TrainConfigError('config', `${path} must hold a mapping of keys to values.`);
  return doc as Record<string, unknown>;
}

/**
 * `--key value` / `--key=value` command-line overrides. Values are read as YAML scalars (so
 * numbers, booleans, null and [lists] work); `--flag` alone means true.
 */
export function parseOverrides(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw new TrainConfigError(arg, 'expected --key value.');
    const eq = arg.indexOf('=');
    const key = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).replaceAll('-', '_');
    let text: string;
    if (eq > 0) text = arg.slice(eq + 1);
    else if (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) text = args[++i] as string;
    else text = 'true';
    out[key] = parseYaml(text, { version: '1.2' });
  }
  return out;
}
