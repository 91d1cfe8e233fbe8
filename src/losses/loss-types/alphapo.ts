// AlphaPO: SimPO's margin loss on AlphaPO-shaped rewards of per-token averages, no NLL term
// (TRL CPOConfig loss_type "alphapo", which is "simpo" with cpo_alpha 0).
import { alphapoTerms, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const alphapoLoss: LossDefinition = {
  name: 'alphapo',
  source:
    'AlphaPO (Gupta et al. 2025, arXiv 2501.03884, reward (1 − p^(−α))/α in the SimPO loss); trl/experimental/cpo/cpo_config.py CPOConfig.__post_init__ ' +
    '("alphapo" → loss_type "simpo", cpo_alpha 0) and cpo_trainer.py CPOTrainer.cpo_loss.',
  logps: 'average',
  uses: ['beta', 'gamma_beta_ratio', 'label_smoothing', 'alpha'],
  requires: ['beta', 'alpha'],
  fDivergence: false,
  needs: () => [],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // ℓ_ε(β·(r_w − r_l − γ_r)), r = (1 − e^(−α·ℓ̄))/α with ℓ̄ in nats/token; α = 0 is SimPO.
    const r = alphapoTerms(context, beta);
    const losses = smoothedLogisticLoss(
      r.chosen.sub(r.rejected).sub(context.config.gamma_beta_ratio).mul(beta),
      context.config.label_smoothing,
    );
    return { losses, chosenRewards: r.chosenRewards, rejectedRewards: r.rejectedRewards };
  },
};
