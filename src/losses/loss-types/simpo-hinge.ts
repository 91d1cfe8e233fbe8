// SimPO's hinge form: max(0, 1 − β·(Δπ − γ_r)), reference-free.
import { policyRewards, setting, tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const simpoHingeLoss: LossDefinition = {
  name: 'simpo_hinge',
  source: 'princeton-nlp/SimPO simpo_loss with loss_type hinge (no label smoothing there), plus its sft_weight term.',
  logps: 'average',
  uses: ['beta', 'gamma_beta_ratio', 'sft_weight'],
  requires: ['beta'],
  fDivergence: false,
  needs: (config) => (config.sft_weight > 0 ? ['chosenNll'] : []),
  compute(context) {
    const { config, logps } = context;
    const beta = setting(config, 'beta');
    // max(0, 1 − β·(Δπ − γ_r)); Δπ, γ_r in nats/token.
    let losses = logps.policyChosen.sub(logps.policyRejected).sub(config.gamma_beta_ratio).mul(-beta).add(1).relu();
    const metrics: Record<string, ReturnType<typeof tokenMeanNll>> = {};
    if (config.sft_weight > 0) {
      const nll = tokenMeanNll(context);
      losses = losses.add(nll.mul(config.sft_weight));
      metrics.sft_loss = nll;
    }
    return { losses, ...policyRewards(context, beta), metrics };
  },
};
