// α-DPO: SimPO's logistic loss with an adaptive, per-pair margin γ_r + α·z, where z is the
// normalised DPO gap g = Δπ − Δref and no gradient flows through the margin.
import type { Tensor } from '../../tensor/tensor.js';
import * as torch from '../../torch.js';
import { LossInputError } from '../errors.js';
import { reference, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossContext, LossDefinition } from '../types.js';

/** Mean and unbiased (N − 1) std of a [B] tensor, in one device-to-host transfer; the std of one value is taken as 0. */
function meanAndStd(x: Tensor): [number, number] {
  if (x.size(0) < 2) return [x.item(), 0];
  const [mean, std] = torch.stack([x.mean(), x.std()]).toNumbers();
  return [mean as number, std as number];
}

/**
 * The centre and scale that turn g into z = (g − centre)/max(scale, eps), updating the running
 * statistics first when this call should (reference: "updated before use"). 'raw': z = g
 * ('none'); 'zero': z = 0, because running statistics were asked for before any update.
 */
function normaliser(context: LossContext, batchMean: number, batchStd: number): { centre: number; scale: number } | 'raw' | 'zero' {
  const { config, state, training } = context;
  switch (config.normalization) {
    case 'none':
      return 'raw';
    case 'batch':
      return { centre: batchMean, scale: batchStd };
    case 'ema':
    case 'ema-debiased': {
      if (!state) {
        throw new LossInputError(
          'state',
          `alpha-dpo with normalization '${config.normalization}' keeps running statistics of the gap: pass an AlphaDpoState (new AlphaDpoState(), or AlphaDpoState.fromJSON(saved)) and keep it between calls.`,
        );
      }
      if (training || config.update_stats_in_eval) state.update(batchMean, batchStd, config.ema_momentum);
      if (state.steps === 0) return 'zero';
      if (config.normalization === 'ema') return { centre: state.mean, scale: state.std };
      const debiased = state.debiased(config.ema_momentum);
      return { centre: debiased.mean, scale: debiased.std };
    }
  }
}

export const alphaDpoLoss: LossDefinition = {
  name: 'alpha-dpo',
  source:
    "α-DPO (Wu et al., arXiv 2410.10148), as its authors' AlphaDPOTrainer.dpo_loss computes it (junkangwu/alpha-DPO scripts/dpo_trainer.py).",
  logps: 'average',
  uses: ['beta', 'alpha', 'gamma_beta_ratio', 'label_smoothing', 'normalization', 'ema_momentum', 'eps', 'update_stats_in_eval'],
  requires: ['beta', 'alpha'],
  fDivergence: false,
  needs: () => ['reference'],
  compute(context) {
    const { config, logps } = context;
    const beta = setting(config, 'beta');
    const alpha = setting(config, 'alpha');
    const ref = reference(context);
    const piMargin = logps.policyChosen.sub(logps.policyRejected); // Δπ, nats/token
    const gap = piMargin.detach().sub(ref.chosen.detach().sub(ref.rejected.detach())); // g = Δπ − Δref, nats/token, no gradient
    const [batchMean, batchStd] = meanAndStd(gap);
    const norm = normaliser(context, batchMean, batchStd);
    const z = norm === 'raw' ? gap : norm === 'zero' ? torch.zerosLike(gap) : gap.sub(norm.centre).div(Math.max(norm.scale, config.eps));
    // m = stopgrad(γ_r + α·z), nats/token (paper γ = β·γ_r, paper α·M = β·α·z); logit = β·(Δπ − m).
    const margin = z.mul(alpha).add(config.gamma_beta_ratio);
    const losses = smoothedLogisticLoss(piMargin.sub(margin).mul(beta), config.label_smoothing);
    // Logged rewards as the reference logs them: β·(ℓθ − α·(ℓθ − ℓref)) = β·[(1 − α)·ℓθ + α·ℓref].
    const rewardOf = (policy: Tensor, referenceLogps: Tensor) =>
      policy.detach().sub(policy.detach().sub(referenceLogps.detach()).mul(alpha)).mul(beta);
    const metrics: Record<string, Tensor | number> = {
      'margin/mean': margin.mean(),
      'margin/min': margin.min(),
      'margin/max': margin.max(),
      'margin/std': margin.size(0) > 1 ? margin.std() : 0,
      'gap/batch_mean': batchMean,
      'gap/batch_std': batchStd,
    };
    if (context.state && (config.normalization === 'ema' || config.normalization === 'ema-debiased')) {
      metrics['gap/running_mean'] = context.state.mean;
      metrics['gap/running_std'] = context.state.std;
    }
    return {
      losses,
      chosenRewards: rewardOf(logps.policyChosen, ref.chosen),
      rejectedRewards: rewardOf(logps.policyRejected, ref.rejected),
      metrics,
    };
  },
};
