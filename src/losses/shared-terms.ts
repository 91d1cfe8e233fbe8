// Terms that several loss formulas share: the log-ratios against the reference, the
// label-smoothed logistic loss, the token-mean NLL and the DPO-style implicit rewards.
import type { Tensor } from '../tensor/tensor.js';
import type { ConfigKey, ResolvedLossConfig } from './config.js';
import type { LossContext } from './types.js';

/** A config value the loss declared in `requires`; preferenceLoss has checked it is set. */
export function setting(config: ResolvedLossConfig, key: ConfigKey): number {
  const value = config[key];
  if (typeof value !== 'number') throw new Error(`internal: ${key} should have been checked before the loss ran`);
  return value;
}

/** The reference log-probs of a loss that declared 'reference' (checked by preferenceLoss). */
export function reference(context: LossContext): { chosen: Tensor; rejected: Tensor } {
  const { referenceChosen, referenceRejected } = context.logps;
  if (!referenceChosen || !referenceRejected) throw new Error('internal: reference log-probs should have been checked before the loss ran');
  return { chosen: referenceChosen, rejected: referenceRejected };
}

/** |y_w| and |y_l| as floating-point tensors of `dtype`, for a loss that declared 'lengths' (checked > 0 by preferenceLoss). */
export function completionLengths(context: LossContext, dtype: Tensor['dtype']): { chosen: Tensor; rejected: Tensor } {
  const { chosenLengths, rejectedLengths } = context.logps;
  if (!chosenLengths || !rejectedLengths) throw new Error('internal: completion lengths should have been checked before the loss ran');
  return { chosen: chosenLengths.to(dtype), rejected: rejectedLengths.to(dtype) };
}

/** ρ_w = log π_θ(y_w)/π_ref(y_w) and ρ_l = log π_θ(y_l)/π_ref(y_l), in nats (per sequence or per token, as given). */
export function logRatios(context: LossContext): { chosen: Tensor; rejected: Tensor } {
  const ref = reference(context);
  return { chosen: context.logps.policyChosen.sub(ref.chosen), rejected: context.logps.policyRejected.sub(ref.rejected) };
}

/** −(1 − ε)·log σ(x) − ε·log σ(−x): the logistic loss with label smoothing ε (cDPO; DPO when ε = 0). x in logits. */
export function smoothedLogisticLoss(logits: Tensor, labelSmoothing: number): Tensor {
  const clean = logits.logSigmoid().mul(-(1 - labelSmoothing));
  if (labelSmoothing === 0) return clean;
  return clean.sub(logits.neg().logSigmoid().mul(labelSmoothing));
}

/**
 * Σ_b nll_b / Σ_b |y_w,b|: the chosen completions' NLL averaged over all their tokens in the
 * batch, nats/token (what cross_entropy over the chosen labels gives in TRL and SimPO).
 */
export function tokenMeanNll(context: LossContext): Tensor {
  const { chosenNll, chosenLengths } = context.logps;
  if (!chosenNll || !chosenLengths) throw new Error('internal: chosenNll and chosenLengths should have been checked before the loss ran');
  return chosenNll.sum().div(chosenLengths.sum());
}

/**
 * `losses` + weight × the chosen completions' token-mean NLL (nats/token), the batch-level term
 * repeated over the pairs as TRL adds it (CPO's cpo_alpha, RPO's rpo_alpha); the NLL is returned
 * for the `nll_loss` metric.
 */
export function plusChosenNll(context: LossContext, losses: Tensor, weight: number): { losses: Tensor; nll: Tensor } {
  const nll = tokenMeanNll(context);
  return { losses: losses.add(perPair(nll.mul(weight), losses)), nll };
}

/** The scalar `value` repeated over the batch, keeping its gradient (TRL's expand of a batch-level term). */
export function perPair(value: Tensor, like: Tensor): Tensor {
  return value.expand([like.size(0)]);
}

/** β·ρ_w and β·ρ_l, detached: DPO's implicit rewards (TRL dpo_loss). */
export function dpoRewards(context: LossContext, beta: number): { chosenRewards: Tensor; rejectedRewards: Tensor } {
  const ref = reference(context);
  const { policyChosen, policyRejected } = context.logps;
  return {
    chosenRewards: policyChosen.detach().sub(ref.chosen.detach()).mul(beta),
    rejectedRewards: policyRejected.detach().sub(ref.rejected.detach()).mul(beta),
  };
}

/** β·log π_θ(y), detached: the reference-free rewards of SimPO, CPO and ORPO. */
export function policyRewards(context: LossContext, beta: number): { chosenRewards: Tensor; rejectedRewards: Tensor } {
  return {
    chosenRewards: context.logps.policyChosen.detach().mul(beta),
    rejectedRewards: context.logps.policyRejected.detach().mul(beta),
  };
}

/**
 * AlphaPO's reward shape (Gupta et al. 2025, arXiv 2501.03884; TRL CPOTrainer.cpo_loss): a log-prob ℓ
 * (nats, or nats/token when averaged) becomes r = (1 − p^(−α))/α = −expm1(−α·ℓ)/α with p = e^ℓ;
 * α unset or 0 is the limit r = ℓ.
 */
export function alphapoReward(logp: Tensor, alpha: number | null): Tensor {
  if (alpha === null || alpha === 0) return logp;
  return logp.mul(-alpha).expm1().div(-alpha);
}

/** The chosen and rejected AlphaPO rewards r_w, r_l of the policy (see alphapoReward); with them, β·r detached as the logged rewards. */
export function alphapoTerms(
  context: LossContext,
  beta: number,
): { chosen: Tensor; rejected: Tensor; chosenRewards: Tensor; rejectedRewards: Tensor } {
  const alpha = context.config.alpha;
  const chosen = alphapoReward(context.logps.policyChosen, alpha);
  const rejected = alphapoReward(context.logps.policyRejected, alpha);
  return { chosen, rejected, chosenRewards: chosen.detach().mul(beta), rejectedRewards: rejected.detach().mul(beta) };
}
