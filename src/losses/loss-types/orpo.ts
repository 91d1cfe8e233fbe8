// ORPO: NLL of the chosen completions minus λ·log σ(log odds ratio), reference-free.
import type { Tensor } from '../../tensor/tensor.js';
import * as torch from '../../tensor/torch.js';
import { LossInputError } from '../errors.js';
import { policyRewards, setting, tokenMeanNll } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

/** log(1 − exp(x)) for x < 0, accurate on both sides of −ln 2 (Mächler 2012, as TRL's log1mexp). */
function log1mexp(x: Tensor): Tensor {
  return torch.where(x.lt(-Math.LN2), x.exp().neg().log1p(), x.expm1().neg().log());
}

export const orpoLoss: LossDefinition = {
  name: 'orpo',
  source: 'ORPO (Hong et al. 2024, arXiv 2403.07691, Eqs. 4 and 7; β is λ); TRL ORPOTrainer.odds_ratio_loss on per-token averages.',
  logps: 'average',
  uses: ['beta'],
  requires: ['beta'],
  fDivergence: false,
  needs: () => ['chosenNll'],
  checkInputs(logps) {
    for (const field of ['policyChosen', 'policyRejected'] as const) {
      if (torch.tidy(() => logps[field].ge(0).any().item())) {
        throw new LossInputError(
          `logps.${field}`,
          'orpo needs log-probs < 0 (the odds p/(1 − p) are infinite at p = 1): pass per-token averages from sequenceLogps(…, { average: true }).',
        );
      }
    }
  },
  compute(context) {
    const { logps } = context;
    const beta = setting(context.config, 'beta');
    // log odds(y) = ℓ − log(1 − e^ℓ) with ℓ the average log-prob (nats/token); loss = NLL − λ·log σ(log odds_w − log odds_l).
    const logOdds = logps.policyChosen.sub(logps.policyRejected).sub(log1mexp(logps.policyChosen).sub(log1mexp(logps.policyRejected)));
    const ratio = logOdds.logSigmoid();
    const nll = tokenMeanNll(context);
    const losses = ratio.mul(-beta).add(nll);
    return {
      losses,
      ...policyRewards(context, beta),
      metrics: { nll_loss: nll, log_odds_ratio: ratio.detach().mean(), log_odds_chosen: logOdds.detach().mean() },
    };
  },
};
