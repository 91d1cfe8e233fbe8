// SLiC's hinge loss on the DPO log-ratio difference.
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const hingeLoss: LossDefinition = {
  name: 'hinge',
  source: 'SLiC (Zhao et al. 2023, arXiv 2305.10425) in DPO form; TRL dpo_loss (same in TRL ≤ 0.28 and ≥ 0.29).',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // max(0, 1 − β·Δ); Δ in nats, β·Δ dimensionless (1 is the margin).
    const losses = scoreDelta(context).mul(-beta).add(1).relu();
    return { losses, ...dpoRewards(context, beta) };
  },
};
