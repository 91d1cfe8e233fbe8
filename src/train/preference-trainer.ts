// The preference-optimisation training loop. Read trainPreferences() top to bottom: set up
// (optimiser, resume, data, reference), then one optimiser step at a time with logging,
// evaluation and checkpoints, then the final model. Each part lives in its own file:
// training-step.ts (micro-batches, backward, clipping, AdamW), evaluate.ts, metrics-log.ts,
// restore.ts, checkpoint.ts, run-folder.ts. It never branches on a loss name:
// lossRequirements() says what each loss needs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PreferenceBatches } from '../data/batch/preference-batches.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import { type LossRequirements, lossRequirements } from '../losses/preference-loss.js';
import type { LossWarning } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import { checkModelCompatibility } from '../models/compatibility.js';
import type { LoraAdapter } from '../models/lora-adapter.js';
import { saveAdapter } from '../models/peft-adapter-files.js';
import { AdamW } from '../optim/adamw.js';
import { type LrSchedule, warmupStepsFor } from '../optim/lr-schedule.js';
import { defaultLoggingDir, TensorBoardWriter } from '../report/tensorboard/tensorboard-writer.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { type SavableTokenizer, savableTokenizer, type Tokenizer } from '../tokenizers/tokenizer.js';
import { checkRowKinds, type ReferenceSource } from './batch-logps.js';
import { scoringOptions } from './batch-scores.js';
import { saveCheckpoint } from './checkpoint.js';
import { DataParallel } from './data-parallel.js';
import { evaluatePreferences, evaluationSettings } from './evaluate.js';
import { type MetricRecord, type MetricSink, MetricsLog, MetricWindow } from './metrics-log.js';
import { ProgressReporter } from './progress.js';
import { referenceTable } from './reference-cache.js';
import { restoreFromCheckpoint, storedConfig } from './restore.js';
import { RunFolder } from './run-folder.js';
import { type TrainConfig, TrainConfigError } from './train-config.js';
import { type TrainingStepParts, type TrainingStepResult, trainingStep } from './training-step.js';

export interface PreferenceTrainerInputs {
  /** Trained in place. */
  policy: CausalLM;
  /**
   * The frozen reference; null when the loss needs none, or when the policy has a LoRA adapter
   * (policy.adapter): then the reference is the policy with its adapter switched off. With
   * precompute_ref_log_probs it is used once, then for evaluation.
   */
  reference: CausalLM | null;
  /** Saved with checkpoints and the final model when it can save itself; its pad/EOS ids pad batches. */
  tokenizer?: (Pick<Tokenizer, 'padTokenId' | 'eosTokenId'> & Partial<SavableTokenizer>) | null;
  train: readonly TokenizedPair[];
  eval?: readonly TokenizedPair[] | null;
  /** The config as the user wrote it, stored in checkpoints. */
  rawConfig?: Record<string, unknown>;
}

export interface TrainOptions {
  /** Where lines go (default: console.log). */
  log?: (line: string) => void;
  /** No progress output at all (metrics are still written to output_dir/metrics.jsonl). */
  quiet?: boolean;
  /**
   * Stop cleanly: after the current optimiser step, or at once during an evaluation; a checkpoint
   * is written when output_dir is set. The CLI aborts it on Ctrl-C and SIGTERM.
   */
  signal?: AbortSignal;
  /** Called after every optimiser step with its loss. */
  onStep?: (step: number, loss: number) => void;
  /** Called once the gradients of optimiser step `step` are accumulated, before clipping (TRL's on_pre_optimizer_step). */
  onGradients?: (step: number, parameters: readonly Tensor[]) => void;
  /** Extra destinations for logged records (e.g. TensorBoard), besides output_dir/metrics.jsonl. */
  metricSinks?: MetricSink[];
}

export interface TrainSummary {
  /** Optimiser steps done in total (including those before a resume). */
  steps: number;
  totalSteps: number;
  interrupted: boolean;
  /** Loss of every optimiser step of the run, from step 1 (resumed runs include the steps before the resume). */
  stepLosses: number[];
  finalLoss: number;
  /** The last logged training record. */
  metrics: Record<string, number>;
  /** The last evaluation (eval_ names), or null. */
  evalMetrics: Record<string, number> | null;
  /** Policy tokens (non-padding) per second over the run. */
  tokensPerSecond: number;
  seconds: number;
  /** The last checkpoint written, if any. */
  checkpoint: string | null;
}

export const TRAIN_SUMMARY_FILE = 'train_summary.json';

/** Lets signal handlers and timers run between steps: a training step is synchronous. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const secondsSince = (start: number) => (performance.now() - start) / 1000;

/**
 * Parameters that get weight decay: matrices and embeddings, not biases or norm weights (1-D), as
 * transformers' Trainer. With a LoRA adapter only its tensors train, and only they get optimiser state.
 */
function createOptimizer(policy: CausalLM, config: TrainConfig): AdamW {
  const named = policy.adapter?.namedParameters() ?? policy.namedParameters();
  const groups = [
    { params: named.filter(([, t]) => t.ndim >= 2).map(([, t]) => t), weightDecay: config.weight_decay },
    { params: named.filter(([, t]) => t.ndim < 2).map(([, t]) => t), weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
  return new AdamW(groups, {
    lr: config.learning_rate,
    betas: [config.adam_beta1, config.adam_beta2],
    eps: config.adam_epsilon,
    weightDecay: config.weight_decay,
  });
}

function checkInputs(config: TrainConfig, inputs: PreferenceTrainerInputs): LossRequirements {
  const need = lossRequirements(config.loss_type, config.loss);
  if (need.reference && !inputs.reference && !inputs.policy.adapter) {
    throw new TrainConfigError(
      'ref_model_name_or_path',
      `the loss ${JSON.stringify(config.loss_type)} needs a reference model: pass one (default: the policy's own folder).`,
    );
  }
  if (inputs.train.length === 0) throw new TrainConfigError('dataset', 'there are no training pairs.');
  checkRowKinds(need, inputs.train, 'train', config.loss_type);
  checkRowKinds(need, inputs.eval ?? [], 'eval', config.loss_type);
  // A tokenizer larger than an embedding, or a reference of another architecture or vocabulary,
  // would fail at the first step with libtorch's bare "index out of range" or train against nonsense.
  const tokenizer = inputs.tokenizer && 'vocabSize' in inputs.tokenizer ? (inputs.tokenizer as Tokenizer) : null;
  checkModelCompatibility({ policy: inputs.policy, reference: inputs.reference, tokenizer });
  return need;
}

/** The reference model: the one given, else the LoRA policy with its adapter off. */
function liveReference(inputs: PreferenceTrainerInputs): { model: CausalLM; baseOfAdapter: boolean } {
  return inputs.reference ? { model: inputs.reference, baseOfAdapter: false } : { model: inputs.policy, baseOfAdapter: true };
}

/** Training batches reference log-probs from: none, the live reference model, or the precomputed table. */
async function trainingReference(
  config: TrainConfig,
  need: LossRequirements,
  inputs: PreferenceTrainerInputs,
  log: (line: string) => void,
): Promise<ReferenceSource> {
  if (!need.reference) return null;
  const live = liveReference(inputs);
  if (!config.precompute_ref_log_probs) return live;
  const table = () =>
    referenceTable(live.model, inputs.train, { batchSize: config.per_device_eval_batch_size, log, scoring: scoringOptions(config) });
  const ref = await (live.baseOfAdapter ? (live.model.adapter as LoraAdapter).withBaseModel(table) : table());
  log(`reference log-probs ${ref.cached ? 'read from the cache' : 'computed and cached'}: ${ref.path}`);
  return { table: ref.table };
}

function lrScheduleFor(config: TrainConfig, batchesPerEpoch: number): LrSchedule {
  const stepsPerEpoch = Math.max(1, Math.floor(batchesPerEpoch / config.gradient_accumulation_steps));
  const totalSteps = config.max_steps > 0 ? config.max_steps : Math.ceil(config.num_train_epochs * stepsPerEpoch);
  return { type: config.lr_scheduler_type, warmupSteps: warmupStepsFor(totalSteps, config.warmup_steps, config.warmup_ratio), totalSteps };
}

/**
 * Warnings the loss raises (e.g. α-DPO's σ at its floor): each code logged in full the first time,
 * then counted — `warnings/<code>` in the logged record (micro-batches that raised it per step) and
 * a total at the end — so a warning raised on every micro-batch does not flood the log.
 */
class WarningLog {
  readonly #counts = new Map<string, number>();
  constructor(private readonly log: (line: string) => void) {}

  /** Logs new codes; returns the per-code counts of `raised` as metrics. */
  record(raised: readonly LossWarning[], where: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of raised) {
      const seen = this.#counts.get(w.code) ?? 0;
      if (seen === 0) this.log(`warning (${where}): ${w.message}`);
      this.#counts.set(w.code, seen + 1);
      out[`warnings/${w.code}`] = (out[`warnings/${w.code}`] ?? 0) + 1;
    }
    return out;
  }

  summarise(): void {
    for (const [code, n] of this.#counts) if (n > 1) this.log(`warning ${code} was raised ${n} times in this run`);
  }
}

/** Where logged records go besides metrics.jsonl: the caller's sinks, and TensorBoard when report_to asks for it. */
async function metricSinks(config: TrainConfig, options: TrainOptions, log: (line: string) => void): Promise<MetricSink[]> {
  const sinks = [...(options.metricSinks ?? [])];
  if (config.report_to.includes('tensorboard')) {
    if (config.output_dir === null) throw new TrainConfigError('report_to', 'tensorboard writes under output_dir/runs/: set output_dir.');
    const dir = defaultLoggingDir(config.output_dir);
    const writer = await TensorBoardWriter.open(dir);
    log(`TensorBoard event files: ${dir} (tensorboard --logdir ${join(config.output_dir, 'runs')})`);
    sinks.push({
      write: (record) => {
        writer.addLogRecord(record);
        writer.flush();
      },
      close: () => writer.close(),
    });
  }
  return sinks;
}

/** Progress of a run: what a checkpoint records and the summary reports. */
interface RunCounters {
  step: number;
  microBatches: number;
  tokens: number;
  /** Seconds spent in training steps (not evaluation or checkpoints): the denominator of tokens/s. */
  trainSeconds: number;
  logHistory: MetricRecord[];
  stepLosses: number[];
  lastRecord: Record<string, number>;
  evalMetrics: Record<string, number> | null;
  lastCheckpoint: string | null;
}

/** Everything one run holds: what it was given, what it built, and how far it got. */
interface Run {
  config: TrainConfig;
  inputs: PreferenceTrainerInputs;
  options: TrainOptions;
  log: (line: string) => void;
  step: TrainingStepParts;
  batches: PreferenceBatches;
  evalPairs: readonly TokenizedPair[] | null;
  metrics: MetricsLog;
  window: MetricWindow;
  warnings: WarningLog;
  progress: ProgressReporter;
  started: number;
  counters: RunCounters;
  /** Set when torch.distributed has more than one rank (data-parallel.ts); only rank 0 writes files. */
  dataParallel: DataParallel | null;
}

/** Only rank 0 writes metrics, checkpoints and the final model. */
const writesFiles = (run: Run) => run.dataParallel?.writes ?? true;

/**
 * Data-parallel runs read global batches of per_device_train_batch_size × world size pairs, each rank
 * its share. The checkpoint's cursor counts global batches, so a resume needs the same global size.
 */
function dataStreamShape(config: TrainConfig, dp: DataParallel | null, cursor: unknown) {
  const worldSize = dp?.worldSize ?? 1;
  const batchSize = config.per_device_train_batch_size * worldSize;
  const saved = (cursor as { batchSize?: unknown } | undefined)?.batchSize;
  if (typeof saved === 'number' && saved !== batchSize) {
    const per = config.per_device_train_batch_size;
    const needed = saved % per === 0 ? `${saved / per} process${saved / per === 1 ? '' : 'es'}` : null;
    throw new TrainConfigError(
      'per_device_train_batch_size',
      `the checkpoint's data cursor counts global batches of ${saved} pairs (per_device_train_batch_size × processes when it was written), ` +
        `but this run has ${per} × ${worldSize} process${worldSize === 1 ? '' : 'es'} = ${batchSize}: ` +
        (needed
          ? `resume it with ${needed} (--nproc_per_node, or WORLD_SIZE).`
          : 'resume it with the per_device_train_batch_size and processes it was written with.'),
    );
  }
  return { batchSize, ...(dp ? { shard: { rank: dp.rank, worldSize: dp.worldSize } } : {}) };
}

/** Optimiser, restored checkpoint, data stream, schedule, reference log-probs and logs: everything before step 1. */
async function setUpRun(
  config: TrainConfig,
  inputs: PreferenceTrainerInputs,
  options: TrainOptions,
  need: LossRequirements,
  dataParallel: DataParallel | null,
): Promise<Run> {
  const writes = dataParallel?.writes ?? true;
  const log = writes ? (options.log ?? ((line: string) => console.log(line))) : () => {};
  const { policy } = inputs;
  torch.manualSeed(config.seed);
  policy.train(!config.disable_dropout);
  policy.gradientCheckpointing = config.gradient_checkpointing;
  const attention = config.attn_implementation === 'eager' ? 'eager' : 'chunked';
  policy.attentionImplementation = attention;
  if (inputs.reference) inputs.reference.attentionImplementation = attention;
  inputs.reference?.eval();
  const optimizer = createOptimizer(policy, config);
  const restored = config.resume_from_checkpoint === null ? null : await restoreFromCheckpoint(config, policy, optimizer);
  if (restored) log(`resumed from ${restored.dir} at step ${restored.state.global_step}`);
  if (dataParallel) {
    dataParallel.broadcastParameters(policy.parameters());
    log(
      `data-parallel over ${dataParallel.worldSize} processes: rank 0's weights broadcast, global batch ${config.per_device_train_batch_size} × ${config.gradient_accumulation_steps} × ${dataParallel.worldSize}`,
    );
  }
  const batches = new PreferenceBatches(inputs.train, {
    ...dataStreamShape(config, dataParallel, restored?.state.data_cursor),
    seed: config.seed,
    config: config.data,
    ...(inputs.tokenizer ? { tokenizer: inputs.tokenizer } : {}),
    ...(restored ? { cursor: restored.state.data_cursor } : {}),
  });
  const schedule = lrScheduleFor(config, batches.batchesPerEpoch);
  const reference = await trainingReference(config, need, inputs, log);
  const evalPairs = inputs.eval && inputs.eval.length > 0 && config.eval_strategy !== 'no' ? inputs.eval : null;
  if (!evalPairs && (config.eval_strategy === 'steps' || config.eval_strategy === 'epoch' || config.eval_on_start)) {
    log('warning: evaluation is requested but there are no evaluation pairs (eval_dataset, an eval split, or eval_split_size).');
  }
  const logHistory = restored ? [...restored.state.log_history] : [];
  const counters: RunCounters = {
    step: restored?.state.global_step ?? 0,
    microBatches: restored?.state.micro_batches ?? 0,
    tokens: 0,
    trainSeconds: 0,
    logHistory,
    stepLosses: logHistory.filter((r) => r.kind === 'step').map((r) => r.loss as number),
    lastRecord: {},
    evalMetrics: null,
    lastCheckpoint: null,
  };
  const lossState = restored?.lossState ?? new AlphaDpoState();
  return {
    config,
    inputs,
    options,
    log,
    step: { config, need, policy, reference, batches, optimizer, schedule, lossState, onGradients: options.onGradients, dataParallel },
    batches,
    evalPairs,
    metrics: writes
      ? await MetricsLog.open(config.output_dir, { rewindToStep: counters.step, sinks: await metricSinks(config, options, log) })
      : await MetricsLog.open(null, { rewindToStep: counters.step, sinks: [] }),
    window: new MetricWindow(),
    warnings: new WarningLog(log),
    progress: new ProgressReporter({
      totalSteps: schedule.totalSteps,
      log,
      quiet: !writes || (options.quiet ?? false),
      startStep: counters.step,
    }),
    started: performance.now(),
    counters,
    dataParallel,
  };
}

const epochOf = (run: Run) => Math.floor(run.counters.microBatches / run.batches.batchesPerEpoch);

/** Counts one finished optimiser step and shows it. */
function recordStep(run: Run, result: TrainingStepResult): void {
  const c = run.counters;
  c.step += 1;
  c.microBatches += run.config.gradient_accumulation_steps;
  c.tokens += result.tokens;
  c.stepLosses.push(result.loss);
  c.logHistory.push({ kind: 'step', step: c.step, loss: result.loss });
  run.window.add({ loss: result.loss, ...result.metrics, ...run.warnings.record(result.warnings, `step ${c.step}`) });
  run.options.onStep?.(c.step, result.loss);
  const accuracy = result.metrics['rewards/accuracies'] ?? Number.NaN;
  run.progress.step(c.step, { loss: result.loss, accuracy, tokensPerSecond: c.tokens / c.trainSeconds });
}

/** Writes the mean of the steps since the last log (transformers' logging). */
async function logMetrics(run: Run): Promise<void> {
  const c = run.counters;
  const epoch = Number((c.microBatches / run.batches.batchesPerEpoch).toFixed(4));
  c.lastRecord = { step: c.step, epoch, ...run.window.take(), tokens_per_second: c.tokens / c.trainSeconds };
  run.progress.logRecord(c.lastRecord);
  await run.metrics.write(c.lastRecord);
  c.logHistory.push({ kind: 'log', ...c.lastRecord });
}

/** Evaluates on the eval pairs with the live reference (precomputed log-probs cover the training pairs only). */
async function evaluateAndLog(run: Run): Promise<void> {
  const { config, inputs, counters: c } = run;
  if (!run.evalPairs) return;
  const reference: ReferenceSource = run.step.need.reference ? liveReference(inputs) : null;
  const settings = evaluationSettings(config);
  const result = await evaluatePreferences(inputs.policy, reference, run.evalPairs, settings, {
    state: run.step.lossState,
    tokenizer: inputs.tokenizer ?? null,
    signal: run.options.signal,
    betweenBatches: yieldToEventLoop,
    onProgress: (done, total) => run.progress.phase(`evaluation at step ${c.step}:`, done, total),
    onWarning: (w) => run.warnings.record([w], `evaluation at step ${c.step}`),
  });
  if (result === null) return; // interrupted: the checkpoint that follows matters more
  c.evalMetrics = { step: c.step, ...result };
  run.progress.logRecord(c.evalMetrics);
  await run.metrics.write(c.evalMetrics);
  c.logHistory.push({ kind: 'eval', ...c.evalMetrics });
}

/** Writes output_dir/checkpoint-<step> (atomically, see checkpoint.ts). */
async function writeCheckpoint(run: Run): Promise<void> {
  const { config, inputs, counters: c } = run;
  if (!config.output_dir || !writesFiles(run)) return;
  const state = {
    version: 1 as const,
    global_step: c.step,
    epoch: c.microBatches / run.batches.batchesPerEpoch,
    micro_batches: c.microBatches,
    data_cursor: run.batches.cursor,
    loss_state: run.step.lossState.toJSON(),
    rng_state: Buffer.from(torch.getRngState()).toString('base64'),
    optimizer_steps: [],
    log_history: c.logHistory,
    config: inputs.rawConfig ?? {},
    resolved_config: storedConfig(config),
  };
  const contents = {
    model: inputs.policy,
    tokenizer: savableTokenizer(inputs.tokenizer),
    optimizer: run.step.optimizer,
    state,
    baseModel: config.model_name_or_path,
  };
  c.lastCheckpoint = await saveCheckpoint(config.output_dir, contents, config.save_total_limit);
  run.log(`checkpoint: ${c.lastCheckpoint}`);
}

/** The final model (when the run completed), train_summary.json, and the summary. */
async function finishRun(run: Run): Promise<TrainSummary> {
  const { config, counters: c } = run;
  const totalSteps = run.step.schedule.totalSteps;
  const interrupted = c.step < totalSteps;
  const seconds = secondsSince(run.started);
  if (!interrupted && config.output_dir && writesFiles(run)) {
    const tokenizer = savableTokenizer(run.inputs.tokenizer);
    const { adapter } = run.inputs.policy;
    if (adapter) await saveAdapter(adapter, config.output_dir, { tokenizer, baseModel: config.model_name_or_path });
    else await run.inputs.policy.savePretrained(config.output_dir, { tokenizer });
    run.log(`${adapter ? 'LoRA adapter (PEFT format)' : 'model'} saved to ${config.output_dir}`);
  }
  run.step.optimizer.dispose();
  const summary: TrainSummary = {
    steps: c.step,
    totalSteps,
    interrupted,
    stepLosses: c.stepLosses,
    finalLoss: c.stepLosses.at(-1) ?? Number.NaN,
    metrics: c.lastRecord,
    evalMetrics: c.evalMetrics,
    tokensPerSecond: c.tokens / c.trainSeconds,
    seconds,
    checkpoint: c.lastCheckpoint,
  };
  if (config.output_dir && writesFiles(run)) {
    const file = { ...summary, stepLosses: undefined, run_name: config.run_name };
    await writeFile(join(config.output_dir, TRAIN_SUMMARY_FILE), `${JSON.stringify(file, null, 2)}\n`);
  }
  return summary;
}

function isDue(config: TrainConfig, every: 'logging' | 'eval' | 'save', step: number, epochEnded: boolean, last: boolean): boolean {
  if (every === 'logging') return step % config.logging_steps === 0 || (step === 1 && config.logging_first_step) || last;
  const strategy = every === 'eval' ? config.eval_strategy : config.save_strategy;
  const steps = every === 'eval' ? config.eval_steps : config.save_steps;
  if (strategy === 'epoch') return epochEnded || (every === 'eval' && last);
  if (strategy === 'steps' || (every === 'eval' && strategy === null))
    return (steps > 0 && step % steps === 0) || (every === 'eval' && last);
  return false;
}

/**
 * Trains `inputs.policy` on `inputs.train` with `config` (resolveTrainConfig()). With output_dir,
 * the folder is claimed for the run (see run-folder.ts), metrics go to metrics.jsonl, checkpoints
 * and the final model (with the tokenizer) are written there, and train_summary.json at the end.
 */
export async function trainPreferences(
  config: TrainConfig,
  inputs: PreferenceTrainerInputs,
  options: TrainOptions = {},
): Promise<TrainSummary> {
  const need = checkInputs(config, inputs);
  const dataParallel = DataParallel.fromProcessGroup();
  const folder =
    config.output_dir && (dataParallel?.writes ?? true)
      ? await RunFolder.claim(config.output_dir, { resume: config.resume_from_checkpoint !== null, overwrite: config.overwrite_output_dir })
      : null;
  try {
    const run = await setUpRun(config, inputs, options, need, dataParallel);
    await trainLoop(run);
    return await finishRun(run);
  } finally {
    await folder?.release();
  }
}

/** One optimiser step at a time, with logging, evaluation and checkpoints when due, until done or stopped. */
async function trainLoop(run: Run): Promise<void> {
  const { config, counters } = run;
  const totalSteps = run.step.schedule.totalSteps;
  // With data parallelism every rank must stop at the same step: a stop request on any rank counts for all.
  const dp = run.dataParallel;
  let agreedStop = false;
  const stopped = () => (dp ? agreedStop : run.options.signal?.aborted === true);
  try {
    if (config.eval_on_start && counters.step === 0) await evaluateAndLog(run);
    while (counters.step < totalSteps && !stopped()) {
      const epochBefore = epochOf(run);
      const stepStarted = performance.now();
      const result = trainingStep(run.step, counters.step + 1);
      counters.trainSeconds += secondsSince(stepStarted);
      recordStep(run, result);
      await yieldToEventLoop(); // a Ctrl-C or SIGTERM sent during the step is seen now
      if (dp) agreedStop = dp.anyRank(run.options.signal?.aborted === true);
      const last = counters.step === totalSteps;
      const epochEnded = epochOf(run) > epochBefore;
      if (isDue(config, 'logging', counters.step, epochEnded, last)) await logMetrics(run);
      if (!stopped() && isDue(config, 'eval', counters.step, epochEnded, last)) await evaluateAndLog(run);
      // An interruption always writes a checkpoint (when there is an output_dir), whatever save_strategy says.
      if (isDue(config, 'save', counters.step, epochEnded, last) || (stopped() && !last)) await writeCheckpoint(run);
    }
    // Rank 0 hosts the rendezvous store: every rank leaves the loop before any can tear it down.
    dp?.barrier();
  } finally {
    run.progress.done();
    await run.metrics.close();
    run.warnings.summarise();
  }
}
