// APO-zero on unpaired examples: push desirable completions' likelihood ratio up and
// undesirable ones' down, with no reference point.
import { setting } from '../shared-terms.js';
import type { UnpairedLossDefinition } from '../types.js';
import { unpairedLogRatios, weightedByLabel } from '../unpaired-terms.js';

export const apoZeroUnpairedLoss: UnpairedLossDefinition = {
  name: 'apo_zero_unpaired',
  examples: 'unpaired',
  source:
    'APO (D’Oosterlinck et al. 2024, arXiv 2408.06266, Eq. 7), unpaired; TRL 1.13 KTOTrainer._compute_loss, loss_type "apo_zero_unpaired".',
  logps: 'sum',
  uses: ['beta', 'desirable_weight', 'undesirable_weight'],
  requires: ['beta'],
  fDivergence: false,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    const rho = unpairedLogRatios(context);
    // Desirable: 1 − σ(β·ρ); undesirable: σ(β·ρ); ρ in nats, β·ρ in logits.
    const scaled = rho.mul(beta).sigmoid();
    return {
      losses: weightedByLabel(context, scaled.neg().add(1), scaled),
      rewards: rho.detach().mul(beta),
    };
  },
};
