// DPO's logistic loss on length-normalised scores: each f-divergence score of a summed log-ratio is
// divided by its completion's token count before the difference (TRL's sigmoid_norm).
import { fDivergenceScores } from '../f-divergence.js';
import { completionLengths, dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const sigmoidNormLoss: LossDefinition = {
  name: 'sigmoid_norm',
  source:
    'DPO (Rafailov et al. 2023, arXiv 2305.18290) with length-normalised scores; TRL ≥ 0.29 trl/trainer/dpo_trainer.py DPOTrainer._compute_loss, loss_type "sigmoid_norm" (no label smoothing, as there).',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference', 'lengths'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // −log σ(β·(s_w/|y_w| − s_l/|y_l|)); s = f′-score of the summed log-ratio (nats for reverse_kl), so s/|y| is per token.
    const s = fDivergenceScores(context);
    const len = completionLengths(context, s.chosen.dtype);
    const delta = s.chosen.div(len.chosen).sub(s.rejected.div(len.rejected));
    return { losses: delta.mul(beta).logSigmoid().neg(), ...dpoRewards(context, beta) };
  },
};
