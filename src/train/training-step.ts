// One optimiser step: `gradient_accumulation_steps` micro-batches forward and backward, the
// gradients clipped to max_grad_norm, the learning rate set from the schedule, AdamW, zero_grad.
import type { PreferenceBatches } from '../data/batch/preference-batches.js';
import type { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import { type LossRequirements, preferenceLoss } from '../losses/preference-loss.js';
import type { LossWarning } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { type LrSchedule, lrMultiplier } from '../optim/lr-schedule.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { batchLogps, type ReferenceSource } from './batch-logps.js';
import { scoringOptions } from './batch-scores.js';
import type { DataParallel } from './data-parallel.js';
import { MetricWindow } from './metrics-log.js';
import type { TrainConfig } from './train-config.js';

export interface TrainingStepParts {
  config: TrainConfig;
  need: LossRequirements;
  policy: CausalLM;
  reference: ReferenceSource;
  batches: PreferenceBatches;
  optimizer: AdamW;
  schedule: LrSchedule;
  lossState: AlphaDpoState;
  /** TRL's on_pre_optimizer_step: the accumulated gradients, before clipping. */
  onGradients?: ((step: number, parameters: readonly Tensor[]) => void) | undefined;
  /** Data-parallel training (data-parallel.ts): batches are this rank's shares; gradients and metrics are averaged over the ranks. */
  dataParallel?: DataParallel | null | undefined;
}

export interface TrainingStepResult {
  /** Mean of the micro-batch losses. */
  loss: number;
  /** Mean of the micro-batch metrics, plus grad_norm and learning_rate. */
  metrics: Record<string, number>;
  /** Non-padding tokens of the policy's rows. */
  tokens: number;
  /** Warnings the loss raised on these micro-batches (e.g. α-DPO's σ at its floor), one per micro-batch that raised it. */
  warnings: LossWarning[];
}

/** Runs optimiser step number `step` (1-based). */
export function trainingStep(parts: TrainingStepParts, step: number): TrainingStepResult {
  const { config, optimizer } = parts;
  const accumulation = config.gradient_accumulation_steps;
  const window = new MetricWindow();
  const warnings: LossWarning[] = [];
  let lossSum = 0;
  let tokens = 0;
  let pairs = 0;
  const dp = parts.dataParallel ?? null;
  for (let m = 0; m < accumulation; m++) {
    const batch = parts.batches.next();
    try {
      torch.tidy(() => {
        const logps = batchLogps(parts.policy, parts.reference, batch, {
          ln: config.ln,
          need: parts.need,
          scoring: scoringOptions(config),
          bf16: config.bf16,
        });
        const out = preferenceLoss(config.loss_type, logps, config.loss, parts.lossState, { training: true, gatherPairs: dp?.gatherPairs });
        const loss = out.losses.mean();
        // Each micro-batch's mean divided by the number of micro-batches: the accumulated
        // gradient is the gradient of the mean over the whole (equal-sized) batch. With data
        // parallelism the ranks' gradients are then averaged, so a share of n of the global N
        // pairs weighs world·n/N (1 for equal shares) to keep that the mean over all N pairs.
        const share = dp ? (dp.worldSize * batch.pairCount) / batch.globalPairCount : 1;
        const scale = share / accumulation;
        (scale === 1 ? loss : loss.mul(scale)).backward();
        pairs += batch.pairCount;
        lossSum += loss.item();
        tokens += batch.attentionMask.sum().item();
        window.add(out.metrics);
        warnings.push(...out.warnings);
      });
    } finally {
      batch.dispose();
    }
  }
  dp?.averageGradients(optimizer.parameters());
  parts.onGradients?.(step, optimizer.parameters());
  const gradNorm = clipGradNorm(optimizer.parameters(), config.max_grad_norm > 0 ? config.max_grad_norm : Number.MAX_VALUE);
  const lr = config.learning_rate * lrMultiplier(parts.schedule, step - 1);
  optimizer.lr = lr;
  optimizer.step();
  optimizer.zeroGrad();
  const report = { loss: lossSum / accumulation, metrics: { ...window.take(), grad_norm: gradNorm, learning_rate: lr }, tokens, pairs };
  const reduced = dp ? dp.reduceStep(report) : report;
  return { loss: reduced.loss, metrics: reduced.metrics, tokens: reduced.tokens, warnings };
}
