// CPO: reference-free DPO-style logistic loss plus the chosen completions' NLL (AlphaPO's reward shape with alpha).
import { alphapoTerms, plusChosenNll, setting, smoothedLogisticLoss, type tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const cpoLoss: LossDefinition = {
  name: 'cpo',
  source:
    'CPO (Xu et al. 2024, arXiv 2401.08417, Eq. 3 + NLL); trl/experimental/cpo/cpo_trainer.py CPOTrainer.cpo_loss (loss_type sigmoid, summed log-probs, cpo_alpha; alpha is AlphaPO, arXiv 2501.03884).',
  logps: 'sum',
  uses: ['beta', 'label_smoothing', 'cpo_alpha', 'alpha'],
  requires: ['beta'],
  fDivergence: false,
  needs: (config) => (config.cpo_alpha > 0 ? ['chosenNll'] : []),
  compute(context) {
    const { config } = context;
    const beta = setting(config, 'beta');
    // −(1 − ε)·log σ(β·(r_w − r_l)) − ε·log σ(−β·(r_w − r_l)) + cpo_alpha·NLL; r = ℓ in nats without alpha, NLL in nats/token.
    const r = alphapoTerms(context, beta);
    let losses = smoothedLogisticLoss(r.chosen.sub(r.rejected).mul(beta), config.label_smoothing);
    const metrics: Record<string, ReturnType<typeof tokenMeanNll>> = {};
    if (config.cpo_alpha > 0) ({ losses, nll: metrics.nll_loss } = plusChosenNll(context, losses, config.cpo_alpha));
    return { losses, chosenRewards: r.chosenRewards, rejectedRewards: r.rejectedRewards, metrics };
  },
};
