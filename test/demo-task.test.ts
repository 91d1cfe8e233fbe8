// The demo's pieces: the sort task's gold reward (values worked out by hand from its formula),
// the annotators' noise, the tokenizer folder, responses from tokens, the SFT batches and loop,
// the on-policy pairs, and the evaluation's KL, win rate and held-out accuracy on cases whose
// answer is known without running anything.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { completionLogps } from '../src/demo/completion-logps.js';
import { initDemoModel } from '../src/demo/demo-model.js';
import { createDemoTokenizer, DEMO_IDS, DEMO_VOCAB } from '../src/demo/demo-tokenizer.js';
import { evaluatePolicy, heldOutRewardAccuracy, type PolicySamples, sampledLogRatios, samplePolicy } from '../src/demo/evaluate-policy.js';
import {
  goldReward,
  LETTERS,
  longestCommonSubsequence,
  noisyDemonstration,
  randomPrompt,
  sortedLetters,
} from '../src/demo/letter-sort-task.js';
import { buildOnPolicyPairs } from '../src/demo/on-policy-pairs.js';
import { sampleResponses } from '../src/demo/sampling.js';
import { sftBatch, supervisedFineTune } from '../src/demo/sft.js';
import { encodeCompletion, encodePrompt, NOT_A_LETTER, responseFromTokens } from '../src/demo/sort-responses.js';
import { meanWithInterval } from '../src/demo/summary-stats.js';
import { AutoModelForCausalLM, AutoTokenizer } from '../src/index.js';
import { SeededRandom } from '../src/random/seeded-random.js';
import { withTempDir } from './helpers/tmp-dir.js';

const [a, b, c, d] = [0, 1, 2, 3]; // indices into LETTERS
const SMALL = { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2 };

async function withTokenizer<T>(fn: (tokenizer: AutoTokenizer, dir: string) => Promise<T>): Promise<T> {
  return withTempDir('demo-test-', async (dir) => fn(await createDemoTokenizer(dir), dir));
}

describe('letter-sort task', () => {
  test('LCS: the textbook pair ABCBDAB / BDCABA has 4 (CLRS §15.4); empty and identical sequences', () => {
    const code = (s: string) => [...s].map((ch) => ch.charCodeAt(0));
    assert.equal(longestCommonSubsequence(code('ABCBDAB'), code('BDCABA')), 4);
    assert.equal(longestCommonSubsequence([], [1, 2]), 0);
    assert.equal(longestCommonSubsequence([3, 1, 2], [3, 1, 2]), 3);
  });

  test('gold reward of "d a c" (ideal "a c d", n = 3), by hand from (LCS − 0.5·extra)/n − 0.5·unfinished', () => {
    const prompt = [d, a, c];
    assert.deepEqual(sortedLetters(prompt), [a, c, d]);
    const reward = (letters: number[], finished = true) => goldReward(prompt, { letters, finished });
    assert.equal(reward([a, c, d]), 1); // perfect
    assert.equal(reward([a, c]), 2 / 3); // one letter missing
    assert.equal(reward([a, c, d, d]), (3 - 0.5) / 3); // one extra letter
    assert.equal(reward([d, a, c]), 2 / 3); // copied unsorted: LCS("dac", "acd") = 2 ("ac")
    assert.equal(reward([a, c, d], false), 0.5); // right letters, no EOS
    assert.equal(reward([]), 0);
    assert.equal(reward([NOT_A_LETTER, a, c, d]), (3 - 0.5) / 3); // a non-letter token is an extra token
  });

  test('demonstrations: no noise gives the sorted letters, copyUnsorted = 1 the prompt, drop = 1 nothing', () => {
    const rng = SeededRandom.forStream(5, 0);
    const prompt = [d, b, a, c, b];
    const none = { copyUnsorted: 0, drop: 0, repeat: 0, mistype: 0 };
    assert.deepEqual(noisyDemonstration(prompt, rng, none), [a, b, b, c, d]);
    assert.deepEqual(noisyDemonstration(prompt, rng, { ...none, copyUnsorted: 1 }), prompt);
    assert.deepEqual(noisyDemonstration(prompt, rng, { ...none, drop: 1 }), []);
    assert.deepEqual(noisyDemonstration(prompt, rng, { ...none, repeat: 1 }), [a, a, b, b, b, b, c, c, d, d]);
  });

  test('prompts: 3 to 8 letters, every letter and length drawn, reproducible from the seed', () => {
    const draw = () => {
      const rng = SeededRandom.forStream(11, 2);
      return Array.from({ length: 2000 }, () => randomPrompt(rng));
    };
    const prompts = draw();
    assert.deepEqual(prompts, draw());
    assert.deepEqual([...new Set(prompts.map((p) => p.length))].sort(), [3, 4, 5, 6, 7, 8]);
    assert.equal(new Set(prompts.flat()).size, LETTERS.length);
  });
});

describe('demo tokenizer', () => {
  test('a Hugging Face folder AutoTokenizer reads: 13 tokens, BOS added, letters one token each', async () => {
    await withTokenizer(async (tokenizer, dir) => {
      assert.equal(tokenizer.vocabSize, DEMO_VOCAB.length);
      assert.equal(DEMO_VOCAB.length, 13); // 4 special tokens, "=", 8 letters
      assert.deepEqual([tokenizer.padTokenId, tokenizer.bosTokenId, tokenizer.eosTokenId], [0, 1, 2]);
      // "d a c =" → <s>, d (5 + 3), a (5 + 0), c (5 + 2), "=" (4)
      assert.deepEqual(encodePrompt(tokenizer, [d, a, c]), [1, 8, 5, 7, 4]);
      assert.deepEqual(encodeCompletion(tokenizer, [a, c, d]), [5, 7, 8, 2]);
      assert.deepEqual(encodeCompletion(tokenizer, []), [2]);
      assert.equal(tokenizer.decode([5, 7, 8, 2], { skipSpecialTokens: true }), 'a c d');
      const reloaded = await AutoTokenizer.fromPretrained(dir);
      assert.deepEqual(reloaded.encode('b a ='), [1, 6, 5, 4]);
    });
  });

  test('responses from generated tokens: EOS last means finished; non-letters are marked', () => {
    assert.deepEqual(responseFromTokens([5, 7, 8, DEMO_IDS.eos]), { letters: [a, c, d], finished: true });
    assert.deepEqual(responseFromTokens([5, DEMO_IDS.answerMark, DEMO_IDS.bos]), {
      letters: [a, NOT_A_LETTER, NOT_A_LETTER],
      finished: false,
    });
    assert.deepEqual(responseFromTokens([DEMO_IDS.eos]), { letters: [], finished: true });
  });
});

describe('SFT', () => {
  test('batches: prompt and padding labels are −100, completion labels are the ids', async () => {
    await withTokenizer(async (tokenizer) => {
      const { ids, labels } = sftBatch(tokenizer, SeededRandom.forStream(3, 1), 16);
      assert.equal(ids.length, 16);
      ids.forEach((row, r) => {
        const label = labels[r] as number[];
        const answerAt = row.indexOf(DEMO_IDS.answerMark);
        assert.equal(row[0], DEMO_IDS.bos);
        assert.ok(
          label.slice(0, answerAt + 1).every((x) => x === -100),
          'prompt positions are ignored',
        );
        const eosAt = row.indexOf(DEMO_IDS.eos);
        assert.ok(eosAt > answerAt);
        assert.deepEqual(label.slice(answerAt + 1, eosAt + 1), row.slice(answerAt + 1, eosAt + 1));
        assert.ok(
          label.slice(eosAt + 1).every((x) => x === -100),
          'padding is ignored',
        );
        assert.ok(row.slice(eosAt + 1).every((x) => x === DEMO_IDS.pad));
      });
    });
  });

  test('60 steps from scratch bring the completion cross-entropy well below a uniform guess (ln 13 ≈ 2.565 nats)', async () => {
    await withTokenizer(async (tokenizer) => {
      const model = initDemoModel(SMALL, 0);
      const result = supervisedFineTune(model, tokenizer, {
        steps: 60,
        batchSize: 32,
        learningRate: 3e-3,
        warmupRatio: 0.05,
        weightDecay: 0.01,
        maxGradNorm: 1,
        seed: 0,
      });
      model.dispose();
      assert.ok(result.firstLoss > 2, `first loss ${result.firstLoss}`);
      assert.ok(result.lastLoss < 1.8, `last loss ${result.lastLoss}`);
    });
  });
});

describe('on-policy pairs and evaluation', () => {
  test('each pair is the best and the worst of the same samples, by gold reward', async () => {
    await withTokenizer(async (tokenizer) => {
      const model = initDemoModel(SMALL, 1);
      const rng = SeededRandom.forStream(1, 2);
      const prompts = Array.from({ length: 24 }, () => randomPrompt(rng));
      const ids = prompts.map((p) => encodePrompt(tokenizer, p));
      const options = { samplesPerPrompt: 4, maxNewTokens: 16, seed: 9 };
      const built = buildOnPolicyPairs(model, prompts, ids, { ...options, split: 'train' });
      const samples = sampleResponses(model, ids, options); // same seed: the same samples
      model.dispose();
      assert.equal(built.pairs.length + built.tiedPrompts, prompts.length);
      for (const pair of built.pairs) {
        const i = pair.source.index;
        const rewards = (samples[i] as number[][]).map((t) => goldReward(prompts[i] as number[], responseFromTokens(t)));
        assert.equal(pair.metadata['gold_chosen'], Math.max(...rewards));
        assert.equal(pair.metadata['gold_rejected'], Math.min(...rewards));
        assert.ok((pair.metadata['gold_chosen'] as number) > (pair.metadata['gold_rejected'] as number));
        assert.deepEqual([...pair.chosen.prompt], ids[i]);
        const chosenReward = goldReward(prompts[i] as number[], responseFromTokens([...pair.chosen.completion]));
        assert.equal(chosenReward, pair.metadata['gold_chosen']);
      }
    });
  });

  test('the SFT model against itself: KL estimate exactly 0, DPO rewards all 0 so no pair ranks chosen first', async () => {
    await withTokenizer(async (tokenizer) => {
      const model = initDemoModel(SMALL, 2);
      const rng = SeededRandom.forStream(2, 2);
      const prompts = Array.from({ length: 16 }, () => randomPrompt(rng));
      const ids = prompts.map((p) => encodePrompt(tokenizer, p));
      const samples = samplePolicy(model, prompts, ids, { samplesPerPrompt: 2, maxNewTokens: 16, seed: 4 });
      assert.deepEqual(sampledLogRatios(model, model, ids, samples), new Array<number>(32).fill(0));
      const { pairs } = buildOnPolicyPairs(model, prompts, ids, { samplesPerPrompt: 4, maxNewTokens: 16, seed: 5, split: 'held_out' });
      assert.ok(pairs.length > 0);
      const dpo = { lossType: 'sigmoid' as const, config: { beta: 0.1 }, ln: false, needsReference: true };
      assert.equal(heldOutRewardAccuracy(model, model, pairs, dpo), 0);
      // SimPO's reward is β·(mean log-prob): its accuracy is the share of pairs whose chosen mean log-prob is larger.
      const simpo = { lossType: 'simpo' as const, config: { beta: 2.5, gamma_beta_ratio: 0.3 }, ln: true, needsReference: false };
      const chosen = completionLogps(
        model,
        pairs.map((p) => p.chosen),
        { average: true },
      );
      const rejected = completionLogps(
        model,
        pairs.map((p) => p.rejected),
        { average: true },
      );
      const expected = chosen.filter((x, i) => Math.fround(2.5 * x) > Math.fround(2.5 * (rejected[i] as number))).length / pairs.length;
      assert.equal(heldOutRewardAccuracy(model, model, pairs, simpo), expected);
      model.dispose();
    });
  });

  test('win rate: a policy whose samples are the SFT samples wins exactly half (every comparison a tie)', async () => {
    await withTokenizer(async (tokenizer) => {
      const model = initDemoModel(SMALL, 3);
      const prompts = [
        [d, a, c],
        [b, b, a, d],
      ];
      const ids = prompts.map((p) => encodePrompt(tokenizer, p));
      const samples: PolicySamples = samplePolicy(model, prompts, ids, { samplesPerPrompt: 3, maxNewTokens: 16, seed: 1 });
      const sftRow = evaluatePolicy({
        policy: model,
        sft: model,
        promptIds: ids,
        samples,
        sftSamples: samples,
        heldOutPairs: [],
        loss: null,
      });
      assert.equal(sftRow.winRate, null);
      const same = evaluatePolicy({
        policy: model,
        sft: model,
        promptIds: ids,
        samples,
        sftSamples: samples,
        heldOutPairs: [],
        loss: { lossType: 'simpo', config: { beta: 2.5, gamma_beta_ratio: 0.3 }, ln: true, needsReference: false },
      });
      model.dispose();
      assert.equal(same.winRate?.mean, 0.5);
      assert.equal(same.kl.mean, 0);
      assert.ok(Number.isNaN(same.heldOutAccuracy as number), 'no held-out pairs: NaN, not a made-up number');
    });
  });

  test('mean with 95% interval: [1, 2, 3, 4] → 2.5 ± 1.96·sd/√4, sd = √(5/3)', () => {
    const m = meanWithInterval([1, 2, 3, 4]);
    assert.equal(m.mean, 2.5);
    assert.ok(Math.abs(m.halfWidth95 - (1.959963984540054 * Math.sqrt(5 / 3)) / 2) < 1e-12);
    assert.equal(meanWithInterval([7]).halfWidth95, 0);
  });
});

describe('demo model', () => {
  test('saved and reloaded weights give the same log-probs (every policy starts from the same SFT weights)', async () => {
    await withTokenizer(async (tokenizer, dir) => {
      const model = initDemoModel(SMALL, 4);
      await model.savePretrained(join(dir, 'model'), { tokenizer });
      const copy = await AutoModelForCausalLM.fromPretrained(join(dir, 'model'));
      const rows = [{ prompt: encodePrompt(tokenizer, [c, a]), completion: encodeCompletion(tokenizer, [a, c]) }];
      assert.deepEqual(completionLogps(copy, rows, { average: false }), completionLogps(model, rows, { average: false }));
      model.dispose();
      copy.dispose();
    });
  });
});
