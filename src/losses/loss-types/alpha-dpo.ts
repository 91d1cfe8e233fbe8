// α-DPO: SimPO's logistic loss with an adaptive, per-pair margin γ_r + α·z, where z is the
// normalised DPO gap g = Δπ − Δref and no gradient flows through the margin. A z set by the eps
// floor rather than by the data (σ ≤ eps while gaps differ) is reported as a warning.
import type { Tensor } from '../../tensor/tensor.js';
import * as torch from '../../tensor/torch.js';
import type { AlphaDpoState, GapBatchStats } from '../alpha-dpo-state.js';
import { LossInputError } from '../errors.js';
import { reference, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossContext, LossDefinition, LossWarning } from '../types.js';

/** This batch's statistics of g, computed in float64 and read in one device-to-host transfer; one value has no spread (std 0). */
function gapStats(gap: Tensor): GapBatchStats & { min: number; max: number } {
  const g = gap.to('float64');
  const n = g.size(0);
  if (n < 2) {
    const value = g.item();
    return { mean: value, std: 0, variance: 0, min: value, max: value };
  }
  const [mean, std, min, max] = torch.stack([g.mean(), g.std(), g.min(), g.max()]).toNumbers() as [number, number, number, number];
  return { mean, std, variance: (std * std * (n - 1)) / n, min, max };
}

interface Normaliser {
  /** z = (g − centre)/max(scale, eps); 'raw': z = g ('none'); 'zero': z = 0 (running statistics asked for before any update). */
  kind: 'scaled' | 'raw' | 'zero';
  centre: number;
  scale: number;
  /** The running statistics after this call, when it updates them (committed once the loss is known finite). */
  next: AlphaDpoState | null;
  /** What the metrics gap/running_mean and gap/running_std report (null: not a running normalisation). */
  running: { mean: number; std: number } | null;
}

/**
 * The centre and scale that turn g into z, with the running statistics updated first when this
 * call should update them (reference: "updated before use").
 */
function normaliser(context: LossContext, batch: GapBatchStats): Normaliser {
  const { config, state, training } = context;
  switch (config.normalization) {
    case 'none':
      return { kind: 'raw', centre: 0, scale: 1, next: null, running: null };
    case 'batch':
      return { kind: 'scaled', centre: batch.mean, scale: batch.std, next: null, running: null };
    case 'ema-moments':
    case 'ema':
    case 'ema-debiased': {
      if (!state) {
        throw new LossInputError(
          'state',
          `alpha-dpo with normalization '${config.normalization}' keeps running statistics of the gap: pass an AlphaDpoState (new AlphaDpoState(), or AlphaDpoState.fromJSON(saved)) and keep it between calls.`,
        );
      }
      const momentum = config.ema_momentum;
      const updates = training || config.update_stats_in_eval;
      const after = state.after(batch, momentum);
      const next = updates ? after : null;
      if (config.normalization === 'ema-moments') {
        // This batch always counts, so each pair carries weight ≥ (1 − m)/B in the variance and
        // |z| ≤ √(B/(1 − m)); an evaluation batch that must not update uses it without keeping it.
        const pooled = after.pooled(momentum);
        return { kind: 'scaled', centre: pooled.mean, scale: pooled.std, next, running: pooled };
      }
      const current = next ?? state;
      const running = { mean: current.mean, std: current.std };
      if (current.steps === 0) return { kind: 'zero', centre: 0, scale: 1, next, running };
      const used = config.normalization === 'ema' ? running : current.debiased(momentum);
      return { kind: 'scaled', centre: used.mean, scale: used.std, next, running };
    }
  }
}

/** Three significant digits; exponent form below 1e-3 and from 1e6. */
function fmt(x: number): string {
  const size = Math.abs(x);
  return size !== 0 && (size < 1e-3 || size >= 1e6) ? x.toExponential(2).replace(/\.?0+e/, 'e') : String(Number(x.toPrecision(3)));
}

/** The warning for σ ≤ eps while the gaps differ from the centre by more than eps: z is then set by eps, not by the data. */
function sigmaAtEpsWarning(context: LossContext, norm: Normaliser, stats: { min: number; max: number }, alpha: number): LossWarning | null {
  const { config } = context;
  if (norm.kind !== 'scaled' || norm.scale > config.eps) return null;
  const spread = Math.max(stats.max - norm.centre, norm.centre - stats.min);
  if (spread <= config.eps) return null;
  const z = spread / config.eps;
  const running = config.normalization === 'ema' || config.normalization === 'ema-debiased';
  const cause = !running
    ? 'The gaps differ by only a few eps, which z scales up: raise eps if this repeats.'
    : context.training
      ? `normalization '${config.normalization}' averages each batch's own std, which is 0 for a one-pair batch (so with per_device_train_batch_size 1 it stays 0 for the whole run) ` +
        "and for a batch of identical gaps. Use normalization 'ema-moments' (the default), or at least 2 pairs per call."
      : 'This evaluation batch is normalised with training statistics that have no spread yet (e.g. the policy had not moved from the reference). ' +
        "Use normalization 'ema-moments' (the default), which includes the evaluation batch.";
  return {
    code: 'alpha-dpo/sigma-at-eps',
    message:
      `alpha-dpo: σ of the gap is ${fmt(norm.scale)} ≤ eps ${fmt(config.eps)} nats/token while this batch's gaps differ from μ = ${fmt(norm.centre)} ` +
      `by up to ${fmt(spread)}, so |z| = |g − μ|/eps reaches ${fmt(z)} and the margins move by up to ±${fmt(alpha * z)}: each pair gets all or none of the gradient. ${cause}`,
  };
}

export const alphaDpoLoss: LossDefinition = {
  name: 'alpha-dpo',
  source:
    "α-DPO (Wu et al., arXiv 2410.10148), as its authors' AlphaDPOTrainer.dpo_loss computes it (junkangwu/alpha-DPO scripts/dpo_trainer.py) " +
    "with normalization 'ema'; the default 'ema-moments' keeps its running z-score defined for one-pair micro-batches (docs/losses.md).",
  logps: 'average',
  uses: ['beta', 'alpha', 'gamma_beta_ratio', 'label_smoothing', 'normalization', 'ema_momentum', 'eps', 'update_stats_in_eval'],
  requires: ['beta', 'alpha'],
  fDivergence: false,
  needs: () => ['reference'],
  compute(context) {
    const { config, logps, state } = context;
    const beta = setting(config, 'beta');
    const alpha = setting(config, 'alpha');
    const ref = reference(context);
    const piMargin = logps.policyChosen.sub(logps.policyRejected); // Δπ, nats/token
    const gap = piMargin.detach().sub(ref.chosen.detach().sub(ref.rejected.detach())); // g = Δπ − Δref, nats/token, no gradient
    // Over the global batch in data-parallel training, as the reference gathers the gaps from all workers before its update.
    const stats = gapStats(context.gatherPairs ? context.gatherPairs(gap) : gap);
    const norm = normaliser(context, stats);
    const z =
      norm.kind === 'raw' ? gap : norm.kind === 'zero' ? torch.zerosLike(gap) : gap.sub(norm.centre).div(Math.max(norm.scale, config.eps));
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
      'gap/batch_mean': stats.mean,
      'gap/batch_std': stats.std,
    };
    if (norm.running) {
      metrics['gap/running_mean'] = norm.running.mean;
      metrics['gap/running_std'] = norm.running.std;
    }
    const warning = sigmaAtEpsWarning(context, norm, stats, alpha);
    return {
      losses,
      chosenRewards: rewardOf(logps.policyChosen, ref.chosen),
      rejectedRewards: rewardOf(logps.policyRejected, ref.rejected),
      metrics,
      warnings: warning ? [warning] : [],
      ...(state && norm.next ? { commit: () => state.assign(norm.next as AlphaDpoState) } : {}),
    };
  },
};
