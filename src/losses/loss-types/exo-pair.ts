// EXO (pairwise): reverse KL between the model's and the smoothed label's pair distributions.
import { LossConfigError } from '../errors.js';
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const exoPairLoss: LossDefinition = {
  name: 'exo_pair',
  source: 'EXO (Ji et al. 2024, arXiv 2402.00856, Eq. 16); TRL ≥ 0.29 dpo loss (TRL ≤ 0.28 silently replaced ε = 0 by 1e-3).',
  logps: 'sum',
  uses: ['beta', 'label_smoothing'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  validate(config) {
    if (config.label_smoothing === 0) {
      throw new LossConfigError(
        'label_smoothing',
        'exo_pair needs label_smoothing > 0 (its loss has log ε); the EXO paper recommends 1e-3.',
      );
    }
  },
  compute(context) {
    const beta = setting(context.config, 'beta');
    const eps = context.config.label_smoothing;
    // σ(x)·(log σ(x) − log(1 − ε)) + σ(−x)·(log σ(−x) − log ε), x = β·Δ in logits.
    const x = scoreDelta(context).mul(beta);
    const winner = x.sigmoid().mul(x.logSigmoid().sub(Math.log1p(-eps)));
    const loser = x
      .neg()
      .sigmoid()
      .mul(x.neg().logSigmoid().sub(Math.log(eps)));
    return { losses: winner.add(loser), ...dpoRewards(context, beta) };
  },
};
