// SimPO: reference-free logistic loss on the per-token average log-prob margin, minus γ_r.
import { policyRewards, setting, smoothedLogisticLoss, tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const simpoLoss: LossDefinition = {
  name: 'simpo',
  source: 'SimPO (Meng et al. 2024, arXiv 2405.14734); princeton-nlp/SimPO simpo_loss (loss_type sigmoid) with its sft_weight term.',
  logps: 'average',
  uses: ['beta', 'gamma_beta_ratio', 'label_smoothing', 'sft_weight'],
  requires: ['beta'],
  fDivergence: false,
  needs: (config) => (config.sft_weight > 0 ? ['chosenNll'] : []),
  compute(context) {
    const { config, logps } = context;
    const beta = setting(config, 'beta');
    // −(1 − ε)·log σ(β·(Δπ − γ_r)) − ε·log σ(−β·(Δπ − γ_r)); Δπ and γ_r in nats/token (paper γ = β·γ_r).
    const logits = logps.policyChosen.sub(logps.policyRejected).sub(config.gamma_beta_ratio).mul(beta);
    let losses = smoothedLogisticLoss(logits, config.label_smoothing);
    const metrics: Record<string, ReturnType<typeof tokenMeanNll>> = {};
    if (config.sft_weight > 0) {
      const nll = tokenMeanNll(context);
      losses = losses.add(nll.mul(config.sft_weight));
      metrics.sft_loss = nll;
    }
    return { losses, ...policyRewards(context, beta), metrics };
  },
};
