// CPO-SimPO: SimPO's margin loss on per-token averages plus CPO's NLL of the chosen completions
// (TRL CPOConfig loss_type "simpo"); AlphaPO's reward shape with alpha.
import { alphapoTerms, plusChosenNll, setting, smoothedLogisticLoss, type tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const cpoSimpoLoss: LossDefinition = {
  name: 'cpo_simpo',
  source:
    'CPO-SimPO (github.com/fe1ixxu/CPO_SIMPO); trl/experimental/cpo/cpo_trainer.py CPOTrainer.cpo_loss, loss_type "simpo" (averaged log-probs, ' +
    'margin simpo_gamma/β = gamma_beta_ratio, + cpo_alpha·NLL; alpha is AlphaPO, arXiv 2501.03884).',
  logps: 'average',
  uses: ['beta', 'gamma_beta_ratio', 'label_smoothing', 'cpo_alpha', 'alpha'],
  requires: ['beta'],
  fDivergence: false,
  needs: (config) => (config.cpo_alpha > 0 ? ['chosenNll'] : []),
  compute(context) {
    const { config } = context;
    const beta = setting(config, 'beta');
    // ℓ_ε(β·(r_w − r_l − γ_r)) + cpo_alpha·NLL; r = ℓ̄ (nats/token) without alpha, γ_r in the same units (TRL simpo_gamma = β·γ_r).
    const r = alphapoTerms(context, beta);
    const logits = r.chosen.sub(r.rejected).sub(config.gamma_beta_ratio).mul(beta);
    let losses = smoothedLogisticLoss(logits, config.label_smoothing);
    const metrics: Record<string, ReturnType<typeof tokenMeanNll>> = {};
    if (config.cpo_alpha > 0) ({ losses, nll: metrics.nll_loss } = plusChosenNll(context, losses, config.cpo_alpha));
    return { losses, chosenRewards: r.chosenRewards, rejectedRewards: r.rejectedRewards, metrics };
  },
};
