// SPPO with hard labels: squared distance of each log-ratio to ±1/(2β).
import { fDivergenceScores } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const sppoHardLoss: LossDefinition = {
  name: 'sppo_hard',
  source: 'SPPO (Wu et al. 2024, arXiv 2405.00675, Eq. 4.7 with P = 1 for the winner, 0 for the loser); TRL dpo_loss.',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // (s_w − 1/(2β))² + (s_l + 1/(2β))²; s in nats.
    const s = fDivergenceScores(context);
    const half = 0.5 / beta;
    const losses = s.chosen.sub(half).square().add(s.rejected.add(half).square());
    return { losses, ...dpoRewards(context, beta) };
  },
};
