// BCO (pairwise): binary classification of chosen (reward > δ) against rejected (reward < δ).
import { LossInputError } from '../errors.js';
import { fDivergenceScores } from '../f-divergence.js';
import { dpoRewards, setting } from '../shared-terms.js';
import type { LossDefinition } from '../types.js';

export const bcoPairLoss: LossDefinition = {
  name: 'bco_pair',
  source:
    'BCO (Jung et al. 2024, arXiv 2404.04656). Default: no reward shift δ, as TRL ≥ 0.29 trl/trainer/dpo_trainer.py DPOTrainer._compute_loss; ' +
    'bco_running_delta: δ = running mean of the batch-mean rewards, as TRL ≤ 0.28 DPOTrainer.dpo_loss (RunningMoments in trl/trainer/utils.py).',
  logps: 'sum',
  uses: ['beta', 'bco_running_delta', 'update_stats_in_eval'],
  requires: ['beta'],
  fDivergence: true,
  needs: () => ['reference'],
  compute(context) {
    const { config, state, training } = context;
    const beta = setting(config, 'beta');
    // Rewards β·s_w, β·s_l in logits (s = f′-score; the log-ratio for reverse_kl).
    const s = fDivergenceScores(context);
    const chosen = s.chosen.mul(beta);
    const rejected = s.rejected.mul(beta);
    if (!config.bco_running_delta) {
      // −log σ(β·s_w) − log σ(−β·s_l).
      return { losses: chosen.logSigmoid().add(rejected.neg().logSigmoid()).neg(), ...dpoRewards(context, beta) };
    }
    if (!state) {
      throw new LossInputError(
        'state',
        'bco_pair with bco_running_delta keeps a running mean of the rewards: pass an AlphaDpoState (new AlphaDpoState(), or AlphaDpoState.fromJSON(saved)) and keep it between calls.',
      );
    }
    // δ: the running mean of the batch-mean rewards, updated with this batch before use (TRL ≤ 0.28). An evaluation
    // batch that must not update uses the mean as if it had, and leaves the state as it was.
    // Over the global batch in data-parallel training (gatherPairs), as one process with the whole batch.
    const pairSums = chosen.detach().add(rejected.detach());
    const batchMean = (context.gatherPairs ? context.gatherPairs(pairSums) : pairSums).mean().div(2).item() as number;
    // Overflowing rewards make δ NaN, so the loss is too and preferenceLoss throws NonFiniteLossError before any commit.
    const next = Number.isFinite(batchMean) ? state.bcoAfter(batchMean) : null;
    const delta = next ? next.mean : Number.NaN;
    // −log σ(β·s_w − δ) − log σ(−(β·s_l − δ)).
    const losses = chosen.sub(delta).logSigmoid().add(rejected.sub(delta).neg().logSigmoid()).neg();
    const updates = training || config.update_stats_in_eval;
    return {
      losses,
      ...dpoRewards(context, beta),
      metrics: { 'bco/delta': delta },
      ...(updates && next ? { commit: () => state.assignBco(next) } : {}),
    };
  },
};
