// The trainer's glue for unpaired losses, checked by hand on a 3-example batch: batchLogps must
// hand kto the log-probs of each example (prompt k, completion k) and of its KL row (prompt
// (k + 1) mod 3, completion k), here recomputed by scoring each of those six sequences alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evaluatePreferences,
  lossRequirements,
  PreferenceBatches,
  type TokenizedExample,
  type TokenizedPair,
  TrainConfigError,
  torch,
  type UnpairedLogps,
  unpairedRows,
} from '../src/index.js';
import { batchLogps } from '../src/train/batch-logps.js';
import { scoreBatch } from '../src/train/batch-scores.js';
import { tinyModel } from './helpers/tiny-training.js';

const example = (prompt: number[], completion: number[], label: boolean, i: number): TokenizedExample => ({
  prompt: Int32Array.from(prompt),
  completion: Int32Array.from(completion),
  label,
  source: { file: 'hand', index: i, line: i + 1 },
  metadata: {},
});

/** Σ log π(completion | prompt) of one sequence, scored alone (a batch of one pair with two equal sides). */
function alone(model: ReturnType<typeof tinyModel>, prompt: Int32Array, completion: Int32Array): number {
  const side = { prompt, completion };
  const pair: TokenizedPair = { chosen: side, rejected: side, source: { file: 'hand', index: 0, line: 1 }, metadata: {} };
  const batch = new PreferenceBatches([pair], { batchSize: 1, seed: 0, config: { shuffle: false } }).next();
  try {
    return torch.noGrad(() => torch.tidy(() => scoreBatch(model, batch, { tokens: false, wpo: false }).sums.toNumbers()[0] as number));
  } finally {
    batch.dispose();
  }
}

describe('batchLogps on unpaired rows', () => {
  test('3 examples: policy = the examples, policyKl = completion k after prompt (k + 1) mod 3, desirable = the labels', () => {
    const policy = tinyModel(11);
    const reference = tinyModel(12);
    const examples = [example([5, 6, 7], [20, 21], true, 0), example([8, 9], [22, 23, 24], false, 1), example([10], [25], true, 2)];
    const batch = new PreferenceBatches(unpairedRows(examples, 3, null), { batchSize: 3, seed: 0, config: { shuffle: false } }).next();
    try {
      const need = lossRequirements('kto', { beta: 0.1 });
      const got = torch.noGrad(() =>
        torch.tidy(() => {
          const l = batchLogps(policy, { model: reference }, batch, { ln: false, need }) as UnpairedLogps;
          return {
            policy: l.policy.toNumbers(),
            reference: l.reference!.toNumbers(),
            policyKl: l.policyKl!.toNumbers(),
            referenceKl: l.referenceKl!.toNumbers(),
            desirable: l.desirable.toNumbers(),
          };
        }),
      );
      assert.deepEqual(got.desirable, [1, 0, 1]);
      for (let k = 0; k < 3; k++) {
        const own = examples[k] as TokenizedExample;
        const other = examples[(k + 1) % 3] as TokenizedExample;
        const close = (a: number, e: number, what: string) =>
          assert.ok(Math.abs(a - e) <= 1e-5 * Math.max(1, Math.abs(e)), `${what}[${k}]: ${a} vs ${e}`);
        close(got.policy[k] as number, alone(policy, own.prompt, own.completion), 'policy');
        close(got.reference[k] as number, alone(reference, own.prompt, own.completion), 'reference');
        close(got.policyKl[k] as number, alone(policy, other.prompt, own.completion), 'policyKl');
        close(got.referenceKl[k] as number, alone(reference, other.prompt, own.completion), 'referenceKl');
      }
      // apo_zero_unpaired needs no KL rows: the models score the examples' rows only, with the same values.
      const apo = torch.noGrad(() =>
        torch.tidy(() => {
          const l = batchLogps(policy, { model: reference }, batch, {
            ln: false,
            need: lossRequirements('apo_zero_unpaired', { beta: 0.1 }),
          });
          const u = l as UnpairedLogps;
          return { policy: u.policy.toNumbers(), reference: u.reference!.toNumbers(), kl: u.policyKl === undefined };
        }),
      );
      assert.equal(apo.kl, true);
      apo.policy.forEach((v, k) => {
        assert.ok(Math.abs(v - (got.policy[k] as number)) < 1e-5, `apo policy[${k}]`);
      });
      apo.reference.forEach((v, k) => {
        assert.ok(Math.abs(v - (got.reference[k] as number)) < 1e-5, `apo reference[${k}]`);
      });
    } finally {
      batch.dispose();
      policy.dispose();
      reference.dispose();
    }
  });

  test('rows of the wrong kind are a TrainConfigError saying how to build them (pairs for kto, unpaired rows for sigmoid)', async () => {
    const policy = tinyModel(11);
    const examples = [example([5, 6], [20], true, 0), example([8], [22, 23], false, 1)];
    const rows = unpairedRows(examples, 2, null);
    const pairs = rows.map(({ label: _, ...pair }) => pair);
    try {
      await assert.rejects(
        evaluatePreferences(policy, { model: policy }, pairs, { loss_type: 'kto', loss: { beta: 0.1 }, ln: false, batchSize: 2 }),
        (e: unknown) =>
          e instanceof TrainConfigError &&
          /takes unpaired examples, but the evaluation rows are pairs: build them with unpairedRows/.test(e.message),
      );
      await assert.rejects(
        evaluatePreferences(policy, { model: policy }, rows, { loss_type: 'sigmoid', loss: { beta: 0.1 }, ln: false, batchSize: 2 }),
        (e: unknown) => e instanceof TrainConfigError && /rows are unpaired examples.*takes preference pairs/.test(e.message),
      );
    } finally {
      policy.dispose();
    }
  });
});
