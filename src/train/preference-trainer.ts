// The preference-optimisation training loop: micro-batches of [chosen; rejected] through the
// policy (and a frozen reference, live or precomputed), the registered loss, gradient
// accumulation, clipping, AdamW with a schedule, logging, evaluation and checkpoints. It never
// branches on a loss name: lossRequirements() says what each loss needs.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type PreferenceBatch, PreferenceBatches } from '../data/batch/preference-batches.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { loadSafetensorsDir } from '../io/safetensors.js';
import { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import { lossRequirements, preferenceLoss } from '../losses/preference-loss.js';
import type { PreferenceLogps } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { lrMultiplier, warmupStepsFor } from '../optim/lr-schedule.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import * as torch from '../torch.js';
import { chosenRows, rejectedRows, scoreBatch } from './batch-scores.js';
import { listCheckpoints, loadCheckpointWeights, readCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { ProgressReporter } from './progress.js';
import { type ReferenceTable, referenceTable } from './reference-cache.js';
import type { TrainConfig } from './train-config.js';

export interface PreferenceTrainerInputs {
  /** Trained in place. */
  policy: CausalLM;
  /** The frozen reference; null when the loss needs none or precomputed log-probs are cached (then it is still needed once). */
  reference: CausalLM | null;
  /** Saved with checkpoints and the final model when it can save itself; its pad/EOS ids pad batches. */
  tokenizer?: (Pick<Tokenizer, 'padTokenId' | 'eosTokenId'> & { savePretrained?(dir: string): Promise<void> }) | null;
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
  /** Stop cleanly after the current optimiser step (a checkpoint is written when output_dir is set). */
  signal?: AbortSignal;
  /** Treat Ctrl-C (SIGINT) as a stop request; a second Ctrl-C exits at once. */
  handleSigint?: boolean;
  /** Called after every optimiser step with its loss. */
  onStep?: (step: number, loss: number) => void;
  /** Called once the gradients of optimiser step `step` are accumulated, before clipping (TRL's on_pre_optimizer_step). */
  onGradients?: (step: number, parameters: readonly Tensor[]) => void;
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

/** Parameters that get weight decay: matrices and embeddings, not biases or norm weights (1-D), as transformers' Trainer. */
function parameterGroups(model: CausalLM, weightDecay: number) {
  const named = model.namedParameters();
  return [
    { params: named.filter(([, t]) => t.ndim >= 2).map(([, t]) => t), weightDecay },
    { params: named.filter(([, t]) => t.ndim < 2).map(([, t]) => t), weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
}

function meanOf(records: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      out[k] = (out[k] ?? 0) + v;
      counts[k] = (counts[k] ?? 0) + 1;
    }
  }
  for (const k of Object.keys(out)) out[k] = (out[k] as number) / (counts[k] as number);
  return out;
}

/** Sequence log-probs of a batch in the form preferenceLoss takes. Call inside torch.tidy. */
function batchLogps(
  config: TrainConfig,
  need: ReturnType<typeof lossRequirements>,
  policy: CausalLM,
  reference: CausalLM | null,
  table: ReferenceTable | null,
  batch: PreferenceBatch,
): PreferenceLogps {
  const b = batch.pairCount;
  const perSequence = (sums: Tensor, lengths: Tensor) => (config.ln ? sums.div(lengths) : sums);
  const policyScores = scoreBatch(policy, batch, { tokens: need.tokens, wpo: need.wpo });
  const policySeq = perSequence(policyScores.sums, policyScores.lengths);
  const logps: PreferenceLogps = {
    policyChosen: chosenRows(policySeq, b),
    policyRejected: rejectedRows(policySeq, b),
    chosenLengths: chosenRows(policyScores.lengths, b),
    rejectedLengths: rejectedRows(policyScores.lengths, b),
    chosenNll: chosenRows(policyScores.sums, b).neg(),
  };
  if (policyScores.wpo) {
    logps.wpoChosen = chosenRows(policyScores.wpo, b);
    logps.wpoRejected = rejectedRows(policyScores.wpo, b);
  }
  let referenceTokens: Tensor | null = null;
  if (need.reference) {
    let refSeq: Tensor;
    if (table) {
      const pick = (values: Float64Array) => batch.indices.map((i) => values[i] as number);
      const sums = torch.tensor([...pick(table.chosenSum), ...pick(table.rejectedSum)]);
      const lengths = torch.tensor([...pick(table.chosenLength), ...pick(table.rejectedLength)]);
      refSeq = perSequence(sums, lengths);
    } else {
      if (!reference) throw new Error('internal: the loss needs a reference model and none was given');
      const scores = torch.noGrad(() => scoreBatch(reference, batch, { tokens: need.tokens, wpo: false }));
      refSeq = perSequence(scores.sums, scores.lengths);
      referenceTokens = scores.tokens?.logps ?? null;
    }
    logps.referenceChosen = chosenRows(refSeq, b);
    logps.referenceRejected = rejectedRows(refSeq, b);
  }
  if (policyScores.tokens) {
    const { logps: tok, mask } = policyScores.tokens;
    logps.tokens = {
      policyChosen: chosenRows(tok, b),
      policyRejected: rejectedRows(tok, b),
      chosenMask: chosenRows(mask, b),
      rejectedMask: rejectedRows(mask, b),
      ...(referenceTokens ? { referenceChosen: chosenRows(referenceTokens, b), referenceRejected: rejectedRows(referenceTokens, b) } : {}),
    };
  }
  return logps;
}

function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export async function trainPreferences(
  config: TrainConfig,
  inputs: PreferenceTrainerInputs,
  options: TrainOptions = {},
): Promise<TrainSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const need = lossRequirements(config.loss_type, config.loss);
  if (need.reference && !inputs.reference) {
    throw new Error(
      `the loss ${JSON.stringify(config.loss_type)} needs a reference model: pass one (ref_model_name_or_path, default the policy's own folder).`,
    );
  }
  if (config.precompute_ref_log_probs && need.tokens) {
    throw new Error(
      'precompute_ref_log_probs caches sequence log-probs only, and ld_alpha needs per-token reference log-probs: turn one of them off.',
    );
  }
  const { policy } = inputs;
  torch.manualSeed(config.seed);
  policy.train(!config.disable_dropout);
  inputs.reference?.eval();

  const optimizer = new AdamW(parameterGroups(policy, config.weight_decay), {
    lr: config.learning_rate,
    betas: [config.adam_beta1, config.adam_beta2],
    eps: config.adam_epsilon,
    weightDecay: config.weight_decay,
  });
  const lossState = new AlphaDpoState();
  let resumed: TrainerState | null = null;
  let state = lossState;

  if (config.resume_from_checkpoint !== null) {
    let dir = config.resume_from_checkpoint;
    if (dir === 'latest') {
      if (config.output_dir === null) throw new Error("resume_from_checkpoint: 'latest' needs output_dir.");
      const found = (await listCheckpoints(config.output_dir)).at(-1);
      if (!found) throw new Error(`resume_from_checkpoint: no complete checkpoint in ${config.output_dir}; start without --resume.`);
      dir = found.path;
    }
    const { state: saved, optimizerTensors } = await readCheckpoint(dir);
    try {
      await loadCheckpointWeights(policy, dir, async (d) => (await loadSafetensorsDir(d)).tensors);
      optimizer.loadStateDict({ steps: saved.optimizer_steps, tensors: optimizerTensors });
    } finally {
      for (const t of optimizerTensors.values()) t.dispose();
    }
    state = saved.loss_state ? AlphaDpoState.fromJSON(saved.loss_state) : lossState;
    torch.setRngState(decodeBase64(saved.rng_state));
    resumed = saved;
    log(`resumed from ${dir} at step ${saved.global_step}`);
  }

  const batches = new PreferenceBatches(inputs.train, {
    batchSize: config.per_device_train_batch_size,
    seed: config.seed,
    config: config.data,
    ...(inputs.tokenizer ? { tokenizer: inputs.tokenizer } : {}),
    ...(resumed ? { cursor: resumed.data_cursor } : {}),
  });
  const accumulation = config.gradient_accumulation_steps;
  const stepsPerEpoch = Math.max(1, Math.floor(batches.batchesPerEpoch / accumulation));
  const totalSteps = config.max_steps > 0 ? config.max_steps : Math.ceil(config.num_train_epochs * stepsPerEpoch);
  const schedule = {
    type: config.lr_scheduler_type,
    warmupSteps: warmupStepsFor(totalSteps, config.warmup_steps, config.warmup_ratio),
    totalSteps,
  };

  let table: ReferenceTable | null = null;
  if (need.reference && config.precompute_ref_log_probs) {
    const ref = await referenceTable(inputs.reference as CausalLM, inputs.train, { batchSize: config.per_device_eval_batch_size, log });
    log(`reference log-probs ${ref.cached ? 'read from the cache' : 'computed and cached'}: ${ref.path}`);
    table = ref.table;
  }
  // Training batches read the precomputed table; evaluation pairs are not in it and use inputs.reference.
  const reference = table ? null : inputs.reference;
  const evalPairs = inputs.eval && inputs.eval.length > 0 && config.do_eval ? inputs.eval : null;
  const evalStrategy = evalPairs ? (config.eval_strategy ?? 'steps') : 'no';

  const metricsFile = config.output_dir ? join(config.output_dir, 'metrics.jsonl') : null;
  if (config.output_dir) await mkdir(config.output_dir, { recursive: true });
  const writeRecord = async (record: Record<string, number | string>) => {
    if (metricsFile) await appendFile(metricsFile, `${JSON.stringify(record)}\n`);
  };

  let globalStep = resumed?.global_step ?? 0;
  let microBatches = resumed?.micro_batches ?? 0;
  const logHistory: Record<string, number | string>[] = resumed ? [...resumed.log_history] : [];
  const stepLosses: number[] = resumed ? logHistory.filter((r) => r.kind === 'step').map((r) => r.loss as number) : [];
  let window: Record<string, number>[] = [];
  let windowLosses: number[] = [];
  let lastMetrics: Record<string, number> = {};
  let evalMetrics: Record<string, number> | null = null;
  let lastCheckpoint: string | null = null;
  let tokens = 0;
  const started = performance.now();
  const progress = new ProgressReporter({ totalSteps, log, quiet: options.quiet ?? false, startStep: globalStep });

  let stopRequested = false;
  let sigintCount = 0;
  const onSigint = () => {
    sigintCount += 1;
    if (sigintCount > 1) process.exit(130);
    stopRequested = true;
    log('\ninterrupt: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
  };
  if (options.handleSigint) process.on('SIGINT', onSigint);

  const evaluate = (): Record<string, number> => {
    const pairs = evalPairs as readonly TokenizedPair[];
    const stream = new PreferenceBatches(pairs, {
      batchSize: config.per_device_eval_batch_size,
      seed: config.seed,
      config: { ...config.data, shuffle: false, group_by_length: false, dataloader_drop_last: false },
      ...(inputs.tokenizer ? { tokenizer: inputs.tokenizer } : {}),
    });
    const sums: Record<string, number> = {};
    let count = 0;
    policy.eval();
    for (let k = 0; k < stream.batchesPerEpoch; k++) {
      const batch = stream.next();
      try {
        const r = torch.noGrad(() =>
          torch.tidy(() => {
            const out = preferenceLoss(
              config.loss_type,
              batchLogps(config, need, policy, inputs.reference, null, batch),
              config.loss,
              state,
              {
                training: false,
              },
            );
            return { loss: out.losses.mean().item(), metrics: out.metrics };
          }),
        );
        for (const [name, v] of Object.entries({ loss: r.loss, ...r.metrics })) sums[name] = (sums[name] ?? 0) + v * batch.pairCount;
        count += batch.pairCount;
      } finally {
        batch.dispose();
      }
    }
    policy.train(!config.disable_dropout);
    const out: Record<string, number> = {};
    for (const [name, v] of Object.entries(sums)) out[`eval_${name}`] = v / count;
    return out;
  };

  const checkpoint = async (): Promise<void> => {
    if (!config.output_dir) return;
    lastCheckpoint = await saveCheckpoint(
      config.output_dir,
      {
        model: policy,
        tokenizer: inputs.tokenizer?.savePretrained ? (inputs.tokenizer as { savePretrained(dir: string): Promise<void> }) : undefined,
        optimizer,
        state: {
          version: 1,
          global_step: globalStep,
          epoch: microBatches / batches.batchesPerEpoch,
          micro_batches: microBatches,
          data_cursor: batches.cursor,
          loss_state: state.toJSON(),
          rng_state: Buffer.from(torch.getRngState()).toString('base64'),
          optimizer_steps: [],
          log_history: logHistory,
          config: inputs.rawConfig ?? {},
        },
      },
      config.save_total_limit,
    );
    log(`checkpoint: ${lastCheckpoint}`);
  };

  try {
    while (globalStep < totalSteps && !stopRequested && !options.signal?.aborted) {
      const epochBefore = Math.floor(microBatches / batches.batchesPerEpoch);
      const micro: { loss: number; metrics: Record<string, number> }[] = [];
      for (let m = 0; m < accumulation; m++) {
        const batch = batches.next();
        try {
          micro.push(
            torch.tidy(() => {
              const logps = batchLogps(config, need, policy, reference, table, batch);
              const out = preferenceLoss(config.loss_type, logps, config.loss, state, { training: true });
              const loss = out.losses.mean();
              // Each micro-batch's mean divided by the number of micro-batches: the accumulated
              // gradient is the gradient of the mean over the whole (equal-sized) batch.
              (accumulation === 1 ? loss : loss.div(accumulation)).backward();
              tokens += batch.attentionMask.sum().item();
              return { loss: loss.item(), metrics: out.metrics };
            }),
          );
        } finally {
          batch.dispose();
        }
        microBatches += 1;
      }
      options.onGradients?.(globalStep + 1, optimizer.parameters());
      const gradNorm = clipGradNorm(optimizer.parameters(), config.max_grad_norm > 0 ? config.max_grad_norm : Number.MAX_VALUE);
      const lr = config.learning_rate * lrMultiplier(schedule, globalStep);
      optimizer.lr = lr;
      optimizer.step();
      optimizer.zeroGrad();
      globalStep += 1;

      const stepLoss = micro.reduce((s, r) => s + r.loss, 0) / micro.length;
      stepLosses.push(stepLoss);
      logHistory.push({ kind: 'step', step: globalStep, loss: stepLoss });
      window.push(meanOf(micro.map((r) => r.metrics)), { grad_norm: gradNorm, learning_rate: lr });
      windowLosses.push(stepLoss);
      options.onStep?.(globalStep, stepLoss);
      const seconds = (performance.now() - started) / 1000;
      progress.step(globalStep, {
        loss: stepLoss,
        accuracy: micro[micro.length - 1]?.metrics['rewards/accuracies'] ?? Number.NaN,
        tokensPerSecond: tokens / seconds,
      });

      const last = globalStep === totalSteps;
      if (globalStep % config.logging_steps === 0 || (globalStep === 1 && config.logging_first_step) || last) {
        const record = {
          step: globalStep,
          epoch: Number((microBatches / batches.batchesPerEpoch).toFixed(4)),
          loss: windowLosses.reduce((a, b) => a + b, 0) / windowLosses.length,
          ...meanOf(window),
          tokens_per_second: tokens / seconds,
        };
        lastMetrics = record;
        progress.logRecord(record);
        await writeRecord(record);
        logHistory.push({ kind: 'log', ...record });
        window = [];
        windowLosses = [];
      }
      const epochEnded = Math.floor(microBatches / batches.batchesPerEpoch) > epochBefore;
      if (
        evalStrategy !== 'no' &&
        ((evalStrategy === 'steps' && globalStep % config.eval_steps === 0) || (evalStrategy === 'epoch' && epochEnded) || last)
      ) {
        evalMetrics = { step: globalStep, ...evaluate() };
        progress.logRecord(evalMetrics);
        await writeRecord(evalMetrics);
        logHistory.push({ kind: 'eval', ...evalMetrics });
      }
      const interrupted = stopRequested || options.signal?.aborted === true;
      const scheduled =
        (config.save_strategy === 'steps' && config.save_steps > 0 && globalStep % config.save_steps === 0) ||
        (config.save_strategy === 'epoch' && epochEnded);
      // An interruption always writes a checkpoint (when there is an output_dir), whatever save_strategy says.
      if ((config.save_strategy !== 'no' && scheduled) || (interrupted && !last)) await checkpoint();
    }
  } finally {
    if (options.handleSigint) process.off('SIGINT', onSigint);
    progress.done();
  }

  const interrupted = globalStep < totalSteps;
  const seconds = (performance.now() - started) / 1000;
  if (!interrupted && config.output_dir) {
    await policy.savePretrained(config.output_dir, {
      tokenizer: inputs.tokenizer?.savePretrained ? (inputs.tokenizer as { savePretrained(dir: string): Promise<void> }) : undefined,
    });
    log(`model saved to ${config.output_dir}`);
  }
  optimizer.dispose();
  return {
    steps: globalStep,
    totalSteps,
    interrupted,
    stepLosses,
    finalLoss: stepLosses[stepLosses.length - 1] ?? Number.NaN,
    metrics: lastMetrics,
    evalMetrics,
    tokensPerSecond: tokens / seconds,
    seconds,
    checkpoint: lastCheckpoint,
  };
}
