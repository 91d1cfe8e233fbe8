// KTO: Kahneman–Tversky optimisation on unpaired examples, each a completion labelled desirable
// or undesirable, against a reference point z₀ estimated from mismatched prompt/completion rows.
import { setting } from '../shared-terms.js';
import type { UnpairedLossDefinition } from '../types.js';
import { unpairedLogRatios, weightedByLabel } from '../unpaired-terms.js';

export const ktoLoss: UnpairedLossDefinition = {
  name: 'kto',
  examples: 'unpaired',
  source:
    'KTO (Ethayarajh et al. 2024, arXiv 2402.01306, Eq. 8 with the batch estimate of z₀ of §4.1); TRL 1.13 KTOTrainer._compute_loss, loss_type "kto".',
  logps: 'sum',
  uses: ['beta', 'desirable_weight', 'undesirable_weight'],
  requires: ['beta'],
  fDivergence: false,
  needs: () => ['reference', 'kl'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    const { policyKl, referenceKl } = context.logps;
    // z₀ = max(0, mean_k(log π_θ(y′_k|x′_k) − log π_ref(y′_k|x′_k))) over the KL rows, nats; detached
    // (no gradient through the reference point, as TRL). TRL also averages it over data-parallel ranks.
    const z0 = policyKl!.detach().sub(referenceKl!).mean().clamp(0, null);
    const rho = unpairedLogRatios(context);
    // Desirable: 1 − σ(β·(ρ − z₀)); undesirable: 1 − σ(β·(z₀ − ρ)); β·(…) in logits.
    const desirable = rho.sub(z0).mul(beta).sigmoid().neg().add(1);
    const undesirable = z0.sub(rho).mul(beta).sigmoid().neg().add(1);
    return {
      losses: weightedByLabel(context, desirable, undesirable),
      rewards: rho.detach().mul(beta),
      metrics: { kl: z0 },
    };
  },
};
