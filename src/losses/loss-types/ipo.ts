// IPO: squared loss pulling the per-token score difference to 1/(2β).
import { LossConfigError } from '../errors.js';
import { fDivergenceScore } from '../f-divergence.js';
import { completionLengths, dpoRewards, logRatios, setting } from '../shared-terms.js';
import type { LossContext, LossDefinition } from '../types.js';

/**
 * s_w/|y_w| − s_l/|y_l| with s = f′-score of the summed log-ratio |y|·ρ̄ (ρ̄ the per-token average
 * log-ratio, nats/token), as TRL ≥ 0.29 divides the scores of summed log-ratios by the lengths.
 * For reverse_kl this is ρ̄_w − ρ̄_l, so plain IPO needs no lengths.
 */
function perTokenScoreDelta(context: LossContext) {
  const rho = logRatios(context);
  if (context.config.f_divergence_type === 'reverse_kl') return rho.chosen.sub(rho.rejected);
  const len = completionLengths(context, rho.chosen.dtype);
  const chosen = fDivergenceScore(rho.chosen.mul(len.chosen), context.config).div(len.chosen);
  const rejected = fDivergenceScore(rho.rejected.mul(len.rejected), context.config).div(len.rejected);
  return chosen.sub(rejected);
}

export const ipoLoss: LossDefinition = {
  name: 'ipo',
  source:
    'IPO (Azar et al. 2023, arXiv 2310.12036, Eq. 17; β is τ) on per-token averages, as TRL ≤ 0.28 (averaged log-probs) and TRL ≥ 0.29 ' +
    '(trl/trainer/dpo_trainer.py DPOTrainer._compute_loss, loss_type "ipo": f-scores of summed log-ratios ÷ lengths) both do.',
  logps: 'average',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: true,
  // A non-reverse-KL score is taken of the summed log-ratio, rebuilt from the average and the length.
  needs: (config) => (config.f_divergence_type === 'reverse_kl' ? ['reference'] : ['reference', 'lengths']),
  validate(config) {
    if (config.ld_alpha !== null && config.f_divergence_type !== 'reverse_kl') {
      // ld_alpha hands ipo LD-weighted sums, not the averages the |y|·ρ̄ reconstruction assumes.
      throw new LossConfigError(
        'f_divergence_type',
        `'${config.f_divergence_type}' with ipo and ld_alpha is not supported (ipo rebuilds summed log-ratios from averages, and ld_alpha gives LD-weighted sums): use f_divergence_type 'reverse_kl' or drop ld_alpha.`,
      );
    }
  },
  compute(context) {
    const beta = setting(context.config, 'beta');
    // (Δ − 1/(2β))²; Δ in nats/token (per-token scores for the other f-divergences).
    const losses = perTokenScoreDelta(context)
      .sub(1 / (2 * beta))
      .square();
    return { losses, ...dpoRewards(context, beta) };
  },
};
