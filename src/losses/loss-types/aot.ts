// AOT (paired): distributional alignment by sorting the batch's policy and reference margins.
import { dpoRewards, reference, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const aotLoss: LossDefinition = {
  name: 'aot',
  source:
    'AOT (Melnyk et al. 2024, arXiv 2406.05882), paired form; TRL dpo_loss. Row k of the losses is the k-th smallest margin, not pair k.',
  logps: 'sum',
  uses: ['beta', 'label_smoothing'],
  requires: ['beta'],
  fDivergence: false,
  sortsBatch: true,
  needs: () => ['reference'],
  compute(context) {
    const beta = setting(context.config, 'beta');
    const ref = reference(context);
    // δ_(k) = sort(log π_w − log π_l)_k − sort(log π_ref,w − log π_ref,l)_k in nats; label-smoothed logistic loss on β·δ.
    const [policySorted] = context.logps.policyChosen.sub(context.logps.policyRejected).sort(0);
    const [referenceSorted] = ref.chosen.sub(ref.rejected).sort(0);
    const losses = smoothedLogisticLoss(policySorted!.sub(referenceSorted!).mul(beta), context.config.label_smoothing);
    return { losses, ...dpoRewards(context, beta) };
  },
};
