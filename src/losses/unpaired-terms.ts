// Terms the unpaired losses (kto, apo_zero_unpaired) share.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { setting } from './shared-terms.js';
import type { UnpairedLossContext } from './types.js';

/** ρ = log π_θ(y|x) − log π_ref(y|x) per example, nats; the reference is detached. */
export function unpairedLogRatios(context: UnpairedLossContext): Tensor {
  const { policy, reference } = context.logps;
  return policy.sub(reference!.detach());
}

/** Row b: desirable_weight·desirable[b] for a desirable example, undesirable_weight·undesirable[b] otherwise (TRL's torch.cat of the weighted halves, kept in row order). */
export function weightedByLabel(context: UnpairedLossContext, desirable: Tensor, undesirable: Tensor): Tensor {
  const wd = setting(context.config, 'desirable_weight');
  const wu = setting(context.config, 'undesirable_weight');
  return torch.where(context.logps.desirable, desirable.mul(wd), undesirable.mul(wu));
}
