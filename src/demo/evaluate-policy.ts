// The demo's evaluation of one policy against the SFT model on held-out prompts and pairs:
// - gold reward of the policy's own samples (mean over prompts of the per-prompt mean, 95% CI);
// - win rate against the SFT model's samples: sample j of a prompt against the SFT model's
//   sample j of the same prompt, by gold reward, ties counting one half;
// - mean response length (tokens before EOS);
// - KL(π ‖ π_sft), a Monte-Carlo estimate on the policy's own samples: the mean over samples of
//   Σ_t [log π(y_t | x, y_<t) − log π_sft(y_t | x, y_<t)] over the response tokens (EOS
//   included), in nats per response. Unbiased for the KL of the sampled distribution; a single
//   sample's value can be negative;
// - held-out reward accuracy: the fraction of held-out pairs whose chosen response gets a larger
//   implicit reward than the rejected one, with the rewards the loss itself logs
//   (preferenceLoss's chosenRewards and rejectedRewards).
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import type { PreferenceLossConfig } from '../losses/config.js';
import { preferenceLoss } from '../losses/preference-loss.js';
import type { LossType } from '../losses/registry.js';
import type { PreferenceLogps } from '../losses/types.js';
import type { CausalLM } from '../models/causal-lm.js';
import * as torch from '../tensor/torch.js';
import { type CompletionRow, completionLogps } from './completion-logps.js';
import { goldReward, type SortPrompt } from './letter-sort-task.js';
import { sampleResponses } from './sampling.js';
import { responseFromTokens } from './sort-responses.js';
import { type MeanWithInterval, mean, meanWithInterval } from './summary-stats.js';

/** A policy's responses to the evaluation prompts, with their gold rewards. */
export interface PolicySamples {
  /** [prompt][sample] generated tokens (EOS last when emitted). */
  tokens: number[][][];
  /** [prompt][sample] gold rewards. */
  rewards: number[][];
}

export interface EvalSampling {
  samplesPerPrompt: number;
  maxNewTokens: number;
  /** Every policy is sampled with this seed, so policy and SFT samples share their random numbers. */
  seed: number;
}

export function samplePolicy(
  model: CausalLM,
  prompts: readonly SortPrompt[],
  promptIds: readonly (readonly number[])[],
  sampling: EvalSampling,
): PolicySamples {
  const tokens = sampleResponses(model, promptIds, sampling);
  const rewards = prompts.map((prompt, i) => (tokens[i] as number[][]).map((t) => goldReward(prompt, responseFromTokens(t))));
  return { tokens, rewards };
}

export interface PolicyEvaluation {
  /** Gold reward: mean over prompts of the per-prompt mean over samples. */
  reward: MeanWithInterval;
  /** Win rate against the SFT samples (ties ½), per prompt then over prompts; null for the SFT model itself. */
  winRate: MeanWithInterval | null;
  /** Fraction of samples that are exactly the sorted letters with EOS (gold reward 1). */
  perfect: number;
  /** Fraction of samples cut at max_new_tokens without EOS. */
  unfinished: number;
  /** Mean response length in tokens, EOS not counted. */
  meanLength: number;
  /** Monte-Carlo KL(π ‖ π_sft) in nats per response (mean over samples, 95% CI). */
  kl: MeanWithInterval;
  /** Held-out reward accuracy (chosenRewards > rejectedRewards); null when the policy has no loss (SFT). */
  heldOutAccuracy: number | null;
}

/** Win indicator of reward a against reward b: 1, ½ on a tie, 0. */
function win(a: number, b: number): number {
  return a > b ? 1 : a === b ? 0.5 : 0;
}

/** Per-sample Σ_t log π(y_t) − log π_sft(y_t) on `samples` (the policy's own). */
export function sampledLogRatios(
  policy: CausalLM,
  sft: CausalLM,
  promptIds: readonly (readonly number[])[],
  samples: PolicySamples,
): number[] {
  const rows: CompletionRow[] = [];
  samples.tokens.forEach((perPrompt, i) => {
    for (const completion of perPrompt) rows.push({ prompt: promptIds[i] as readonly number[], completion });
  });
  const policyLogps = completionLogps(policy, rows, { average: false });
  const sftLogps = completionLogps(sft, rows, { average: false });
  return policyLogps.map((lp, i) => lp - (sftLogps[i] as number));
}

/** How a trained policy's loss computes its implicit rewards. */
export interface PolicyLoss {
  lossType: LossType;
  config: PreferenceLossConfig;
  /** Averaged (true) or summed (false) sequence log-probs, as in training. */
  ln: boolean;
  /** Whether the loss reads reference log-probs. */
  needsReference: boolean;
}

/** Fraction of `pairs` whose chosenRewards > rejectedRewards under the loss's own implicit reward. */
export function heldOutRewardAccuracy(policy: CausalLM, reference: CausalLM, pairs: readonly TokenizedPair[], loss: PolicyLoss): number {
  if (pairs.length === 0) return Number.NaN;
  const chosen = pairs.map((p) => p.chosen);
  const rejected = pairs.map((p) => p.rejected);
  const options = { average: loss.ln };
  const values = {
    policyChosen: completionLogps(policy, chosen, options),
    policyRejected: completionLogps(policy, rejected, options),
    referenceChosen: loss.needsReference ? completionLogps(reference, chosen, options) : null,
    referenceRejected: loss.needsReference ? completionLogps(reference, rejected, options) : null,
  };
  return torch.tidy(() => {
    const asTensor = (xs: number[]) => torch.tensor(xs, { dtype: 'float32' });
    const logps: PreferenceLogps = { policyChosen: asTensor(values.policyChosen), policyRejected: asTensor(values.policyRejected) };
    if (values.referenceChosen !== null && values.referenceRejected !== null) {
      logps.referenceChosen = asTensor(values.referenceChosen);
      logps.referenceRejected = asTensor(values.referenceRejected);
    }
    // training: false leaves the (fresh) α-DPO statistics alone; the rewards do not read them.
    const out = preferenceLoss(loss.lossType, logps, loss.config, new AlphaDpoState(), { training: false });
    return out.chosenRewards.gt(out.rejectedRewards).to('float64').mean().item();
  });
}

export interface EvaluatePolicyInputs {
  policy: CausalLM;
  sft: CausalLM;
  promptIds: readonly (readonly number[])[];
  samples: PolicySamples;
  sftSamples: PolicySamples;
  heldOutPairs: readonly TokenizedPair[];
  /** null for the SFT model itself (no win rate against itself, KL 0, no implicit reward). */
  loss: PolicyLoss | null;
}

export function evaluatePolicy(inputs: EvaluatePolicyInputs): PolicyEvaluation {
  const { samples, sftSamples, loss } = inputs;
  const flat = samples.rewards.flat();
  const lengths = samples.tokens.flat().map((t) => responseFromTokens(t).letters.length);
  const unfinished = samples.tokens.flat().filter((t) => !responseFromTokens(t).finished).length;
  const isSft = loss === null;
  const zeros = new Array<number>(flat.length).fill(0);
  return {
    reward: meanWithInterval(samples.rewards.map(mean)),
    winRate: isSft
      ? null
      : meanWithInterval(samples.rewards.map((rs, i) => mean(rs.map((r, j) => win(r, sftSamples.rewards[i]?.[j] as number))))),
    perfect: flat.filter((r) => r === 1).length / flat.length,
    unfinished: unfinished / flat.length,
    meanLength: mean(lengths),
    kl: meanWithInterval(isSft ? zeros : sampledLogRatios(inputs.policy, inputs.sft, inputs.promptIds, samples)),
    heldOutAccuracy: isSft ? null : heldOutRewardAccuracy(inputs.policy, inputs.sft, inputs.heldOutPairs, loss),
  };
}
