// One study run: a method's configuration trained from the SFT model on one condition's pairs
// with one seed, through the real trainer (trainPreferences, the loss registry, the data layer's
// batches), evaluated at step 0 (the SFT model itself) and at `checkpoints` evenly spaced steps
// on the evaluation prompts. Seeds give common random numbers across methods: the same seed means
// the same training order and the same evaluation sampling streams.
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { CausalLM } from '../models/causal-lm.js';
import { resolveTrainConfig, trainPreferences } from '../train/index.js';
import {
  type CheckpointSummary,
  type EvalSet,
  evaluateCheckpoint,
  type PromptValues,
  type ScoredSamples,
  sampleAndScore,
} from './evaluate-checkpoint.js';
import type { JudgeCondition, MethodConfig, StudyMethod } from './study-settings.js';
import { STUDY_IDS } from './teacher-language.js';

export type EvalSplit = 'validation' | 'test';

/** What a run is; its cache key also covers the world and sizes (study.ts). */
export interface RunSpec {
  condition: JudgeCondition;
  method: string;
  lossType: StudyMethod['lossType'];
  config: MethodConfig;
  seed: number;
  split: EvalSplit;
}

export interface RunRecord {
  key: string;
  spec: RunSpec;
  steps: number;
  finalLoss: number;
  seconds: number;
  /** Step 0 (the SFT model) and each checkpoint. */
  checkpoints: CheckpointSummary[];
  /** Per-prompt values at the last checkpoint (for the bootstrap). */
  final: PromptValues;
}

/** The generate() seed of a split's evaluation under a run seed (shared by every method and the SFT baseline). */
export function evalSamplingSeed(seed: number, split: EvalSplit): number {
  return 1000 + seed * 4 + (split === 'test' ? 1 : 2);
}

/** Steps at which a run of `total` steps is evaluated: round(k · total / count), k = 1..count, without repeats. */
export function checkpointSteps(total: number, count: number): number[] {
  return [...new Set(Array.from({ length: count }, (_, k) => Math.max(1, Math.round(((k + 1) * total) / count))))];
}

export interface RunInputs {
  spec: RunSpec;
  key: string;
  sftDir: string;
  sft: CausalLM;
  pairs: Parameters<typeof trainPreferences>[1]['train'];
  batchSize: number;
  checkpoints: number;
  evalSet: EvalSet;
  baseline: ScoredSamples;
  log: (line: string) => void;
}

export async function runStudyRun(inputs: RunInputs): Promise<RunRecord> {
  const { spec, evalSet, baseline, sft } = inputs;
  const started = performance.now();
  const { learning_rate: learningRate, ln, ...loss } = spec.config;
  const steps = Math.max(1, Math.floor(inputs.pairs.length / inputs.batchSize));
  const config = resolveTrainConfig({
    loss_type: spec.lossType,
    ...loss,
    ...(ln === undefined ? {} : { ln }),
    learning_rate: learningRate ?? 1e-4,
    max_steps: steps,
    per_device_train_batch_size: inputs.batchSize,
    gradient_accumulation_steps: 1,
    lr_scheduler_type: 'cosine',
    warmup_ratio: 0.1,
    max_grad_norm: 1,
    seed: spec.seed,
    save_steps: 0,
    logging_steps: steps,
    do_eval: false,
  });
  const needsReference = lossRequirements(spec.lossType, config.loss).reference;
  const checkpoints: CheckpointSummary[] = [evaluateCheckpoint(0, null, sft, evalSet, baseline, baseline).summary];
  const at = new Set(checkpointSteps(steps, inputs.checkpoints));
  let final: PromptValues | null = null;
  const policy = await AutoModelForCausalLM.fromPretrained(inputs.sftDir);
  try {
    const evaluate = (step: number) => {
      const wasTraining = policy.training;
      policy.eval();
      const evaluation = evaluateCheckpoint(step, policy, sft, evalSet, sampleAndScore(policy, evalSet), baseline);
      policy.train(wasTraining);
      checkpoints.push(evaluation.summary);
      final = evaluation.perPrompt;
      const s = evaluation.summary;
      inputs.log(
        `  step ${step}/${steps}: gold win ${(100 * s.goldWin).toFixed(1)}%  q ${s.q.toFixed(3)}  KL ${s.klExact.toFixed(2)}  length ${s.length.toFixed(1)}`,
      );
    };
    const summary = await trainPreferences(
      config,
      {
        policy,
        reference: needsReference ? sft : null,
        tokenizer: { padTokenId: STUDY_IDS.pad, eosTokenId: STUDY_IDS.eos },
        train: inputs.pairs,
      },
      {
        quiet: true,
        log: () => {},
        onStep: (step) => {
          if (at.has(step)) evaluate(step);
        },
      },
    );
    if (final === null) throw new Error(`run ${inputs.key} finished without a final evaluation`);
    return {
      key: inputs.key,
      spec,
      steps,
      finalLoss: summary.finalLoss,
      seconds: (performance.now() - started) / 1000,
      checkpoints,
      final,
    };
  } finally {
    policy.dispose();
  }
}
