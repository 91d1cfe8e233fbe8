// The α-DPO paper's on-policy recipe (docs/alpha-dpo.md, "Published settings"): sample several responses
// per prompt from the SFT model, score each with the reward, keep the best as chosen and the
// worst as rejected. Here the reward is the task's gold reward; a prompt whose samples all score
// the same gives no preference and no pair.
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import type { CausalLM } from '../models/causal-lm.js';
import { goldReward, type SortPrompt } from './letter-sort-task.js';
import { sampleResponses } from './sampling.js';
import { responseFromTokens } from './sort-responses.js';

export interface OnPolicyPairsOptions {
  samplesPerPrompt: number;
  maxNewTokens: number;
  seed: number;
  /** Names the split in each pair's source location, e.g. 'train'. */
  split: string;
}

export interface OnPolicyPairs {
  pairs: TokenizedPair[];
  /** Prompts whose samples all had the same gold reward (no pair made). */
  tiedPrompts: number;
  /** Mean gold reward of all samples. */
  meanSampleReward: number;
  /** Mean gold reward of the chosen and of the rejected responses. */
  meanChosenReward: number;
  meanRejectedReward: number;
  /** Mean completion tokens (EOS included when present) of the chosen and of the rejected responses. */
  meanChosenLength: number;
  meanRejectedLength: number;
}

/** Index of the first largest (sign 1) or smallest (sign −1) value. */
function extremeIndex(values: readonly number[], sign: 1 | -1): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (sign * (values[i] as number) > sign * (values[best] as number)) best = i;
  return best;
}

export function buildOnPolicyPairs(
  model: CausalLM,
  prompts: readonly SortPrompt[],
  promptIds: readonly (readonly number[])[],
  options: OnPolicyPairsOptions,
): OnPolicyPairs {
  const samples = sampleResponses(model, promptIds, options);
  const pairs: TokenizedPair[] = [];
  let tiedPrompts = 0;
  let rewardSum = 0;
  prompts.forEach((prompt, i) => {
    const responses = samples[i] as number[][];
    const rewards = responses.map((tokens) => goldReward(prompt, responseFromTokens(tokens)));
    for (const r of rewards) rewardSum += r;
    const best = extremeIndex(rewards, 1);
    const worst = extremeIndex(rewards, -1);
    if (rewards[best] === rewards[worst]) {
      tiedPrompts += 1;
      return;
    }
    const promptArray = Int32Array.from(promptIds[i] as readonly number[]);
    pairs.push({
      chosen: { prompt: promptArray, completion: Int32Array.from(responses[best] as number[]) },
      rejected: { prompt: promptArray, completion: Int32Array.from(responses[worst] as number[]) },
      source: { file: `demo:${options.split}`, index: i, line: null },
      metadata: { gold_chosen: rewards[best] as number, gold_rejected: rewards[worst] as number },
    });
  });
  const average = (f: (p: TokenizedPair) => number) =>
    pairs.length === 0 ? Number.NaN : pairs.reduce((a, p) => a + f(p), 0) / pairs.length;
  return {
    pairs,
    tiedPrompts,
    meanSampleReward: rewardSum / (prompts.length * options.samplesPerPrompt),
    meanChosenReward: average((p) => p.metadata['gold_chosen'] as number),
    meanRejectedReward: average((p) => p.metadata['gold_rejected'] as number),
    meanChosenLength: average((p) => p.chosen.completion.length),
    meanRejectedLength: average((p) => p.rejected.completion.length),
  };
}
