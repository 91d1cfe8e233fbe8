// DPO's logistic loss; label smoothing makes it cDPO.
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const sigmoidLoss: LossDefinition = {
  name: 'sigmoid',
  source:
    'DPO (Rafailov et al. 2023, arXiv 2305.18290, Eq. 7); label smoothing ε is cDPO (Mitchell 2023). TRL ≤ 0.28 dpo_loss (TRL ≥ 0.29 dropped ε from sigmoid).',
  logps: 'sum',
  uses: ['beta', 'label_smoothing'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // −(1 − ε)·log σ(β·Δ) − ε·log σ(−β·Δ); Δ = ρ_w − ρ_l in nats of summed log-prob, β·Δ in logits.
    const losses = smoothedLogisticLoss(scoreDelta(context).mul(beta), context.config.label_smoothing);
    return { losses, ...dpoRewards(context, beta) };
  },
};
