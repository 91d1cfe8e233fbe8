// APO-zero: raise the chosen likelihood and lower the rejected one, each against the reference.
import { dpoRewards, logRatios, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const apoZeroLoss: LossDefinition = {
  name: 'apo_zero',
  source: 'APO (D’Oosterlinck et al. 2024, arXiv 2408.06266, Eq. 7); TRL dpo_loss.',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: false,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // (1 − σ(β·ρ_w)) + σ(β·ρ_l); ρ in nats.
    const rho = logRatios(context);
    const losses = rho.chosen.mul(beta).sigmoid().neg().add(1).add(rho.rejected.mul(beta).sigmoid());
    return { losses, ...dpoRewards(context, beta) };
  },
};
