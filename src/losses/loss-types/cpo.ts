// CPO: reference-free DPO-style logistic loss plus the chosen completions' NLL.
import { perPair, policyRewards, setting, smoothedLogisticLoss, tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const cpoLoss: LossDefinition = {
  name: 'cpo',
  source: 'CPO (Xu et al. 2024, arXiv 2401.08417, Eq. 3 + NLL); TRL CPOTrainer (loss_type sigmoid, summed log-probs, cpo_alpha).',
  logps: 'sum',
  uses: ['beta', 'label_smoothing', 'cpo_alpha'],
  requires: ['beta'],
  fDivergence: false,
  needs: (config) => (config.cpo_alpha > 0 ? ['chosenNll'] : []),
  compute(context) {
    const { config, logps } = context;
    const beta = setting(config, 'beta');
    // −(1 − ε)·log σ(β·Δπ) − ε·log σ(−β·Δπ) + cpo_alpha·NLL; Δπ in nats, NLL in nats/token.
    let losses = smoothedLogisticLoss(logps.policyChosen.sub(logps.policyRejected).mul(beta), config.label_smoothing);
    const metrics: Record<string, ReturnType<typeof tokenMeanNll>> = {};
    if (config.cpo_alpha > 0) {
      const nll = tokenMeanNll(context);
      losses = losses.add(perPair(nll.mul(config.cpo_alpha), losses));
      metrics.nll_loss = nll;
    }
    return { losses, ...policyRewards(context, beta), metrics };
  },
};
