// APO-down: lower the chosen likelihood, and the rejected one more.
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, logRatios, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const apoDownLoss: LossDefinition = {
  name: 'apo_down',
  source:
    'APO (D’Oosterlinck et al. 2024, arXiv 2408.06266, Eq. 8); TRL dpo_loss (TRL ≥ 0.29 applies the f-divergence to the second term).',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // σ(β·ρ_w) + (1 − σ(β·Δ)); ρ, Δ in nats.
    const chosenTerm = logRatios(context).chosen.mul(beta).sigmoid();
    const losses = chosenTerm.add(scoreDelta(context).mul(beta).sigmoid().neg().add(1));
    return { losses, ...dpoRewards(context, beta) };
  },
};
