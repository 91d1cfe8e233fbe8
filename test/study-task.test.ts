// The LenTrap study's pieces, each against a value worked out by hand in the comment (or an
// independent computation in the test): teacher language and its NLL, gold reward, judge and its
// calibration, pairs, the LC GLM, bootstrap / Holm / Welch, exact KL against the Monte-Carlo
// estimate, and the frontier interpolation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sampleResponses } from '../src/demo/sampling.js';
import { SeededRandom } from '../src/random/seeded-random.js';
import { distinct2 } from '../src/study/evaluate-checkpoint.js';
import { sampleKl } from '../src/study/exact-kl.js';
import { goldTerms } from '../src/study/gold-reward.js';
import { fitLcWinRate, lengthDiffScale } from '../src/study/lc-win-rate.js';
import { calibrateJudge, judgeReward, longerWinsRate, type ScoredPair } from '../src/study/length-judge.js';
import { cacheKey, canonicalJson } from '../src/study/run-cache.js';
import { qAtKl } from '../src/study/study-analysis.js';
import { StudyConfigError } from '../src/study/study-errors.js';
import { initStudyModel } from '../src/study/study-model.js';
import { checkpointSteps } from '../src/study/study-run.js';
import { checkMethods, gridConfigs } from '../src/study/study-settings.js';
import { hierarchicalBootstrap, holmAdjust, studentTwoSidedP, welchTest } from '../src/study/study-statistics.js';
import { bestWorstPairs } from '../src/study/study-world.js';
import { escapeXml, niceTicks, svgChart } from '../src/study/svg-chart.js';
import {
  createWorld,
  promptTokens,
  STUDY_IDS,
  type StudyPrompt,
  sampleDocument,
  samplePrompts,
  type TeacherWorld,
  teacherNll,
} from '../src/study/teacher-language.js';

/** A hand-made world: 1 topic, 2 words, uniform transitions in both moods unless given. */
function handWorld(
  options: { logNextByMood?: [number[], number[]]; eosProb?: number[]; valence?: number[]; topicOf?: number[]; topics?: number } = {},
): TeacherWorld {
  const topics = options.topics ?? 1;
  const words = 2;
  const [minus, plus] = options.logNextByMood ?? [
    [Math.log(0.5), Math.log(0.5)],
    [Math.log(0.5), Math.log(0.5)],
  ];
  const logNext = new Float64Array(2 * topics * (words + 1) * words);
  for (let mood = 0; mood < 2; mood++)
    for (let t = 0; t < topics; t++)
      for (let prev = 0; prev <= words; prev++)
        for (let w = 0; w < words; w++)
          logNext[((mood * topics + t) * (words + 1) + prev) * words + w] = (mood === 0 ? minus : plus)[w] as number;
  return {
    seed: 0,
    shape: { topics, words, meanWords: 3, maxWords: 8 },
    vocabSize: STUDY_IDS.firstTopic + topics + words,
    valence: Float64Array.from(options.valence ?? [0.5, -1]),
    topicOf: Int32Array.from(options.topicOf ?? [0, 0]),
    logNext,
    eosProb: Float64Array.from(options.eosProb ?? [0.25, 0.5]),
  };
}

describe('teacher language', () => {
  test('the same seed gives the same world; every transition row is a distribution', () => {
    const a = createWorld(3);
    const b = createWorld(3);
    assert.deepEqual(Array.from(a.valence), Array.from(b.valence));
    assert.notDeepEqual(Array.from(a.valence), Array.from(createWorld(4).valence));
    const { words } = a.shape;
    for (const row of [0, 17, 2 * 16 * 101 - 1]) {
      let sum = 0;
      for (let w = 0; w < words; w++) sum += Math.exp(a.logNext[row * words + w] as number);
      assert.ok(Math.abs(sum - 1) < 1e-12, `row ${row} sums to ${sum}`);
    }
    assert.equal(a.vocabSize, 4 + 16 + 100); // pad, BOS, EOS, SEP + topics + words
  });

  test('documents: mean length near 28 words, positive mood drifts to positive words', () => {
    const world = createWorld(0);
    const rng = SeededRandom.forStream(1, 1);
    const docs = Array.from({ length: 3000 }, () => sampleDocument(world, rng));
    const meanLength = docs.reduce((a, d) => a + d.words.length, 0) / docs.length;
    // The EOS hazard is σ(logit(1/29) + 0.8·z) per word, so the mean is near (not exactly) 28; the cap is 64.
    assert.ok(meanLength > 18 && meanLength < 36, `mean length ${meanLength}`);
    assert.ok(docs.every((d) => d.words.length <= 64));
    const valenceOf = (mood: number) => {
      const ws = docs.filter((d) => d.mood === mood).flatMap((d) => d.words);
      return ws.reduce((a, w) => a + (world.valence[w] as number), 0) / ws.length;
    };
    // The tilt 1.2·m·v_w moves the mean valence of a mood's words well apart (≈ ±0.3 here).
    assert.ok(valenceOf(1) - valenceOf(-1) > 0.3, `${valenceOf(1)} vs ${valenceOf(-1)}`);
  });

  test('a prompt is BOS, topic, 2–8 words, SEP', () => {
    const world = createWorld(0);
    for (const p of samplePrompts(world, 0, 11, 200)) {
      const ids = promptTokens(world, p);
      assert.equal(ids[0], STUDY_IDS.bos);
      assert.equal(ids[1], STUDY_IDS.firstTopic + p.topic);
      assert.equal(ids[ids.length - 1], STUDY_IDS.sep);
      assert.ok(p.prefix.length >= 1 && p.prefix.length <= 8);
    }
  });

  test('teacher NLL by hand: uniform transitions, EOS hazards 0.25 and 0.5', () => {
    const world = handWorld();
    const prompt: StudyPrompt = { topic: 0, mood: 1, prefix: [0] };
    // After prefix word 0: not EOS (0.75) · word 0 (0.5) · not EOS (0.75) · word 1 (0.5) · EOS after word 1 (0.5)
    // = 0.0703125 over 3 tokens (2 words + EOS).
    assert.ok(Math.abs(teacherNll(world, prompt, [0, 1], true) - -Math.log(0.0703125) / 3) < 1e-12);
    // Cut without EOS: 0.75 · 0.5 · 0.75 · 0.5 = 0.140625 over 2 tokens.
    assert.ok(Math.abs(teacherNll(world, prompt, [0, 1], false) - -Math.log(0.140625) / 2) < 1e-12);
    assert.equal(teacherNll(world, prompt, [0, -1], true), Infinity);
  });

  test('teacher NLL marginalises the mood under its posterior given the prompt', () => {
    // Mood −1 picks word 0 with 0.9, mood +1 with 0.1; no EOS hazard after word 0 matters (0.25).
    const world = handWorld({
      logNextByMood: [
        [Math.log(0.9), Math.log(0.1)],
        [Math.log(0.1), Math.log(0.9)],
      ],
    });
    const prompt: StudyPrompt = { topic: 0, mood: -1, prefix: [0] };
    // Prefix [0]: P(· | −1) = 0.9, P(· | +1) = 0.1 → posterior (0.9, 0.1).
    // Response [0] cut: P = 0.75·0.9 under −1, 0.75·0.1 under +1 → 0.9·0.675 + 0.1·0.075 = 0.615.
    assert.ok(Math.abs(teacherNll(world, prompt, [0], false) - -Math.log(0.615)) < 1e-12);
  });
});

describe('gold reward', () => {
  test('by hand: valence, on-topic share, fluency penalty', () => {
    // Word 0: valence 0.5, topic 0; word 1: valence −1, topic 1; prompt topic 0.
    const world = handWorld({ topics: 2, topicOf: [0, 1] });
    const prompt: StudyPrompt = { topic: 0, mood: 1, prefix: [0] };
    const loose = goldTerms(world, 100, prompt, { words: [0, 0, 1], ended: true });
    // mean valence (0.5 + 0.5 − 1)/3 = 0; on-topic 2/3 → 0.5 · 2/3; τ = 100 leaves no penalty.
    assert.ok(Math.abs(loose.valence) < 1e-15);
    assert.ok(Math.abs(loose.q - 1 / 3) < 1e-12);
    // With τ = 0 the penalty is the NLL per token itself: uniform chain, 0.75·0.5·0.75·0.5·0.75·0.5·EOS 0.5 over 4 tokens.
    const strict = goldTerms(world, 0, prompt, { words: [0, 0, 1], ended: true });
    const nll = -Math.log(0.75 * 0.5 * 0.75 * 0.5 * 0.75 * 0.5 * 0.5) / 4;
    assert.ok(Math.abs(strict.fluencyPenalty - nll) < 1e-12);
    // A non-word token: infinite NLL, penalty capped at 3.
    assert.equal(goldTerms(world, 0, prompt, { words: [0, -1], ended: true }).fluencyPenalty, 3);
  });

  test('length-neutral: repeating a response leaves valence and topic terms unchanged', () => {
    const world = handWorld({ topics: 2, topicOf: [0, 1] });
    const prompt: StudyPrompt = { topic: 0, mood: 1, prefix: [0] };
    const short = goldTerms(world, 100, prompt, { words: [0, 1], ended: true });
    const long = goldTerms(world, 100, prompt, { words: [0, 1, 0, 1, 0, 1], ended: true });
    assert.equal(short.q, long.q); // (0.5 − 1)/2 + 0.5·0.5 = 0 both
    assert.equal(short.q, 0);
  });
});

describe('length-biased judge', () => {
  test('r_J = q + λ·tanh((|y| − μ)/σ) by hand', () => {
    // 0.2 + 0.5·tanh(1) = 0.2 + 0.5·0.7615941559557649
    assert.ok(Math.abs(judgeReward({ lambda: 0.5, meanLength: 10, sdLength: 5 }, 0.2, 15) - 0.5807970779778824) < 1e-15);
  });

  test('calibration reaches 68% longer-wins where λ = 0 gives about 50%', () => {
    const rng = SeededRandom.forStream(5, 5);
    const pairs: ScoredPair[] = Array.from({ length: 4000 }, () => ({
      qA: rng.next() - 0.5,
      lengthA: 1 + rng.nextBelow(40),
      qB: rng.next() - 0.5,
      lengthB: 1 + rng.nextBelow(40),
    }));
    const lengths = pairs.flatMap((p) => [p.lengthA, p.lengthB]);
    const judge = calibrateJudge(pairs, lengths, 0.68);
    // q independent of length: λ = 0 is a coin flip (± 3 standard errors of 4000 pairs ≈ ± 0.024).
    assert.ok(Math.abs(longerWinsRate({ ...judge, lambda: 0 }, pairs) - 0.5) < 0.025);
    // The rate is a step function of λ; the bisection stops at the first λ reaching 0.68 (within one pair: 1/3900).
    const rate = longerWinsRate(judge, pairs);
    assert.ok(rate >= 0.68 && rate < 0.681, `rate ${rate}`);
    assert.ok(longerWinsRate({ ...judge, lambda: judge.lambda - 1e-3 }, pairs) < 0.68);
  });

  test('best/worst pairs follow the judge, not the gold reward', () => {
    // One prompt, 4 samples: q = [0.1, 0.3, 0.2, 0.0], lengths [30, 5, 10, 2]; λ = 1, μ = 10, σ = 10:
    // r_J = 0.1 + tanh(2) = 1.064, 0.3 + tanh(−0.5) = −0.162, 0.2 + 0 = 0.2, 0 + tanh(−0.8) = −0.664
    // → chosen sample 0 (the longest, not the best by q), rejected sample 3.
    const samples = [
      [
        [10, 2],
        [11, 2],
        [12, 2],
        [13, 2],
      ],
    ];
    const { pairs, stats } = bestWorstPairs(
      [{ topic: 0, mood: 1, prefix: [0] }],
      [[1, 4, 20, 3]],
      samples,
      [[0.1, 0.3, 0.2, 0]],
      [[30, 5, 10, 2]],
      {
        lambda: 1,
        meanLength: 10,
        sdLength: 10,
      },
    );
    assert.deepEqual(Array.from(pairs[0]?.chosen.completion ?? []), [10, 2]);
    assert.deepEqual(Array.from(pairs[0]?.rejected.completion ?? []), [13, 2]);
    assert.equal(stats.chosenLonger, 1);
  });
});

describe('length-controlled win rate (GLM)', () => {
  test('two length groups: θ = (logit p₊ + logit p₋)/2 by hand', () => {
    // Δlen = +2 with labels 1,1,1,0 (p₊ = 0.75); Δlen = −2 with labels 1,0,1,0 (p₋ = 0.5). With two
    // distinct x = ±tanh(2/sd) the GLM is saturated: θ + φx₊ = logit 0.75 = ln 3, θ − φx₊ = 0,
    // so θ = ln(3)/2 and the LC win rate is σ(ln(3)/2) = √3/(1 + √3) = 0.6339746.
    const obs = [1, 1, 1, 0].map((label) => ({ label, lengthDiff: 2 })).concat([1, 0, 1, 0].map((label) => ({ label, lengthDiff: -2 })));
    const sd = lengthDiffScale(obs); // sqrt(8·4/7)
    assert.ok(Math.abs(sd - Math.sqrt(32 / 7)) < 1e-12);
    const fit = fitLcWinRate(obs);
    assert.ok(Math.abs(fit.theta - Math.log(3) / 2) < 1e-5, `θ ${fit.theta}`);
    assert.ok(Math.abs(fit.phi - Math.log(3) / 2 / Math.tanh(2 / sd)) < 1e-5, `φ ${fit.phi}`);
    assert.ok(Math.abs(fit.lcWinRate - Math.sqrt(3) / (1 + Math.sqrt(3))) < 1e-6);
    assert.equal(fit.winRate, 5 / 8);
  });

  test('soft labels and separation: ties count ½, all-wins stays finite', () => {
    const ties = fitLcWinRate([0, 1, -1, 2].map((d) => ({ label: 0.5, lengthDiff: d })));
    assert.ok(Math.abs(ties.lcWinRate - 0.5) < 1e-9);
    const allWins = fitLcWinRate([1, 2, 3].map((d) => ({ label: 1, lengthDiff: d })));
    assert.ok(Number.isFinite(allWins.theta) && allWins.lcWinRate > 0.99);
  });
});

describe('statistics', () => {
  test('bootstrap of one seed with prompt values 0 and 1: the mean of 2 draws is 0, ½ or 1', () => {
    const values = [0, 1];
    const b = hierarchicalBootstrap((_seeds, p) => (p[0] as number[]).reduce((a, i) => a + (values[i] as number), 0) / 2, {
      seeds: 1,
      prompts: 2,
      replicates: 4000,
      rngSeed: 1,
    });
    // P(mean = 0) = P(mean = 1) = ¼ > 2.5%, so the percentile interval is [0, 1].
    assert.equal(b.estimate, 0.5);
    assert.equal(b.low, 0);
    assert.equal(b.high, 1);
  });

  test('bootstrap resamples seeds: between-seed spread widens the interval', () => {
    // 4 seeds whose prompt values are constant within a seed (0, 1, 2, 3): only seed resampling moves the mean.
    const stat = (s: readonly number[], p: readonly (readonly number[])[]) =>
      s.reduce((a, x, i) => a + x + 0 * (p[i]?.length ?? 0), 0) / s.length;
    const b = hierarchicalBootstrap(stat, { seeds: 4, prompts: 3, replicates: 2000, rngSeed: 2 });
    assert.equal(b.estimate, 1.5);
    assert.ok(b.low <= 0.5 && b.high >= 2.5, `[${b.low}, ${b.high}]`); // the seed mean of 4 draws from {0..3}: sd 0.56
    assert.ok(b.pValue < 0.01); // every resample is ≥ 0, most > 0
  });

  test('Holm: p = (0.01, 0.04, 0.03) → (0.03, 0.06, 0.06) by hand', () => {
    // Sorted: 0.01·3 = 0.03; 0.03·2 = 0.06; max(0.06, 0.04·1) = 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03]);
    for (const [i, v] of [0.03, 0.06, 0.06].entries()) assert.ok(Math.abs((adjusted[i] as number) - v) < 1e-15);
  });

  test("Student's t tail: closed forms for 1 and 2 degrees of freedom", () => {
    // df = 1 is Cauchy: P(|T| > 1) = ½. df = 2: P(|T| > t) = 1 − t/√(2 + t²); t = 2 → 1 − 2/√6.
    assert.ok(Math.abs(studentTwoSidedP(1, 1) - 0.5) < 1e-12);
    assert.ok(Math.abs(studentTwoSidedP(2, 2) - (1 - 2 / Math.sqrt(6))) < 1e-12);
    assert.ok(Math.abs(studentTwoSidedP(-2, 2) - (1 - 2 / Math.sqrt(6))) < 1e-12);
  });

  test('Welch by hand: a = 1,2,3 and b = 4,5,6,7', () => {
    // means 2 and 5.5, variances 1 and 5/3: se² = 1/3 + 5/12 = 3/4, t = −3.5/√0.75,
    // df = 0.75² / ((1/3)²/2 + (5/12)²/3) = 0.5625 / 0.1134259 = 4.9592.
    const w = welchTest([1, 2, 3], [4, 5, 6, 7]);
    assert.ok(Math.abs(w.t - -3.5 / Math.sqrt(0.75)) < 1e-12);
    assert.ok(Math.abs(w.df - 0.5625 / (1 / 18 + 25 / 432)) < 1e-12);
    assert.ok(w.pValue > 0.005 && w.pValue < 0.02, `p ${w.pValue}`); // t ≈ −4.04 on ≈ 5 df: two-sided ≈ 0.0101
  });
});

describe('exact KL', () => {
  test('exact per-step KL agrees with the Monte-Carlo estimate on the same samples; zero against itself', () => {
    const world = createWorld(0, { topics: 4, words: 20, meanWords: 6, maxWords: 12 });
    const shape = { hiddenSize: 16, intermediateSize: 32, layers: 1, heads: 2 };
    const policy = initStudyModel(shape, world.vocabSize, 1);
    const sft = initStudyModel(shape, world.vocabSize, 2);
    try {
      const prompts = samplePrompts(world, 0, 11, 64).map((p) => promptTokens(world, p));
      const samples = sampleResponses(policy, prompts, { samplesPerPrompt: 8, maxNewTokens: 6, seed: 3 });
      const rows = samples.flatMap((perPrompt, i) => perPrompt.map((response) => ({ prompt: prompts[i] as number[], response })));
      const kl = sampleKl(policy, sft, rows);
      assert.ok(kl.every((k) => k.exact >= -1e-6)); // each step's KL is ≥ 0
      const n = kl.length;
      const mcMean = kl.reduce((a, k) => a + k.monteCarlo, 0) / n;
      const exactMean = kl.reduce((a, k) => a + k.exact, 0) / n;
      const diffs = kl.map((k) => k.monteCarlo - k.exact);
      const dMean = diffs.reduce((a, b) => a + b, 0) / n;
      const dSe = Math.sqrt(diffs.reduce((a, b) => a + (b - dMean) ** 2, 0) / (n - 1) / n);
      // Both estimate the same sequence KL; their per-sample difference has mean 0 (E over y_t of the log-ratio is the step KL).
      assert.ok(Math.abs(mcMean - exactMean) < 4 * dSe, `MC ${mcMean} vs exact ${exactMean} (se ${dSe})`);
      // Freshly initialised models are near uniform, so their KL is small but clearly non-zero (≈ 0.035 nats here).
      assert.ok(exactMean > 0.01, `two random models differ: ${exactMean}`);
      const self = sampleKl(policy, policy, rows.slice(0, 32));
      assert.ok(self.every((k) => Math.abs(k.exact) < 1e-6 && Math.abs(k.monteCarlo) < 1e-6));
    } finally {
      policy.dispose();
      sft.dispose();
    }
  });
});

describe('study plumbing', () => {
  test('distinct-2, checkpoint steps, frontier interpolation by hand', () => {
    // Bigrams (1,2), (2,1), (1,2) and (1,2): 2 distinct of 4.
    assert.equal(
      distinct2([
        [1, 2, 1, 2],
        [1, 2],
      ]),
      2 / 4,
    );
    assert.deepEqual(checkpointSteps(31, 3), [10, 21, 31]);
    assert.deepEqual(checkpointSteps(2, 4), [1, 2]);
    const points = [
      { kl: 0, q: 0 },
      { kl: 3, q: 2 },
      { kl: 1, q: 1 },
    ];
    assert.equal(qAtKl(points, 2), 1.5); // halfway between (1, 1) and (3, 2)
    assert.equal(qAtKl(points, 5), null);
  });

  test('grids are Cartesian products; bad method lists are typed errors', () => {
    assert.equal(gridConfigs({ beta: [2, 10], gamma_beta_ratio: [0.3, 0.5, 1], learning_rate: [1e-4] }).length, 6);
    assert.deepEqual(gridConfigs({ alpha: [0.1] }, { beta: 2 }), [{ beta: 2, alpha: 0.1 }]);
    assert.throws(() => checkMethods([{ name: 'X', lossType: 'nope' as 'simpo', grid: { beta: [1] } }]), StudyConfigError);
    assert.throws(() => checkMethods([{ name: 'X', lossType: 'simpo', grid: { beta: [] } }]), /non-empty/);
    assert.throws(() => checkMethods([{ name: 'X', lossType: 'simpo', grid: {}, baseFrom: 'Y' }]), /listed before/);
  });

  test('cache keys ignore key order and see every value', () => {
    assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] }), '{"a":[1,{"c":3,"d":2}],"b":1}');
    assert.equal(cacheKey({ a: 1, b: 2 }), cacheKey({ b: 2, a: 1 }));
    assert.notEqual(cacheKey({ a: 1, b: 2 }), cacheKey({ a: 1, b: 3 }));
  });
});

describe('SVG charts', () => {
  test('ticks are round steps of 1, 2 or 5 × 10^k covering the range', () => {
    // (0.93 − 0) / 5 = 0.186 → step 0.2; (37 − 12) / 5 = 5 → step 5.
    assert.deepEqual(niceTicks(0, 0.93), [0, 0.2, 0.4, 0.6, 0.8]);
    assert.deepEqual(niceTicks(12, 37), [15, 20, 25, 30, 35]);
    assert.deepEqual(niceTicks(3, 3), [3]);
  });

  test('a chart has one marker per finite point, one line per connected series, escaped text', () => {
    const svg = svgChart(
      [
        {
          name: 'α<DPO>',
          line: true,
          points: [
            { x: 0, y: 0 },
            { x: 1, y: 1, label: 'a & b' },
            { x: 2, y: Number.NaN },
          ],
        },
        { name: 'seeds', line: false, points: [{ x: 0.5, y: 0.5 }] },
      ],
      { title: 'T', xLabel: 'x', yLabel: 'y', yReference: 0.5 },
    );
    assert.equal(svg.match(/<circle /g)?.length, 3);
    assert.equal(svg.match(/<polyline /g)?.length, 1);
    assert.ok(svg.includes('α&lt;DPO&gt;') && svg.includes('<title>a &amp; b</title>'));
    assert.equal(escapeXml('"<&>"'), '&quot;&lt;&amp;&gt;&quot;');
  });
});
