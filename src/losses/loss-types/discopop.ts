// DiscoPOP (log-ratio modulated loss): blends the logistic and exponential losses.
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const discopopLoss: LossDefinition = {
  name: 'discopop',
  source: 'DiscoPOP (Chris Lu et al. 2024, arXiv 2406.08414, Eq. 5); TRL dpo_loss with discopop_tau.',
  logps: 'sum',
  uses: ['beta', 'discopop_tau'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    // x = β·Δ (logits); w = σ(x/τ); loss = (1 − w)·(−log σ(x)) + w·exp(−x).
    const x = scoreDelta(context).mul(beta);
    const w = x.div(context.config.discopop_tau).sigmoid();
    const losses = x.logSigmoid().neg().mul(w.neg().add(1)).add(x.neg().exp().mul(w));
    return { losses, ...dpoRewards(context, beta) };
  },
};
