// The training config: every key of `alpha-dpo train CONFIG.yaml` defined once here, with its
// type, default and meaning. Keys are transformers' TrainingArguments / TRL DPOConfig names and
// the α-DPO reference code's, so the authors' YAML loads unchanged apart from paths. Loss keys
// (beta, alpha, ...) are the loss library's schema (src/losses/config.ts) and data keys
// (max_length, truncation_mode, ...) the data layer's (src/data/data-config.ts): one schema each,
// composed here, all checked by the config engine (src/config/). Every mistake in a config is
// reported at once, and every rule that depends only on the config is checked here, before any
// model or data is loaded.

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { throwIfProblems } from '../config/config-error.js';
import {
  ConfigError,
  type CustomField,
  describeSchema,
  describeValue,
  didYouMean,
  type Field,
  resolveSchema,
  type SchemaValues,
  unknownKeyDetail,
} from '../config/index.js';
import { checkDataConfig, DATA_CONFIG_KEYS, DATA_CONFIG_SCHEMA, type DataConfig, resolveDataConfig } from '../data/data-config.js';
import type { DataFilesSource } from '../data/read/data-files.js';
import {
  checkLossConfig,
  CONFIG_KEYS as LOSS_CONFIG_KEYS,
  CONFIG_SCHEMA as LOSS_CONFIG_SCHEMA,
  type ResolvedLossConfig,
  resolveLossConfig,
} from '../losses/config.js';
import { LossConfigError } from '../losses/errors.js';
import { type LossRequirements, lossRequirements } from '../losses/preference-loss.js';
import { LOSS_TYPES, type LossType } from '../losses/registry.js';
import { LR_SCHEDULER_TYPES } from '../optim/lr-schedule.js';
import { LORA_CONFIG_SCHEMA, loraConfigRules } from './lora-train-config.js';

/** A training config mistake; `problems` lists every one found (loss and data keys' included). */
export class TrainConfigError extends ConfigError {
  static override keyLabel(key: string): string {
    return `config key '${key}'`;
  }
}

const STRATEGIES = ['no', 'steps', 'epoch'] as const;
const MODEL_DTYPES = ['auto', 'float32', 'bfloat16', 'float16'] as const;
const ATTN_IMPLEMENTATIONS = ['chunked', 'eager', 'sdpa', 'flash_attention_2', 'flash_attention_3'] as const;

/** report_to values that work offline; the others (online services) are dropped with a note. */
export const REPORT_TARGETS = ['tensorboard'] as const;
export type ReportTarget = (typeof REPORT_TARGETS)[number];
/** transformers' online integrations: accepted with a note, since nothing leaves the machine. */
const ONLINE_REPORTERS = [
  'all',
  'azure_ml',
  'clearml',
  'codecarbon',
  'comet_ml',
  'dagshub',
  'dvclive',
  'flyte',
  'mlflow',
  'neptune',
  'swanlab',
  'trackio',
  'wandb',
] as const;

type Fail = (detail: string, subKey?: string) => never;

function parseLossType(value: unknown, fail: Fail): LossType | LossType[] {
  const names = Array.isArray(value) ? value : [value];
  if (names.length === 0) fail('expected a loss name or a non-empty list of names.');
  names.forEach((name, i) => {
    if (typeof name !== 'string' || !(LOSS_TYPES as readonly string[]).includes(name)) {
      const hint = typeof name === 'string' ? didYouMean(name, LOSS_TYPES) : '';
      fail(
        `unknown loss ${typeof name === 'string' ? `'${name}'` : describeValue(name)}.${hint} Known: ${LOSS_TYPES.join(', ')}.`,
        Array.isArray(value) ? `[${i}]` : undefined,
      );
    }
  });
  return value as LossType | LossType[];
}

function parseDataSource(value: unknown, fail: Fail): DataFilesSource | null {
  const isPaths = (v: unknown) => typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === 'string'));
  if (value === null || value === undefined) return null;
  if (isPaths(value)) return value as DataFilesSource;
  if (typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(isPaths)) return value as DataFilesSource;
  return fail(`expected a path, a list of paths or { split: paths }, got ${describeValue(value)}.`);
}

function parseMixer(value: unknown, fail: Fail): Record<string, number> | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value as object).length === 0) {
    fail(`expected { path: fraction, ... }, got ${describeValue(value)}.`);
  }
  for (const [path, fraction] of Object.entries(value as Record<string, unknown>)) {
    if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1))
      fail(`expected a fraction in (0, 1], got ${describeValue(fraction)}.`, path);
  }
  return value as Record<string, number>;
}

function parseSplits(value: unknown, fail: Fail): [string, string] {
  if (!Array.isArray(value) || value.length < 1 || value.length > 2 || !value.every((s) => typeof s === 'string' && s !== '')) {
    fail(`expected [train split] or [train split, eval split], got ${describeValue(value)}.`);
  }
  const splits = value as string[];
  return [splits[0] as string, splits[1] ?? 'test'];
}

function parseEvalSplitSize(value: unknown, fail: Fail): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || !((value > 0 && value < 1) || (Number.isSafeInteger(value) && value >= 1))) {
    fail(`expected a fraction in (0, 1) or a whole number of pairs ≥ 1, got ${describeValue(value)}.`);
  }
  return value as number;
}

function reportNames(value: unknown): unknown[] {
  return value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function parseReportTo(value: unknown, fail: Fail): ReportTarget[] {
  const names = reportNames(value);
  const known = ['none', ...REPORT_TARGETS, ...ONLINE_REPORTERS];
  names.forEach((name, i) => {
    if (typeof name !== 'string' || !known.includes(name)) {
      const hint = typeof name === 'string' ? didYouMean(name, known) : '';
      fail(
        `unknown report target ${typeof name === 'string' ? `'${name}'` : describeValue(name)}.${hint} Offline targets: 'none', ${REPORT_TARGETS.map((t) => `'${t}'`).join(', ')}.`,
        Array.isArray(value) ? `[${i}]` : undefined,
      );
    }
  });
  if (names.includes('none') && names.length > 1) fail("'none' cannot be listed with other targets.");
  return [...new Set(names.filter((n): n is ReportTarget => (REPORT_TARGETS as readonly unknown[]).includes(n)))];
}

/** A field whose value `parse` checks and shapes (see CustomField). */
function custom<T>(spec: Omit<CustomField<T>, 'type'>): CustomField<T> {
  return { type: 'custom', ...spec };
}

const TF = 'transformers TrainingArguments';
const TRL = 'TRL DPOConfig';
const REF = 'α-DPO reference code';

export const TRAIN_CONFIG_SCHEMA = {
  model_name_or_path: {
    type: 'string',
    default: null,
    doc: 'Hugging Face model folder of the policy (config.json, safetensors, tokenizer files).',
    source: REF,
  },
  ref_model_name_or_path: {
    type: 'string',
    default: null,
    doc: 'Reference model folder; default: model_name_or_path (the SFT model).',
    source: REF,
  },
  torch_dtype: {
    type: 'enum',
    values: MODEL_DTYPES,
    default: null,
    doc: "dtype the models are loaded in; null/'auto' load float32 (AdamW's update runs in float32 whatever this is).",
    source: REF,
  },
  dataset: custom({
    default: null,
    parse: parseDataSource,
    accepts: 'a path, a list of paths or { split: paths }',
    doc: 'Training data: a file, a folder of shards, a list of files, or { train: files, test: files } (splits chosen by dataset_splits).',
  }),
  dataset_mixer: custom({
    default: null,
    parse: parseMixer,
    accepts: '{ path: fraction in (0, 1] }',
    doc: "{ path: fraction }: the reference code's form; each path is read with dataset_splits and the first fraction×rows of it kept (1.0 = all).",
    source: REF,
  }),
  dataset_splits: custom({
    default: ['train', 'test'],
    parse: parseSplits,
    accepts: '[train split] or [train split, eval split]',
    doc: '[train split, eval split] names used to pick files from dataset/dataset_mixer.',
    source: REF,
  }),
  eval_dataset: custom({
    default: null,
    parse: parseDataSource,
    accepts: 'a path, a list of paths or { split: paths }',
    doc: 'Evaluation data, in any form dataset takes; overrides the eval split.',
  }),
  eval_split_size: custom({
    default: null,
    parse: parseEvalSplitSize,
    accepts: 'a fraction in (0, 1), a whole number ≥ 1, or null',
    doc:
      'When the data has no eval split and no eval_dataset is given: hold out this many training pairs for evaluation, ' +
      "a fraction in (0, 1) or a whole number of pairs (as `datasets`' train_test_split test_size). null: none.",
  }),
  loss_type: custom({
    default: 'sigmoid',
    parse: parseLossType,
    accepts: 'a loss name or a list of them',
    doc: `Loss name or list of names (with loss_weights): ${LOSS_TYPES.join(', ')}.`,
    source: TRL,
  }),
  ln: {
    type: 'boolean',
    default: null,
    doc: 'Average sequence log-probs over completion tokens (true, SimPO/α-DPO) or sum them (false, DPO). Default: what the loss is defined on.',
    source: REF,
  },
  trainer_type: {
    type: 'enum',
    values: ['dpo'],
    default: 'dpo',
    doc: "The α-DPO reference code's trainer switch; only 'dpo' (preference pairs) exists.",
    source: REF,
  },
  learning_rate: { type: 'number', default: 1e-6, min: 0, doc: 'Peak learning rate of AdamW (TRL DPOConfig default 1e-6).', source: TRL },
  lr_scheduler_type: {
    type: 'enum',
    values: LR_SCHEDULER_TYPES,
    default: 'linear',
    doc: 'Schedule of the learning rate (transformers formulas).',
    source: TF,
  },
  warmup_ratio: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    doc: 'Fraction of optimiser steps spent warming up (ceil); warmup_steps > 0 wins.',
    source: TF,
  },
  warmup_steps: { type: 'number', default: 0, min: 0, integer: true, unit: 'optimiser steps', doc: 'Warm-up optimiser steps.', source: TF },
  num_train_epochs: {
    type: 'number',
    default: 1,
    min: 0,
    unit: 'epochs',
    doc: 'Epochs over the training pairs (may be fractional); max_steps > 0 wins.',
    source: TF,
  },
  max_steps: {
    type: 'number',
    default: -1,
    min: -1,
    integer: true,
    unit: 'optimiser steps',
    doc: 'Optimiser steps to run; -1: from num_train_epochs.',
    source: TF,
  },
  per_device_train_batch_size: {
    type: 'number',
    default: 8,
    min: 1,
    integer: true,
    unit: 'pairs',
    doc: 'Pairs per micro-batch (2× rows: chosen and rejected).',
    source: TF,
  },
  per_device_eval_batch_size: {
    type: 'number',
    default: 8,
    min: 1,
    integer: true,
    unit: 'pairs',
    doc: 'Pairs per evaluation batch.',
    source: TF,
  },
  gradient_accumulation_steps: {
    type: 'number',
    default: 1,
    min: 1,
    integer: true,
    unit: 'micro-batches',
    doc: "Micro-batches per optimiser step; gradients equal the large batch's.",
    source: TF,
  },
  max_grad_norm: { type: 'number', default: 1, min: 0, doc: 'Global gradient-norm clipping (0: off).', source: TF },
  weight_decay: {
    type: 'number',
    default: 0,
    min: 0,
    doc: "AdamW decoupled weight decay (not applied to biases and norm weights, as transformers' Trainer).",
    source: TF,
  },
  adam_beta1: { type: 'number', default: 0.9, min: 0, max: 0.999999, doc: 'AdamW β1.', source: TF },
  adam_beta2: { type: 'number', default: 0.999, min: 0, max: 0.999999999, doc: 'AdamW β2.', source: TF },
  adam_epsilon: { type: 'number', default: 1e-8, min: 0, doc: 'AdamW ε.', source: TF },
  optim: {
    type: 'enum',
    values: ['adamw_torch', 'adamw_hf', 'adamw_torch_fused'],
    default: 'adamw_torch',
    doc: "Optimiser; all names mean PyTorch's AdamW here.",
    source: TF,
  },
  seed: { type: 'number', default: 42, min: 0, integer: true, doc: 'Seeds libtorch, the data order and sampling.', source: TF },
  logging_steps: {
    type: 'number',
    default: 10,
    min: 1,
    integer: true,
    unit: 'optimiser steps',
    doc: 'Log averaged metrics every N optimiser steps.',
    source: TF,
  },
  logging_first_step: { type: 'boolean', default: true, doc: 'Also log after the first optimiser step.', source: TF },
  report_to: custom({
    default: 'none',
    parse: parseReportTo,
    accepts: "'none' | 'tensorboard' | a list",
    doc:
      "Where metrics go besides output_dir/metrics.jsonl: 'none', 'tensorboard' (event files in output_dir/runs), or a list. " +
      "Online services (wandb, mlflow, comet_ml, 'all', ...) are not available offline: they are dropped with a note.",
    source: TF,
  }),
  eval_strategy: {
    type: 'enum',
    values: STRATEGIES,
    default: null,
    doc: "When to evaluate: 'no', every eval_steps ('steps'), or each epoch. Default: 'steps' when there is eval data.",
    source: TF,
  },
  evaluation_strategy: { type: 'enum', values: STRATEGIES, default: null, doc: 'Older transformers name of eval_strategy.', source: TF },
  eval_steps: {
    type: 'number',
    default: null,
    min: 1,
    integer: true,
    unit: 'optimiser steps',
    doc: 'Evaluate every N optimiser steps (default: logging_steps), and at the end.',
    source: TF,
  },
  eval_on_start: {
    type: 'boolean',
    default: false,
    doc: 'Evaluate once before the first optimiser step (a step-0 baseline of the eval metrics).',
    source: TF,
  },
  do_eval: { type: 'boolean', default: null, doc: 'false turns evaluation off even when there is eval data.', source: TF },
  save_strategy: {
    type: 'enum',
    values: STRATEGIES,
    default: 'steps',
    doc: "When to write checkpoints: 'no', every save_steps, or each epoch.",
    source: TF,
  },
  save_steps: {
    type: 'number',
    default: 500,
    min: 0,
    integer: true,
    unit: 'optimiser steps',
    doc: 'Checkpoint every N optimiser steps (0: never).',
    source: TF,
  },
  save_total_limit: {
    type: 'number',
    default: null,
    min: 1,
    integer: true,
    unit: 'checkpoints',
    doc: 'Keep at most this many checkpoints (the oldest are deleted).',
    source: TF,
  },
  output_dir: { type: 'string', default: null, doc: 'Where checkpoints, metrics.jsonl and the final model go.', source: TF },
  overwrite_output_dir: {
    type: 'boolean',
    default: false,
    doc: 'Allow training into an output_dir that already holds checkpoints or a model (false: stop, unless resuming).',
    source: TF,
  },
  precompute_ref_log_probs: {
    type: 'boolean',
    default: false,
    doc: 'Compute the reference log-probs once before training and cache them on disk (key: reference weights, data, tokenisation settings).',
    source: TRL,
  },
  disable_dropout: { type: 'boolean', default: true, doc: 'Turn dropout off in the policy and reference (TRL default).', source: TRL },
  prefix_sharing: {
    type: 'boolean',
    default: true,
    doc: "Compute each pair's common prompt once: one sequence [prompt, chosen, rejected] per pair, the completions blind to each other (exact; skipped for a policy with dropout on).",
  },
  padding_free: {
    type: 'boolean',
    default: false,
    doc: "Pack a micro-batch's sequences into one row without padding, attention per sequence, positions restarting (exact).",
    source: TRL,
  },
  vocab_chunk_size: {
    type: 'number',
    default: 8192,
    min: 0,
    integer: true,
    unit: 'tokens of the vocabulary',
    doc: 'LM head only at completion tokens, fused with log-softmax in vocabulary chunks of this size, so [tokens, vocab] logits never exist (exact); 0: whole vocabulary at once.',
  },
  resume_from_checkpoint: {
    type: 'string',
    default: null,
    doc: "A checkpoint folder to resume from, or 'latest' (the newest complete one in output_dir).",
    source: TF,
  },
  run_name: { type: 'string', default: null, doc: 'A name shown in logs and the summary.', source: TF },
  ...LORA_CONFIG_SCHEMA,
  ddp_backend: {
    type: 'enum',
    values: ['gloo', 'nccl'],
    default: null,
    doc: "torch.distributed backend of a multi-process run (docs/distributed.md): 'gloo' (CPU tensors; the default). 'nccl' (CUDA tensors) is refused while the trainer keeps the models on the CPU.",
    source: TF,
  },
  ddp_timeout: {
    type: 'number',
    default: 1800,
    min: 1,
    unit: 'seconds',
    doc: 'How long a multi-process run waits for the other ranks (rendezvous, each collective) before failing with the rank that stopped.',
    source: TF,
  },
  bf16: {
    type: 'boolean',
    default: false,
    doc:
      "bfloat16 mixed precision: the models' forward passes run under libtorch's CPU autocast (matmuls in bfloat16), with " +
      'float32 master weights, optimiser state, vocabulary log-softmax, loss and α-DPO statistics (docs/training.md).',
    source: TF,
  },
  fp16: {
    type: 'boolean',
    default: false,
    doc: 'float16 mixed precision needs CUDA (loss scaling); training runs on the CPU here, so true is refused: use bf16.',
    source: TF,
  },
  ref_model_dtype: {
    type: 'enum',
    values: MODEL_DTYPES,
    default: null,
    doc: "dtype the frozen reference model is held in; null/'auto': torch_dtype's (as the policy). bfloat16 halves its memory.",
  },
  attn_implementation: {
    type: 'enum',
    values: ATTN_IMPLEMENTATIONS,
    default: null,
    doc:
      "How attention is computed, in the policy and the reference. null, 'chunked', 'sdpa', 'flash_attention_2' and 'flash_attention_3': " +
      'chunked attention (blocks of queries, weights recomputed in backward: memory linear in the sequence length; the names of ' +
      "transformers' fused kernels select it, as the memory-efficient implementation here). 'eager': matmul, mask, softmax, matmul " +
      'as separate operations that autograd records (every layer keeps its [heads, T, T] weights for backward). Same arithmetic.',
    source: TF,
  },
  gradient_checkpointing: {
    type: 'boolean',
    default: false,
    doc: "Recompute each decoder layer's activations in backward instead of storing them: less memory, one more forward.",
    source: TF,
  },
  gradient_checkpointing_kwargs: { type: 'note', doc: "Checkpointing is PyTorch's reentrant form (use_reentrant: true); no options." },
  preprocessing_num_workers: { type: 'note', doc: 'Tokenisation runs in the training process.' },
  hub_model_id: { type: 'note', doc: 'Nothing is pushed to a hub.' },
  push_to_hub: { type: 'note', doc: 'Nothing is pushed to a hub.' },
  log_level: { type: 'note', doc: 'One log level.' },
} as const satisfies Record<string, Field>;

export type TrainKey = keyof typeof TRAIN_CONFIG_SCHEMA;
export const TRAIN_KEYS = Object.keys(TRAIN_CONFIG_SCHEMA) as TrainKey[];
export const ALL_CONFIG_KEYS: readonly string[] = [...TRAIN_KEYS, ...LOSS_CONFIG_KEYS, ...DATA_CONFIG_KEYS];

/** The training keys as their schema types them (before the rules that fill ln, eval_steps and do_eval). */
type TrainValues = SchemaValues<typeof TRAIN_CONFIG_SCHEMA>;

/** A validated training config with defaults filled in; its type is derived from TRAIN_CONFIG_SCHEMA. */
export type TrainConfig = Omit<TrainValues, 'ln' | 'eval_steps' | 'do_eval' | 'evaluation_strategy'> & {
  /** Resolved: true = averaged log-probs. */
  ln: boolean;
  /** Resolved: default logging_steps. */
  eval_steps: number;
  /** Resolved from do_eval (null: true). eval_strategy is resolved from eval_strategy / evaluation_strategy / do_eval. */
  do_eval: boolean;
  /** The loss keys, resolved once (frozen): preferenceLoss takes it without checking it again. */
  loss: ResolvedLossConfig;
  /** The data keys with defaults. */
  data: DataConfig;
  /** Keys that were accepted but have no effect here (and report_to targets dropped), with why. */
  ignored: { key: string; why: string }[];
};

/** Keys `alpha-dpo train` needs; 'dataset' means dataset or dataset_mixer. */
export type RequiredTrainKey = 'model_name_or_path' | 'output_dir' | 'dataset';

export interface ResolveTrainConfigOptions {
  /** Where each key's value came from (a file, `--key`), for the messages; default: nowhere (code). */
  where?: string | ((key: string) => string | null);
  /** Keys that must be set (a config for `train()` needs a model, data and output_dir). */
  required?: readonly RequiredTrainKey[];
}

/** The `required` keys `config` leaves unset ('dataset' is satisfied by dataset_mixer too), each with its message. */
export function missingTrainKeys(
  config: Pick<TrainConfig, 'model_name_or_path' | 'output_dir' | 'dataset' | 'dataset_mixer'>,
  required: readonly RequiredTrainKey[],
): { key: RequiredTrainKey; detail: string }[] {
  return required
    .filter((key) => (key === 'dataset' ? config.dataset === null && config.dataset_mixer === null : config[key] === null))
    .map((key) => ({ key, detail: key === 'dataset' ? 'is required (or dataset_mixer).' : 'is required.' }));
}

/**
 * Validates a config (from YAML, CLI flags or code): unknown keys (with the nearest known ones,
 * or "not supported yet" for TRL/PEFT keys alpha-dpo lacks), types, ranges and every rule that
 * depends only on the config, all before any model or data is loaded. Every problem is reported
 * at once, in one TrainConfigError. A null value unsets a key (it takes its default), except
 * where null has a meaning of its own (max_length: null is no limit).
 */
export function resolveTrainConfig(input: Record<string, unknown>, options: ResolveTrainConfigOptions = {}): TrainConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TrainConfigError('config', `expected a mapping of keys to values, got ${describeValue(input)}.`);
  }
  const whereOf = (key: string): string | null =>
    typeof options.where === 'function' ? options.where(key.replace(/[.[].*$/, '')) : (options.where ?? null);
  const problem = (key: string, detail: string) => problems.push(new TrainConfigError(key, detail, whereOf(key)));
  const problems: ConfigError[] = [];

  const trainRaw: Record<string, unknown> = {};
  const lossRaw: Record<string, unknown> = {};
  const dataRaw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (Object.hasOwn(TRAIN_CONFIG_SCHEMA, key)) trainRaw[key] = value;
    else if (Object.hasOwn(LOSS_CONFIG_SCHEMA, key)) lossRaw[key] = value;
    else if (Object.hasOwn(DATA_CONFIG_SCHEMA, key)) dataRaw[key] = value;
    else problem(key, unknownKeyDetail(key, ALL_CONFIG_KEYS, 'See alpha-dpo train --help for the list.'));
  }
  const train = resolveSchema(TRAIN_CONFIG_SCHEMA, trainRaw, {
    error: TrainConfigError,
    where: whereOf,
    unknownKeys: 'error',
    nullOnNonNullable: 'unset',
  });
  const loss = checkLossConfig(lossRaw, whereOf);
  const data = checkDataConfig(dataRaw, whereOf);
  problems.push(...train.problems, ...loss.problems, ...data.problems);
  const c = train.values;
  const bad = (key: string) => problems.some((p) => p.key === key || p.key.startsWith(`${key}.`) || p.key.startsWith(`${key}[`));

  // What the loss needs (reference model, per-token log-probs), from the loss's own rules.
  let requirements: LossRequirements | null = null;
  if (!bad('loss_type') && loss.problems.length === 0) {
    try {
      requirements = lossRequirements(c.loss_type, loss.given);
    } catch (e) {
      if (!(e instanceof LossConfigError)) throw e;
      for (const p of e.problems) problems.push(new LossConfigError(p.key, p.detail, whereOf(p.key)));
    }
  }
  const lossName = JSON.stringify(c.loss_type);
  if (requirements && !requirements.reference) {
    if (c.ref_model_name_or_path !== null)
      problem('ref_model_name_or_path', `the loss ${lossName} uses no reference model: remove this key.`);
    if (c.precompute_ref_log_probs) problem('precompute_ref_log_probs', `the loss ${lossName} uses no reference model.`);
  }
  if (requirements?.tokens && c.precompute_ref_log_probs) {
    problem(
      'precompute_ref_log_probs',
      'precompute_ref_log_probs caches sequence log-probs only, and ld_alpha needs per-token reference log-probs: turn one of them off.',
    );
  }

  if (requirements?.kl) {
    // The KL rows are fixed chunks of the batch size in data order (src/data/batch/unpaired-rows.ts), as TRL's KTOTrainer.
    const why = `the loss ${lossName} builds its KL rows from consecutive chunks of per_device_train_batch_size examples in data order (as TRL's KTOTrainer, which requires sequential sampling)`;
    if (data.values.shuffle) problem('shuffle', `${why}: set shuffle: false.`);
    if (data.values.group_by_length) problem('group_by_length', `${why}: set group_by_length: false.`);
    if (c.per_device_train_batch_size < 2)
      problem(
        'per_device_train_batch_size',
        `must be ≥ 2 for ${lossName}: with one example per batch its KL row is the example itself (TRL refuses it too).`,
      );
  }

  if (c.fp16) {
    problem(
      'fp16',
      'float16 mixed precision (with loss scaling) needs a CUDA device, and training runs on the CPU here: use bf16: true instead (bfloat16 needs no loss scaling).',
    );
  }
  if (c.ref_model_dtype !== null && requirements && !requirements.reference) {
    problem('ref_model_dtype', `the loss ${lossName} uses no reference model: remove this key.`);
  }
  if (c.dataset_mixer !== null && c.dataset !== null) problem('dataset_mixer', 'give either dataset or dataset_mixer, not both.');
  if (c.max_steps === 0) problem('max_steps', 'must be -1 (use num_train_epochs) or ≥ 1.');
  if (c.max_steps < 0 && !(c.num_train_epochs > 0) && !bad('num_train_epochs'))
    problem('num_train_epochs', 'must be > 0 when max_steps is -1.');
  if (c.eval_split_size !== null && c.eval_dataset !== null) {
    problem('eval_split_size', 'give either eval_dataset or eval_split_size (which holds out part of the training data), not both.');
  }
  const strategy = c.eval_strategy ?? c.evaluation_strategy;
  const evalStrategy = c.do_eval === false ? 'no' : strategy;
  if (c.eval_on_start && evalStrategy === 'no') {
    problem('eval_on_start', `evaluation is off (${c.do_eval === false ? 'do_eval: false' : "eval_strategy: 'no'"}): remove one of them.`);
  }
  for (const { key, detail } of missingTrainKeys(c, options.required ?? [])) problem(key, detail);
  const lora = loraConfigRules(c, Object.keys(trainRaw));
  for (const [key, detail] of lora.problems) problem(key, detail);
  throwIfProblems(TrainConfigError, problems);

  const ignored = [...train.notes, ...lora.notes];
  const dropped = reportNames(trainRaw.report_to).filter((n) => (ONLINE_REPORTERS as readonly unknown[]).includes(n));
  if (dropped.length > 0) {
    ignored.push({
      key: 'report_to',
      why: `${dropped.join(', ')} ${dropped.length > 1 ? 'are' : 'is'} not available offline: metrics go to output_dir/metrics.jsonl${c.report_to.length > 0 ? ` and ${c.report_to.join(', ')}` : ''}.`,
    });
  }
  const { evaluation_strategy: _older, ...values } = c;
  return {
    ...values,
    ln: c.ln ?? (requirements as LossRequirements).logps === 'average',
    eval_strategy: evalStrategy,
    eval_steps: c.eval_steps ?? c.logging_steps,
    do_eval: c.do_eval !== false,
    loss: resolveLossConfig(loss.given),
    data: resolveDataConfig(data.given),
    ignored,
  };
}

/** The `alpha-dpo train --help` key listing: every training, loss and data key from its schema. */
export function trainConfigHelp(): string {
  const sections: [string, Record<string, Field>][] = [
    ['Training keys', TRAIN_CONFIG_SCHEMA],
    ['Loss keys (docs/losses.md)', LOSS_CONFIG_SCHEMA],
    ['Data keys (docs/data.md)', DATA_CONFIG_SCHEMA],
  ];
  return `${sections.map(([title, schema]) => `\n${title}:\n${describeSchema(schema).join('\n')}`).join('\n')}\n`;
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
 * numbers, booleans, null and [lists] work); `--flag` alone means true. `--key null` unsets a key
 * of the file (it takes its default), e.g. `--gamma_beta_ratio null` when switching loss types.
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

/**
 * A config file's keys with command-line overrides on top, and where each value came from (for
 * resolveTrainConfig's messages). A data source on the command line replaces the file's, in
 * whichever of the two forms (dataset, dataset_mixer) either uses.
 */
export function mergeTrainConfigSources(
  file: string,
  fromFile: Readonly<Record<string, unknown>>,
  overrides: Readonly<Record<string, unknown>>,
): { raw: Record<string, unknown>; where: (key: string) => string } {
  const base = { ...fromFile };
  if ('dataset' in overrides || 'dataset_mixer' in overrides) {
    delete base.dataset;
    delete base.dataset_mixer;
  }
  return { raw: { ...base, ...overrides }, where: (key) => (Object.hasOwn(overrides, key) ? `--${key}` : file) };
}
