// AOT (unpaired): sorts chosen and rejected log-ratios separately.
import { dpoRewards, logRatios, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const aotUnpairedLoss: LossDefinition = {
  name: 'aot_unpaired',
  source:
    'AOT (Melnyk et al. 2024, arXiv 2406.05882), unpaired form; TRL dpo_loss. Row k of the losses pairs the k-th smallest ρ_w with the k-th smallest ρ_l.',
  logps: 'sum',
  uses: ['beta', 'label_smoothing'],
  requires: ['beta'],
  fDivergence: false,
  sortsBatch: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    const rho = logRatios(context);
    // δ_(k) = sort(ρ_w)_k − sort(ρ_l)_k in nats; label-smoothed logistic loss on β·δ.
    const [chosenSorted] = rho.chosen.sort(0);
    const [rejectedSorted] = rho.rejected.sort(0);
    const losses = smoothedLogisticLoss(chosenSorted!.sub(rejectedSorted!).mul(beta), context.config.label_smoothing);
    return { losses, ...dpoRewards(context, beta) };
  },
};
