// One evaluation of a policy during a study run: samples to the evaluation prompts, each paired
// with the SFT model's sample of the same index drawn with the same seed (common random numbers),
// and every metric of the design: gold q, gold win rate against SFT, the judge's raw win rate and
// its length-controlled one, exact and Monte-Carlo KL to SFT, length, distinct-2, teacher NLL.
// The per-prompt values are kept for the bootstrap; the rest is summarised.
import { sampleResponses } from '../demo/sampling.js';
import type { CausalLM } from '../models/causal-lm.js';
import { sampleKl } from './exact-kl.js';
import { goldReward, responseFromTokens } from './gold-reward.js';
import { fitLcWinRate, type LcObservation } from './lc-win-rate.js';
import { judgeReward, type LengthJudge } from './length-judge.js';
import { STUDY_IDS, type StudyPrompt, type TeacherWorld, teacherNll } from './teacher-language.js';

/** Teacher NLL is clipped here before averaging: a response with a non-word token has infinite NLL. */
export const NLL_CLIP = 10;

export interface EvalSet {
  world: TeacherWorld;
  tau: number;
  judge: LengthJudge;
  prompts: readonly StudyPrompt[];
  promptIds: readonly (readonly number[])[];
  samplesPerPrompt: number;
  /** generate() seed shared by the policy and the SFT baseline. */
  seed: number;
}

/** A model's samples to an EvalSet's prompts, scored. */
export interface ScoredSamples {
  tokens: number[][][];
  /** [prompt][sample] gold q, length in words, judge reward. */
  q: number[][];
  length: number[][];
  judge: number[][];
  nll: number[][];
}

export function sampleAndScore(model: CausalLM, set: EvalSet): ScoredSamples {
  const tokens = sampleResponses(model, set.promptIds, {
    samplesPerPrompt: set.samplesPerPrompt,
    maxNewTokens: set.world.shape.maxWords + 1,
    seed: set.seed,
  });
  const q: number[][] = [];
  const length: number[][] = [];
  const judge: number[][] = [];
  const nll: number[][] = [];
  tokens.forEach((perPrompt, i) => {
    const prompt = set.prompts[i] as StudyPrompt;
    const responses = perPrompt.map((t) => responseFromTokens(set.world, t));
    q.push(responses.map((r) => goldReward(set.world, set.tau, prompt, r)));
    length.push(responses.map((r) => r.words.length));
    judge.push(responses.map((r, j) => judgeReward(set.judge, q[i]?.[j] as number, r.words.length)));
    nll.push(responses.map((r) => Math.min(NLL_CLIP, teacherNll(set.world, prompt, r.words, r.ended))));
  });
  return { tokens, q, length, judge, nll };
}

/** Per-prompt values at one checkpoint (means over the prompt's samples). */
export interface PromptValues {
  q: number[];
  goldWin: number[];
  judgeWin: number[];
  length: number[];
  klExact: number[];
  /** [prompt][sample] for the LC GLM. */
  judgeLabel: number[][];
  lengthDiff: number[][];
}

export interface CheckpointSummary {
  step: number;
  q: number;
  goldWin: number;
  judgeWin: number;
  lcWin: number;
  /** LC win rate − gold win rate. */
  lcGap: number;
  /** Nats per response, exact per step and Monte-Carlo, and exact per token. */
  klExact: number;
  klMonteCarlo: number;
  klExactPerToken: number;
  length: number;
  distinct2: number;
  teacherNll: number;
  unfinished: number;
}

export interface CheckpointEvaluation {
  summary: CheckpointSummary;
  perPrompt: PromptValues;
}

const win = (a: number, b: number) => (a > b ? 1 : a === b ? 0.5 : 0);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Distinct bigrams over all bigrams of all responses (EOS not counted). */
export function distinct2(tokens: readonly (readonly number[])[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const t of tokens) {
    for (let i = 0; i + 1 < t.length; i++) {
      seen.add(`${t[i]},${t[i + 1]}`);
      total += 1;
    }
  }
  return total === 0 ? 0 : seen.size / total;
}

/** Compares a policy's scored samples with the SFT baseline's; `policy` null means the SFT model itself (KL 0). */
export function evaluateCheckpoint(
  step: number,
  policy: CausalLM | null,
  sft: CausalLM,
  set: EvalSet,
  samples: ScoredSamples,
  baseline: ScoredSamples,
): CheckpointEvaluation {
  const n = set.prompts.length;
  const k = set.samplesPerPrompt;
  const rows = samples.tokens.flatMap((perPrompt, i) => perPrompt.map((response) => ({ prompt: set.promptIds[i] as number[], response })));
  const kl = policy === null ? rows.map((r) => ({ exact: 0, monteCarlo: 0, tokens: r.response.length })) : sampleKl(policy, sft, rows);
  const perPrompt: PromptValues = { q: [], goldWin: [], judgeWin: [], length: [], klExact: [], judgeLabel: [], lengthDiff: [] };
  const lc: LcObservation[] = [];
  for (let i = 0; i < n; i++) {
    const at = (j: number, m: number[][]) => m[i]?.[j] as number;
    const js = Array.from({ length: k }, (_, j) => j);
    const labels = js.map((j) => win(at(j, samples.judge), at(j, baseline.judge)));
    const diffs = js.map((j) => at(j, samples.length) - at(j, baseline.length));
    perPrompt.q.push(mean(samples.q[i] as number[]));
    perPrompt.goldWin.push(mean(js.map((j) => win(at(j, samples.q), at(j, baseline.q)))));
    perPrompt.judgeWin.push(mean(labels));
    perPrompt.length.push(mean(samples.length[i] as number[]));
    perPrompt.klExact.push(mean(js.map((j) => (kl[i * k + j] as { exact: number }).exact)));
    perPrompt.judgeLabel.push(labels);
    perPrompt.lengthDiff.push(diffs);
    js.forEach((j) => {
      lc.push({ label: labels[j] as number, lengthDiff: diffs[j] as number });
    });
  }
  const fit = fitLcWinRate(lc);
  const goldWin = mean(perPrompt.goldWin);
  const allTokens = samples.tokens.flat();
  return {
    perPrompt,
    summary: {
      step,
      q: mean(perPrompt.q),
      goldWin,
      judgeWin: mean(perPrompt.judgeWin),
      lcWin: fit.lcWinRate,
      lcGap: fit.lcWinRate - goldWin,
      klExact: mean(kl.map((x) => x.exact)),
      klMonteCarlo: mean(kl.map((x) => x.monteCarlo)),
      klExactPerToken: mean(kl.map((x) => x.exact / x.tokens)),
      length: mean(perPrompt.length),
      distinct2: distinct2(allTokens.map((t) => t.filter((x) => x !== STUDY_IDS.eos))),
      teacherNll: mean(samples.nll.flat()),
      unfinished: allTokens.filter((t) => t[t.length - 1] !== STUDY_IDS.eos).length / allTokens.length,
    },
  };
}
