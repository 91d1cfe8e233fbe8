// SFT: the chosen completions' negative log-likelihood, for mixing with preference losses (MPO).
import * as torch from '../../tensor/torch.js';
import { perPair, tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const sftLoss: LossDefinition = {
  name: 'sft',
  source:
    'Token-mean NLL of the chosen completions (TRL dpo_loss "sft", used by MPO). It has no implicit reward: rewards are zeros, as in TRL ≤ 0.28.',
  logps: 'sum',
  uses: [],
  requires: [],
  fDivergence: false,
  hasRewards: false,
  needs: () => ['chosenNll'],
  compute(context) {
    // Σ_b nll_b / Σ_b |y_w,b| in nats/token, the same for every pair.
    const nll = tokenMeanNll(context);
    const zeros = torch.zerosLike(context.logps.policyChosen.detach());
    return {
      losses: perPair(nll, context.logps.policyChosen),
      chosenRewards: zeros,
      rejectedRewards: zeros.clone(),
      metrics: { nll_loss: nll },
    };
  },
};
