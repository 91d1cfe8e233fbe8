// preferenceLoss: runs the registered loss(es) named by loss_type on a batch of sequence
// log-probs and reports TRL's metrics. It never branches on a loss name.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { AlphaDpoState } from './alpha-dpo-state.js';
import { checkLogps } from './check-logps.js';
import type { ConfigKey, PreferenceLossConfig, ResolvedLossConfig } from './config.js';
import { LossInputError, NonFiniteLossError } from './errors.js';
import { ldDpoLogps } from './ld-dpo.js';
import { hasRpoTerm, planLoss } from './loss-plan.js';
import type { LossType } from './registry.js';
import { plusChosenNll } from './shared-terms.js';
import type {
  LossContext,
  LossNeed,
  LossTerms,
  LossWarning,
  PreferenceLogps,
  PreferenceLossOptions,
  PreferenceLossOutput,
} from './types.js';

/** Reads every metric, and whether every loss is finite, in one device-to-host transfer. */
function readMetrics(metrics: Record<string, Tensor | number>, losses: Tensor): { values: Record<string, number>; finite: boolean } {
  const names = Object.keys(metrics);
  const tensorNames = names.filter((n) => typeof metrics[n] !== 'number');
  const scalars = [losses.detach().isfinite().all(), ...tensorNames.map((n) => (metrics[n] as Tensor).detach().reshape([]))];
  const [finite, ...read] = torch.stack(scalars.map((t) => t.to('float64'))).toNumbers();
  const values: Record<string, number> = {};
  for (const name of names) {
    const m = metrics[name] as Tensor | number;
    values[name] = typeof m === 'number' ? m : (read[tensorNames.indexOf(name)] as number);
  }
  return { values, finite: finite === 1 };
}

/** The typed error for non-finite losses: which rows, their values, and the settings that made them. */
function nonFiniteLoss(losses: Tensor, config: ResolvedLossConfig, keys: readonly ConfigKey[]): NonFiniteLossError {
  const values = losses.detach().to('float64').toNumbers();
  const rows = values.flatMap((v, i) => (Number.isFinite(v) ? [] : [i]));
  const settings = [...new Set(keys)]
    .filter((k) => config[k] !== null)
    .map((k) => `${k} ${typeof config[k] === 'string' ? `'${config[k]}'` : String(config[k])}`)
    .join(', ');
  return new NonFiniteLossError(
    rows,
    rows.map((i) => values[i] as number),
    settings,
  );
}

/**
 * The per-pair preference loss for `lossType` (a registered name, or a list combined with
 * config.loss_weights), given the sequence log-probs of a batch of B pairs.
 *
 * Gradients flow from `losses` to the policy log-probs (and chosenNll / token log-probs where
 * the formula uses them), never to the reference. `state` carries the running statistics of
 * α-DPO and of bco_pair's δ (bco_running_delta) between calls; the returned tensors belong to
 * the caller. A non-finite loss throws NonFiniteLossError and leaves `state` unchanged;
 * `warnings` lists what the caller should log.
 *
 * `config` is checked in full on every call, unless it came from resolveLossConfig: a trainer
 * resolves it once and passes the result to every micro-batch, which then costs a cache lookup.
 */
export function preferenceLoss(
  lossType: LossType | readonly LossType[],
  logps: PreferenceLogps,
  config: PreferenceLossConfig | ResolvedLossConfig,
  state?: AlphaDpoState,
  options: PreferenceLossOptions = {},
): PreferenceLossOutput {
  const plan = planLoss(lossType, config);
  const names = plan.definitions.map((d) => `'${d.name}'`).join(', ');
  const checked = checkLogps(logps, plan.needs, plan.config, names);
  if (state !== undefined && !(state instanceof AlphaDpoState)) {
    throw new LossInputError('state', 'expected an AlphaDpoState (new AlphaDpoState() or AlphaDpoState.fromJSON(saved)).');
  }
  for (const definition of plan.definitions) definition.checkInputs?.(checked);
  const training = options.training ?? true;

  return torch.tidy(() => {
    const effective: PreferenceLogps =
      plan.config.ld_alpha === null
        ? checked
        : { ...checked, ...ldDpoLogps(checked.tokens as NonNullable<PreferenceLogps['tokens']>, plan.config.ld_alpha) };
    const context: LossContext = { logps: effective, config: plan.config, state, training, gatherPairs: options.gatherPairs };

    let total: Tensor | null = null;
    let first: LossTerms | null = null;
    let rewarded: LossTerms | null = null;
    const metrics: Record<string, Tensor | number> = {};
    const warnings: LossWarning[] = [];
    const commits: (() => void)[] = [];
    for (const [i, definition] of plan.definitions.entries()) {
      const terms = definition.compute(context);
      warnings.push(...(terms.warnings ?? []));
      if (terms.commit) commits.push(terms.commit);
      const weight = plan.weights[i] as number;
      const weighted = weight === 1 ? terms.losses : terms.losses.mul(weight);
      total = total === null ? weighted : total.add(weighted);
      first ??= terms;
      if (rewarded === null && definition.hasRewards !== false) rewarded = terms;
      Object.assign(metrics, terms.metrics);
    }
    if (total === null || first === null) throw new Error('internal: planLoss returned no loss');
    // Rewards come from the first listed loss that has them; a list of only sft reports its zeros.
    const { chosenRewards, rejectedRewards } = rewarded ?? first;

    if (hasRpoTerm(plan.config)) {
      // RPO (arXiv 2404.19733, v3): + rpo_alpha·NLL, NLL the chosen token mean (nats/token); added after the list
      // is combined and before WPO weighting, as TRL ≤ 0.28 trl/trainer/dpo_trainer.py DPOTrainer.get_batch_loss_metrics.
      ({ losses: total, nll: metrics.nll_loss } = plusChosenNll(context, total, plan.config.rpo_alpha as number));
    }
    if (plan.config.use_weighting) {
      // WPO (Zhou et al. 2024, Eq. 2): w = exp(w_chosen + w_rejected), no gradient, no clamp (TRL ≥ 0.29; TRL ≤ 0.28 clamped w at 1).
      const weights = effective.wpoChosen!.detach().add(effective.wpoRejected!.detach()).exp();
      total = total.mul(weights);
      metrics['wpo/weight_mean'] = weights.mean();
    }

    Object.assign(metrics, {
      'rewards/chosen': chosenRewards.mean(),
      'rewards/rejected': rejectedRewards.mean(),
      'rewards/accuracies': chosenRewards.gt(rejectedRewards).to('float64').mean(),
      'rewards/margins': chosenRewards.sub(rejectedRewards).mean(),
      'logps/chosen': effective.policyChosen.detach().mean(),
      'logps/rejected': effective.policyRejected.detach().mean(),
      ...(effective.referenceChosen && effective.referenceRejected
        ? {
            'logps/ref_chosen': effective.referenceChosen.detach().mean(),
            'logps/ref_rejected': effective.referenceRejected.detach().mean(),
          }
        : {}),
    });
    const read = readMetrics(metrics, total);
    // An Inf or NaN loss from finite inputs is an error, never a silent value: back-propagated, it would poison the weights.
    if (!read.finite)
      throw nonFiniteLoss(
        total,
        plan.config,
        plan.definitions.flatMap((d) => d.uses),
      );
    for (const commit of commits) commit();
    return { losses: total, chosenRewards, rejectedRewards, metrics: read.values, warnings };
  });
}

/** What preferenceLoss will need for this loss_type and config, so a trainer can prepare it without knowing loss names. */
export interface LossRequirements {
  /** referenceChosen / referenceRejected. */
  reference: boolean;
  /** chosenLengths. */
  chosenLengths: boolean;
  /** rejectedLengths. */
  rejectedLengths: boolean;
  /** chosenNll. */
  chosenNll: boolean;
  /** wpoChosen / wpoRejected (use_weighting). */
  wpo: boolean;
  /** tokens (ld_alpha). */
  tokens: boolean;
  /** How the formulas expect sequence log-probs aggregated: 'average' if the first loss of the list is defined on per-token averages. */
  logps: 'sum' | 'average';
}

/** The inputs preferenceLoss(lossType, …, config) needs; validates lossType and config as preferenceLoss does. */
export function lossRequirements(
  lossType: LossType | readonly LossType[],
  config: PreferenceLossConfig | ResolvedLossConfig,
): LossRequirements {
  const plan = planLoss(lossType, config);
  const has = (need: LossNeed) => plan.needs.has(need);
  return {
    reference: has('reference'),
    chosenLengths: has('lengths') || has('chosenNll'),
    rejectedLengths: has('lengths'),
    chosenNll: has('chosenNll'),
    wpo: plan.config.use_weighting,
    tokens: plan.config.ld_alpha !== null,
    logps: plan.definitions[0]!.logps,
  };
}
