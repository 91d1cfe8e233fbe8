// IPO: squared loss pulling the log-ratio difference to 1/(2β).
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const ipoLoss: LossDefinition = {
  name: 'ipo',
  source:
    'IPO (Azar et al. 2023, arXiv 2310.12036, Eq. 17; β is τ). On per-token averages, as TRL ≤ 0.28 (averaged log-probs) and TRL ≥ 0.29 (scores ÷ lengths) both do.',
  logps: 'average',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // (Δ − 1/(2β))²; Δ in nats/token when the caller passes averaged log-probs.
    const losses = scoreDelta(context)
      .sub(1 / (2 * beta))
      .square();
    return { losses, ...dpoRewards(context, beta) };
  },
};
