// BCO (pairwise): binary classification of chosen (reward > 0) against rejected (reward < 0).
import { fDivergenceScores } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const bcoPairLoss: LossDefinition = {
  name: 'bco_pair',
  source:
    'BCO (Jung et al. 2024, arXiv 2404.04656) without the reward shift δ, as TRL ≥ 0.29 computes it (TRL ≤ 0.28 subtracted a running mean of the rewards).',
  logps: 'sum',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // −log σ(β·s_w) − log σ(−β·s_l); β·s in logits.
    const s = fDivergenceScores(context);
    const losses = s.chosen.mul(beta).logSigmoid().add(s.rejected.mul(-beta).logSigmoid()).neg();
    return { losses, ...dpoRewards(context, beta) };
  },
};
