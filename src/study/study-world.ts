// The part of a study every run shares: the teacher language, the SFT model trained on it, the
// SFT model's samples to the training prompts, the judge calibrated on them, and the best/worst
// pairs for each judge condition. The SFT model and the samples are cached (run-cache.ts).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { sampleResponses } from '../demo/sampling.js';
import { supervisedFineTune } from '../demo/sft.js';
import { stageTimer } from '../demo/stage-timer.js';
import { IGNORE_INDEX } from '../losses/sequence-logps.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { SeededRandom } from '../random/seeded-random.js';
import { goldReward, responseFromTokens } from './gold-reward.js';
import { calibrateJudge, judgeReward, type LengthJudge, longerWinsRate, type ScoredPair, unbiasedJudge } from './length-judge.js';
import { cacheKey, readJsonIfPresent, writeJsonAtomic } from './run-cache.js';
import { initStudyModel } from './study-model.js';
import type { JudgeCondition, StudyPreset } from './study-settings.js';
import {
  createWorld,
  documentTokens,
  fluencyThreshold,
  PROMPT_WORDS,
  promptTokens,
  STUDY_IDS,
  type StudyPrompt,
  sampleDocument,
  samplePrompts,
  type TeacherWorld,
} from './teacher-language.js';

/** Prompt streams within the world seed. */
export const PROMPT_STREAMS = { train: 11, validation: 12, test: 13 } as const;
const SFT_SEED_OFFSET = 7;
const PAIR_SAMPLING_SEED = 5;

export interface PairStats {
  pairs: number;
  tiedPrompts: number;
  meanChosenQ: number;
  meanRejectedQ: number;
  meanChosenLength: number;
  meanRejectedLength: number;
  /** Share of pairs whose chosen response is the longer (ties ½). */
  chosenLonger: number;
}

export interface JudgeCalibration {
  judge: LengthJudge;
  /** P(longer wins) over pairs of SFT samples, for the biased judge and for λ = 0. */
  longerWinsBiased: number;
  longerWinsControl: number;
  comparedPairs: number;
  /** Mean gold q and length of the SFT samples to the training prompts. */
  sftMeanQ: number;
  sftMeanLength: number;
}

export interface StudyWorld {
  world: TeacherWorld;
  tau: number;
  sft: CausalLM;
  sftKey: string;
  sftLoss: { first: number; last: number };
  calibration: JudgeCalibration;
  pairs: Record<JudgeCondition, TokenizedPair[]>;
  pairStats: Record<JudgeCondition, PairStats>;
  prompts: { validation: StudyPrompt[]; test: StudyPrompt[] };
  seconds: Record<string, number>;
}

export function judgeFor(calibration: JudgeCalibration, condition: JudgeCondition): LengthJudge {
  return condition === 'biased' ? calibration.judge : unbiasedJudge(calibration.judge);
}

interface SftCacheEntry {
  firstLoss: number;
  lastLoss: number;
  seconds: number;
}

async function trainedSft(dir: string, preset: StudyPreset, world: TeacherWorld, log: (line: string) => void) {
  const key = cacheKey({ stage: 'sft', worldSeed: preset.worldSeed, world: preset.world, model: preset.model, sft: preset.sft });
  const folder = join(dir, 'cache', `sft-${key}`);
  const meta = await readJsonIfPresent<SftCacheEntry>(join(folder, 'sft.json'));
  if (meta && existsSync(join(folder, 'config.json'))) {
    log(`SFT model read from the cache (${folder})`);
    return { key, model: await AutoModelForCausalLM.fromPretrained(folder), meta };
  }
  const started = performance.now();
  const model = initStudyModel(preset.model, world.vocabSize, preset.worldSeed + SFT_SEED_OFFSET);
  log(
    `SFT: a ${model.numParameters}-parameter Llama from scratch on teacher documents (${preset.sft.steps} steps × ${preset.sft.batchSize})`,
  );
  const result = supervisedFineTune(model, null, {
    ...preset.sft,
    warmupRatio: 0.05,
    weightDecay: 0.01,
    maxGradNorm: 1,
    seed: preset.worldSeed,
    log,
    logEvery: Math.max(1, Math.floor(preset.sft.steps / 4)),
    nextBatch: (rng, size) => sftBatch(world, rng, size),
  });
  await model.savePretrained(folder);
  const entry: SftCacheEntry = { firstLoss: result.firstLoss, lastLoss: result.lastLoss, seconds: (performance.now() - started) / 1000 };
  await writeJsonAtomic(join(folder, 'sft.json'), entry);
  return { key, model, meta: entry };
}

/** A batch of teacher documents split at a random 2–8-word prompt, loss on the completion only. */
export function sftBatch(world: TeacherWorld, rng: SeededRandom, size: number): { ids: number[][]; labels: number[][] } {
  const rows = Array.from({ length: size }, () => {
    const doc = sampleDocument(world, rng);
    return documentTokens(world, doc, PROMPT_WORDS.min + rng.nextBelow(PROMPT_WORDS.max - PROMPT_WORDS.min + 1));
  });
  const width = Math.max(...rows.map((r) => r.prompt.length + r.completion.length));
  const pad = (values: number[], fill: number) => [...values, ...new Array<number>(width - values.length).fill(fill)];
  return {
    ids: rows.map((r) => pad([...r.prompt, ...r.completion], STUDY_IDS.pad)),
    labels: rows.map((r) => pad([...new Array<number>(r.prompt.length).fill(IGNORE_INDEX), ...r.completion], IGNORE_INDEX)),
  };
}

/** Best and worst of each prompt's samples by the judge (first index on ties); prompts with all samples tied give none. */
export function bestWorstPairs(
  prompts: readonly StudyPrompt[],
  promptIds: readonly (readonly number[])[],
  samples: readonly (readonly number[][])[],
  q: readonly number[][],
  lengths: readonly number[][],
  judge: LengthJudge,
): { pairs: TokenizedPair[]; stats: PairStats } {
  const pairs: TokenizedPair[] = [];
  let tied = 0;
  const sums = { cq: 0, rq: 0, cl: 0, rl: 0, longer: 0 };
  prompts.forEach((_, i) => {
    const r = (q[i] as number[]).map((qq, j) => judgeReward(judge, qq, lengths[i]?.[j] as number));
    let best = 0;
    let worst = 0;
    r.forEach((v, j) => {
      if (v > (r[best] as number)) best = j;
      if (v < (r[worst] as number)) worst = j;
    });
    if (r[best] === r[worst]) {
      tied += 1;
      return;
    }
    const prompt = Int32Array.from(promptIds[i] as number[]);
    const sample = samples[i] as number[][];
    pairs.push({
      chosen: { prompt, completion: Int32Array.from(sample[best] as number[]) },
      rejected: { prompt, completion: Int32Array.from(sample[worst] as number[]) },
      source: { file: 'lentrap:train', index: i, line: null },
      metadata: {},
    });
    const lc = lengths[i]?.[best] as number;
    const lr = lengths[i]?.[worst] as number;
    sums.cq += q[i]?.[best] as number;
    sums.rq += q[i]?.[worst] as number;
    sums.cl += lc;
    sums.rl += lr;
    sums.longer += lc > lr ? 1 : lc === lr ? 0.5 : 0;
  });
  const n = pairs.length;
  return {
    pairs,
    stats: {
      pairs: n,
      tiedPrompts: tied,
      meanChosenQ: sums.cq / n,
      meanRejectedQ: sums.rq / n,
      meanChosenLength: sums.cl / n,
      meanRejectedLength: sums.rl / n,
      chosenLonger: sums.longer / n,
    },
  };
}

interface SampleCacheEntry {
  tokens: number[][][];
}

export async function buildStudyWorld(dir: string, preset: StudyPreset, log: (line: string) => void): Promise<StudyWorld> {
  const { seconds, lap } = stageTimer();
  const world = createWorld(preset.worldSeed, preset.world);
  const tau = fluencyThreshold(world);
  const sft = await trainedSft(dir, preset, world, log);
  lap('sft');
  const trainPrompts = samplePrompts(world, preset.worldSeed, PROMPT_STREAMS.train, preset.trainPrompts);
  const trainIds = trainPrompts.map((p) => promptTokens(world, p));
  const sampleKey = cacheKey({ stage: 'pair-samples', sft: sft.key, prompts: preset.trainPrompts, k: preset.samplesPerPrompt });
  const samplePath = join(dir, 'cache', `pair-samples-${sampleKey}.json`);
  let cached = await readJsonIfPresent<SampleCacheEntry>(samplePath);
  if (!cached) {
    log(`pairs: ${preset.samplesPerPrompt} SFT samples to each of ${preset.trainPrompts} training prompts`);
    cached = {
      tokens: sampleResponses(sft.model, trainIds, {
        samplesPerPrompt: preset.samplesPerPrompt,
        maxNewTokens: world.shape.maxWords + 1,
        seed: preset.worldSeed * 16 + PAIR_SAMPLING_SEED,
      }),
    };
    await writeJsonAtomic(samplePath, cached);
  }
  const samples = cached.tokens;
  const responses = samples.map((perPrompt) => perPrompt.map((t) => responseFromTokens(world, t)));
  const q = responses.map((rs, i) => rs.map((r) => goldReward(world, tau, trainPrompts[i] as StudyPrompt, r)));
  const lengths = responses.map((rs) => rs.map((r) => r.words.length));
  // Calibration pairs: samples 0–1 and 2–3 of each prompt (independent draws from the SFT model).
  const scored: ScoredPair[] = [];
  q.forEach((qs, i) => {
    for (let j = 0; j + 1 < qs.length; j += 2) {
      scored.push({
        qA: qs[j] as number,
        lengthA: lengths[i]?.[j] as number,
        qB: qs[j + 1] as number,
        lengthB: lengths[i]?.[j + 1] as number,
      });
    }
  });
  const judge = calibrateJudge(scored, lengths.flat(), preset.longerWinsTarget);
  const calibration: JudgeCalibration = {
    judge,
    longerWinsBiased: longerWinsRate(judge, scored),
    longerWinsControl: longerWinsRate(unbiasedJudge(judge), scored),
    comparedPairs: scored.filter((p) => p.lengthA !== p.lengthB).length,
    sftMeanQ: q.flat().reduce((a, b) => a + b, 0) / q.flat().length,
    sftMeanLength: lengths.flat().reduce((a, b) => a + b, 0) / lengths.flat().length,
  };
  log(
    `judge: λ = ${judge.lambda.toFixed(3)} (μ_L ${judge.meanLength.toFixed(1)}, σ_L ${judge.sdLength.toFixed(1)}): ` +
      `longer wins ${(100 * calibration.longerWinsBiased).toFixed(1)}% (λ = 0: ${(100 * calibration.longerWinsControl).toFixed(1)}%)`,
  );
  const built = {
    biased: bestWorstPairs(trainPrompts, trainIds, samples, q, lengths, judgeFor(calibration, 'biased')),
    control: bestWorstPairs(trainPrompts, trainIds, samples, q, lengths, judgeFor(calibration, 'control')),
  };
  lap('pairs');
  return {
    world,
    tau,
    sft: sft.model,
    sftKey: sft.key,
    sftLoss: { first: sft.meta.firstLoss, last: sft.meta.lastLoss },
    calibration,
    pairs: { biased: built.biased.pairs, control: built.control.pairs },
    pairStats: { biased: built.biased.stats, control: built.control.stats },
    prompts: {
      validation: samplePrompts(world, preset.worldSeed, PROMPT_STREAMS.validation, preset.validationPrompts),
      test: samplePrompts(world, preset.worldSeed, PROMPT_STREAMS.test, preset.testPrompts),
    },
    seconds,
  };
}
