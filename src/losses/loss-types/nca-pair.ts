// NCA (pairwise): noise-contrastive alignment on absolute rewards.
import { fDivergenceScores } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const ncaPairLoss: LossDefinition = {
  name: 'nca_pair',
  source: 'NCA (Chen et al. 2024, arXiv 2402.05369); TRL dpo_loss (TRL ≥ 0.29 applies the f-divergence scores).',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // −log σ(r_w) − ½·log σ(−r_w) − ½·log σ(−r_l), r = β·s in logits.
    const s = fDivergenceScores(context);
    const rw = s.chosen.mul(beta);
    const rl = s.rejected.mul(beta);
    const losses = rw.logSigmoid().neg().sub(rw.neg().logSigmoid().mul(0.5)).sub(rl.neg().logSigmoid().mul(0.5));
    return { losses, ...dpoRewards(context, beta) };
  },
};
