// Robust DPO: an unbiased estimate of the DPO loss under labels flipped with probability ε.
import { LossConfigError } from '../errors.js';
import { scoreDelta } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const robustLoss: LossDefinition = {
  name: 'robust',
  source: 'Robust DPO (Chowdhury et al. 2024, arXiv 2403.00409); TRL dpo_loss (same in TRL ≤ 0.28 and ≥ 0.29).',
  logps: 'sum',
  uses: ['beta', 'label_smoothing'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  validate(config) {
    if (config.label_smoothing >= 0.5) {
      throw new LossConfigError(
        'label_smoothing',
        `robust divides by 1 − 2ε, so ε must be < 0.5 (got ${config.label_smoothing}); the Robust DPO paper suggests 0.1.`,
      );
    }
  },
  compute(context) {
    const beta = setting(context.config, 'beta');
    const eps = context.config.label_smoothing;
    // [−(1 − ε)·log σ(β·Δ) + ε·log σ(−β·Δ)] / (1 − 2ε); Δ in nats, β·Δ in logits.
    const x = scoreDelta(context).mul(beta);
    const losses = x
      .logSigmoid()
      .mul(-(1 - eps))
      .add(x.neg().logSigmoid().mul(eps))
      .div(1 - 2 * eps);
    return { losses, ...dpoRewards(context, beta) };
  },
};
