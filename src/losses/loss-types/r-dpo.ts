// R-DPO: DPO with a penalty on the length difference of the pair, using the real completion lengths.
import { LossInputError } from '../errors.js';
import { dpoRewards, logRatios, setting, smoothedLogisticLoss } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const rDpoLoss: LossDefinition = {
  name: 'r-dpo',
  source:
    'R-DPO (Park et al. 2024, arXiv 2403.19159). The α-DPO repo has an rDPO whose lengths are the batch size (always 0); here the token counts are real.',
  logps: 'sum',
  uses: ['beta', 'label_smoothing', 'rdpo_alpha'],
  requires: ['beta', 'rdpo_alpha'],
  fDivergence: false,
  needs: () => ['reference', 'lengths'],
  compute(context) {
    const { config, logps } = context;
    const beta = setting(config, 'beta');
    const alpha = setting(config, 'rdpo_alpha');
    const { chosenLengths, rejectedLengths } = logps;
    if (!chosenLengths || !rejectedLengths)
      throw new LossInputError('logps.chosenLengths', 'r-dpo needs chosenLengths and rejectedLengths.');
    // x = β·(ρ_w − ρ_l) − α·(|y_w| − |y_l|): ρ in nats, lengths in tokens, α in logits/token; label-smoothed logistic loss.
    const rho = logRatios(context);
    const lengthGap = chosenLengths.sub(rejectedLengths).to(rho.chosen.dtype);
    const logits = rho.chosen.sub(rho.rejected).mul(beta).sub(lengthGap.mul(alpha));
    return { losses: smoothedLogisticLoss(logits, config.label_smoothing), ...dpoRewards(context, beta) };
  },
};
