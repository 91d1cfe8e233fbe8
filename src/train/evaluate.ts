// Evaluation: the loss and its metrics over a whole set of pairs, under no-grad, each metric a
// pair-weighted mean (so the result does not depend on the batch size), named with TRL's eval_
// prefix. Used by the trainer every eval_steps and by `alpha-dpo evaluate`.
import { PreferenceBatches } from '../data/batch/preference-batches.js';
import type { DataConfig } from '../data/data-config.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import type { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import type { PreferenceLossConfig } from '../losses/config.js';
import { lossRequirements, preferenceLoss } from '../losses/preference-loss.js';
import type { LossType } from '../losses/registry.js';
import type { LossWarning } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import * as torch from '../tensor/torch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { batchLogps, checkRowKinds, type ReferenceSource } from './batch-logps.js';
import { type ScoringOptions, scoringOptions } from './batch-scores.js';
import type { TrainConfig } from './train-config.js';

export interface EvaluationSettings {
  loss_type: LossType | LossType[];
  loss: PreferenceLossConfig;
  /** Averaged (true) or summed (false) sequence log-probs. */
  ln: boolean;
  /** Pairs per batch. */
  batchSize: number;
  /** Padding and pad_to_multiple_of come from here; order is always the data's own. */
  data?: DataConfig;
  /** Prefix sharing, padding-free, vocabulary chunks (scoringOptions); default: the plain padded batch. */
  scoring?: ScoringOptions;
  /** bf16 mixed precision for the forward passes, as in training (bf16). */
  bf16?: boolean;
}

/** The evaluation settings a training config implies. */
export function evaluationSettings(config: TrainConfig): EvaluationSettings {
  return {
    loss_type: config.loss_type,
    loss: config.loss,
    ln: config.ln,
    batchSize: config.per_device_eval_batch_size,
    data: config.data,
    scoring: scoringOptions(config),
    bf16: config.bf16,
  };
}

export interface EvaluateOptions {
  /** α-DPO's running statistics (read; updated only when the loss config says update_stats_in_eval). */
  state?: AlphaDpoState;
  tokenizer?: Pick<Tokenizer, 'padTokenId' | 'eosTokenId'> | null;
  /** Checked between batches: an aborted evaluation returns null at once. */
  signal?: AbortSignal;
  /** Called after each batch with the pairs done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Warnings the loss raises on evaluation batches (default: ignored). */
  onWarning?: (warning: LossWarning) => void;
  /** Called between batches so signals and timers can run (the trainer passes an event-loop yield). */
  betweenBatches?: () => Promise<void>;
}

/**
 * Preference metrics of `policy` on `pairs`: eval_loss, eval_rewards/accuracies, eval_rewards/margins,
 * … (every metric the loss reports). Null when `signal` aborts it midway.
 */
export async function evaluatePreferences(
  policy: CausalLM,
  reference: ReferenceSource,
  pairs: readonly TokenizedPair[],
  settings: EvaluationSettings,
  options: EvaluateOptions = {},
): Promise<Record<string, number> | null> {
  const need = lossRequirements(settings.loss_type, settings.loss);
  checkRowKinds(need, pairs, 'evaluation', settings.loss_type);
  const stream = new PreferenceBatches(pairs, {
    batchSize: settings.batchSize,
    seed: 0,
    config: { ...(settings.data ?? {}), shuffle: false, group_by_length: false, dataloader_drop_last: false },
    ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}),
  });
  const sums: Record<string, number> = {};
  const weights: Record<string, number> = {};
  let count = 0;
  const wasTraining = policy.training;
  policy.eval();
  try {
    for (let k = 0; k < stream.batchesPerEpoch; k++) {
      if (options.signal?.aborted) return null;
      const batch = stream.next();
      try {
        const r = torch.noGrad(() =>
          torch.tidy(() => {
            const logps = batchLogps(policy, reference, batch, {
              ln: settings.ln,
              need,
              scoring: settings.scoring,
              bf16: settings.bf16 ?? false,
            });
            const out = preferenceLoss(settings.loss_type, logps, settings.loss, options.state, { training: false });
            for (const w of out.warnings) options.onWarning?.(w);
            return { loss: out.losses.mean().item(), metrics: out.metrics };
          }),
        );
        // Each metric weighted by the batch's rows, over the batches that report it (an unpaired batch of one label has no rewards/rejected).
        for (const [name, v] of Object.entries({ loss: r.loss, ...r.metrics })) {
          sums[name] = (sums[name] ?? 0) + v * batch.pairCount;
          weights[name] = (weights[name] ?? 0) + batch.pairCount;
        }
        count += batch.pairCount;
        options.onProgress?.(count, pairs.length);
      } finally {
        batch.dispose();
      }
      await options.betweenBatches?.();
    }
  } finally {
    policy.train(wasTraining);
  }
  const out: Record<string, number> = {};
  for (const [name, v] of Object.entries(sums)) out[`eval_${name}`] = v / (weights[name] as number);
  return out;
}
