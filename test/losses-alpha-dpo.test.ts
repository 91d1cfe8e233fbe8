// α-DPO: sequences of batches against PyTorch (losses.json, scripts/fixtures/gen_losses.py, which
// runs the reference's update-before-use EMA in plain Python), the EMA by hand, the invariants the
// spec states (docs/alpha-dpo.md), the σ = 0 guard, and the state's JSON round trip.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlphaDpoState,
  LossInputError,
  type PreferenceLogps,
  type PreferenceLossConfig,
  preferenceLoss,
  type Tensor,
} from '../src/index.js';
import { expectClose, expectMetrics, FIELD, f64, fixture, SIDES } from './losses-fixture.js';

function batchInputs(inputs: Record<(typeof SIDES)[number], number[]>): { logps: PreferenceLogps; leaves: Map<string, Tensor> } {
  const leaves = new Map(SIDES.map((side) => [side, f64(inputs[side], true)] as const));
  return { logps: Object.fromEntries(SIDES.map((side) => [FIELD[side], leaves.get(side)])) as unknown as PreferenceLogps, leaves };
}

/** A batch whose gap is g: Δπ = g (policyChosen = g, the rest 0), Δref = 0. */
function gapBatch(gaps: readonly number[], requiresGrad = false): PreferenceLogps {
  const zeros = gaps.map(() => 0);
  return {
    policyChosen: f64(gaps, requiresGrad),
    policyRejected: f64(zeros, requiresGrad),
    referenceChosen: f64(zeros),
    referenceRejected: f64(zeros),
  };
}

const softplus = (x: number) => Math.log1p(Math.exp(x));

describe('alpha-dpo against PyTorch over several batches', () => {
  for (const sequence of fixture.alpha_dpo) {
    test(sequence.name, () => {
      const state = new AlphaDpoState();
      sequence.batches.forEach((batch, k) => {
        const { logps, leaves } = batchInputs(batch.inputs);
        const out = preferenceLoss('alpha-dpo', logps, sequence.config, state, { training: batch.training });
        const what = `batch ${k}`;
        expectClose(out.losses, batch.losses, `${what} losses`);
        expectClose(out.chosenRewards, batch.chosen_rewards, `${what} chosenRewards`);
        expectClose(out.rejectedRewards, batch.rejected_rewards, `${what} rejectedRewards`);
        expectMetrics(out.metrics, batch.metrics, what);
        assert.equal(state.steps, batch.state.steps, `${what} steps`);
        expectClose(
          [state.mean, state.std, state.variance],
          [batch.state.mean, batch.state.std, batch.state.variance],
          `${what} running mean, std, variance`,
        );
        out.losses.mean().backward();
        for (const side of SIDES) {
          const expected = batch.grads[side];
          if (expected === undefined) assert.equal(leaves.get(side)!.grad, null, `${what}: ${side} must get no gradient`);
          else expectClose(leaves.get(side)!.grad!, expected, `${what} grad ${side}`);
        }
      });
    });
  }
});

describe('alpha-dpo running statistics', () => {
  // Gaps chosen so each batch's mean and unbiased std are exact: [1,2,3] → (2, 1); [2,4,6] → (4, 2);
  // [−1,0,1] → (0, 1); [5,5,5] → (5, 0); [1,3,5] → (3, 2).
  const batches = [
    [1, 2, 3],
    [2, 4, 6],
    [-1, 0, 1],
    [5, 5, 5],
    [1, 3, 5],
  ];
  // μ_k = 0.9·μ_{k−1} + 0.1·mean_k and σ_k = 0.9·σ_{k−1} + 0.1·std_k from μ_0 = σ_0 = 0:
  //   μ: 0.2, 0.18 + 0.4 = 0.58, 0.522 + 0 = 0.522, 0.4698 + 0.5 = 0.9698, 0.87282 + 0.3 = 1.17282
  //   σ: 0.1, 0.09 + 0.2 = 0.29, 0.261 + 0.1 = 0.361, 0.3249 + 0 = 0.3249, 0.29241 + 0.2 = 0.49241
  const means = [0.2, 0.58, 0.522, 0.9698, 1.17282];
  const stds = [0.1, 0.29, 0.361, 0.3249, 0.49241];
  const config: PreferenceLossConfig = { beta: 2, alpha: 0.5, gamma_beta_ratio: 0.25, normalization: 'ema' };

  test('five batches follow the hand-computed EMA, updated before use', () => {
    const state = new AlphaDpoState();
    batches.forEach((gaps, k) => {
      const out = preferenceLoss('alpha-dpo', gapBatch(gaps), config, state);
      expectClose([state.mean, state.std], [means[k]!, stds[k]!], `after batch ${k + 1}`, 1e-12);
      assert.equal(state.steps, k + 1);
      // Loss uses the statistics after this batch's update: m = 0.25 + 0.5·(g − μ_k)/σ_k, loss = softplus(−2·(g − m)).
      const expected = gaps.map((g) => softplus(-2 * (g - (0.25 + (0.5 * (g - means[k]!)) / stds[k]!))));
      expectClose(out.losses, expected, `losses of batch ${k + 1}`, 1e-12);
      expectClose(out.metrics['gap/running_mean']!, means[k]!, 'gap/running_mean', 1e-12);
    });
  });

  test("'ema-debiased' divides by 1 − 0.9^t", () => {
    const state = new AlphaDpoState();
    let out = preferenceLoss('alpha-dpo', gapBatch(batches[0]!), { ...config, normalization: 'ema-debiased' }, state);
    for (const gaps of batches.slice(1))
      out = preferenceLoss('alpha-dpo', gapBatch(gaps), { ...config, normalization: 'ema-debiased' }, state);
    // t = 5: μ̂ = 1.17282/(1 − 0.59049) = 1.17282/0.40951, σ̂ = 0.49241/0.40951; margins for g = 1, 3, 5.
    const mu = 1.17282 / 0.40951;
    const sd = 0.49241 / 0.40951;
    expectClose(
      out.losses,
      [1, 3, 5].map((g) => softplus(-2 * (g - (0.25 + (0.5 * (g - mu)) / sd)))),
      'losses',
      1e-12,
    );
  });

  test('evaluation leaves the statistics alone unless update_stats_in_eval', () => {
    const state = new AlphaDpoState();
    preferenceLoss('alpha-dpo', gapBatch(batches[0]!), config, state);
    const before = state.toJSON();
    preferenceLoss('alpha-dpo', gapBatch(batches[1]!), config, state, { training: false });
    assert.deepEqual(state.toJSON(), before);
    preferenceLoss('alpha-dpo', gapBatch(batches[1]!), { ...config, update_stats_in_eval: true }, state, { training: false });
    expectClose([state.mean, state.std], [0.58, 0.29], 'reference behaviour: eval batches update', 1e-12);
  });

  test("'batch' and 'none' need no state and leave a given one alone", () => {
    const state = new AlphaDpoState({ mean: 0.3, std: 0.2, steps: 4 });
    // 'batch': z-score within [1, 2, 3] is [−1, 0, 1]; 'none': z = g.
    const batch = preferenceLoss('alpha-dpo', gapBatch([1, 2, 3]), { ...config, normalization: 'batch' }, state);
    expectClose(batch.metrics['margin/min']!, 0.25 - 0.5, "'batch' margin/min");
    const none = preferenceLoss('alpha-dpo', gapBatch([1, 2, 3]), { ...config, normalization: 'none' });
    expectClose(none.metrics['margin/max']!, 0.25 + 0.5 * 3, "'none' margin/max");
    assert.deepEqual(state.toJSON(), { kind: 'alpha-dpo-state', version: 2, mean: 0.3, std: 0.2, variance: 0, steps: 4 });
  });

  test('the state round-trips through JSON and resumes the same sequence', () => {
    const a = new AlphaDpoState();
    preferenceLoss('alpha-dpo', gapBatch(batches[0]!), config, a);
    preferenceLoss('alpha-dpo', gapBatch(batches[1]!), config, a);
    const b = AlphaDpoState.fromJSON(JSON.parse(JSON.stringify(a)));
    const outA = preferenceLoss('alpha-dpo', gapBatch(batches[2]!), config, a);
    const outB = preferenceLoss('alpha-dpo', gapBatch(batches[2]!), config, b);
    assert.deepEqual(outB.losses.toNumbers(), outA.losses.toNumbers());
    assert.deepEqual(b.toJSON(), a.toJSON());
    assert.throws(() => AlphaDpoState.fromJSON({ kind: 'alpha-dpo-state', version: 1, mean: 'x', std: 0, steps: 0 }), LossInputError);
    assert.throws(() => AlphaDpoState.fromJSON({ mean: 0, std: 0, steps: 0 }), /kind: 'alpha-dpo-state'/);
    assert.throws(() => new AlphaDpoState({ std: -1 }), /AlphaDpoState.std/);
  });
});

describe('alpha-dpo invariants', () => {
  const avg = fixture.inputs.avg;
  const inputs = (requiresGrad: boolean): PreferenceLogps => ({
    policyChosen: f64(avg.policy_chosen, requiresGrad),
    policyRejected: f64(avg.policy_rejected, requiresGrad),
    referenceChosen: f64(avg.reference_chosen, requiresGrad),
    referenceRejected: f64(avg.reference_rejected, requiresGrad),
  });
  const config: PreferenceLossConfig = { beta: 2.5, alpha: 0.2, gamma_beta_ratio: 0.6 };

  test('alpha = 0 is SimPO exactly (losses and gradients bit for bit)', () => {
    for (const normalization of ['ema-moments', 'ema', 'ema-debiased', 'batch', 'none'] as const) {
      const a = inputs(true);
      const s = inputs(true);
      const alpha = preferenceLoss('alpha-dpo', a, { ...config, alpha: 0, normalization }, new AlphaDpoState());
      const simpo = preferenceLoss(
        'simpo',
        { policyChosen: s.policyChosen, policyRejected: s.policyRejected },
        { beta: 2.5, gamma_beta_ratio: 0.6 },
      );
      assert.deepEqual(alpha.losses.toNumbers(), simpo.losses.toNumbers(), normalization);
      alpha.losses.mean().backward();
      simpo.losses.mean().backward();
      assert.deepEqual(a.policyChosen.grad!.toNumbers(), s.policyChosen.grad!.toNumbers());
      assert.deepEqual(a.policyRejected.grad!.toNumbers(), s.policyRejected.grad!.toNumbers());
    }
  });

  test('no gradient reaches the reference; the policy gradient is the SimPO gradient reweighted by σ(−logit)', () => {
    // With ε = 0, ℓ_i = −log σ(u_i), u_i = β·(Δπ_i − m_i) and m_i constant (stop-gradient), so
    //   ∂(mean ℓ)/∂ℓθ(y_w,i) = −(β/B)·σ(−u_i) = −∂(mean ℓ)/∂ℓθ(y_l,i),
    // and σ(−u_i) = 1 − e^{−ℓ_i} because σ(u_i) = e^{−ℓ_i}. SimPO is the same with m_i = γ_r, so
    //   ∇α-DPO_i = ∇SimPO_i · σ(−u_i^α)/σ(−u_i^SimPO): the same direction, reweighted per pair.
    const a = inputs(true);
    const out = preferenceLoss('alpha-dpo', a, config, new AlphaDpoState());
    out.losses.mean().backward();
    assert.ok(a.referenceChosen!.grad === null && a.referenceRejected!.grad === null, 'reference log-probs must get no gradient');
    const s = inputs(true);
    const simpo = preferenceLoss(
      'simpo',
      { policyChosen: s.policyChosen, policyRejected: s.policyRejected },
      { beta: 2.5, gamma_beta_ratio: 0.6 },
    );
    simpo.losses.mean().backward();
    const B = 6;
    const weightAlpha = out.losses.toNumbers().map((l) => 1 - Math.exp(-l));
    const weightSimpo = simpo.losses.toNumbers().map((l) => 1 - Math.exp(-l));
    expectClose(
      a.policyChosen.grad!,
      weightAlpha.map((w) => (-2.5 / B) * w),
      'grad chosen = −(β/B)·σ(−u)',
    );
    expectClose(
      a.policyRejected.grad!,
      weightAlpha.map((w) => (2.5 / B) * w),
      'grad rejected = +(β/B)·σ(−u)',
    );
    const simpoGrad = s.policyChosen.grad!.toNumbers();
    expectClose(
      a.policyChosen.grad!,
      simpoGrad.map((g, i) => (g * weightAlpha[i]!) / weightSimpo[i]!),
      'SimPO gradient reweighted',
    );
  });

  test('logged rewards are β·[(1 − α)·ℓθ + α·ℓref]', () => {
    const out = preferenceLoss('alpha-dpo', inputs(false), config, new AlphaDpoState());
    expectClose(
      out.chosenRewards,
      avg.policy_chosen.map((p, i) => 2.5 * (0.8 * p + 0.2 * avg.reference_chosen[i]!)),
      'chosen',
    );
    expectClose(
      out.rejectedRewards,
      avg.policy_rejected.map((p, i) => 2.5 * (0.8 * p + 0.2 * avg.reference_rejected[i]!)),
      'rejected',
    );
  });

  test('identical gaps (σ = 0) and one-pair batches give finite values in every normalization', () => {
    for (const normalization of ['ema-moments', 'ema', 'ema-debiased', 'batch', 'none'] as const) {
      const state = new AlphaDpoState();
      const cases = [
        gapBatch([0, 0, 0, 0]), // policy = reference at step 1: the reference's 0/0
        gapBatch([0.3, 0.3, 0.3]), // identical non-zero gaps
        gapBatch([0.2]), // one pair: unbiased std undefined, taken as 0
        gapBatch([-0.1]),
      ];
      for (const [k, logps] of cases.entries()) {
        const out = preferenceLoss('alpha-dpo', logps, { ...config, normalization }, state);
        for (const v of [...out.losses.toNumbers(), ...Object.values(out.metrics), state.mean, state.std]) {
          assert.ok(Number.isFinite(v), `${normalization}, batch ${k}: ${v}`);
        }
      }
    }
  });

  test("σ = 0 with g = μ gives z = 0 (margin γ_r); 'ema' uses the eps floor only below 1e-6", () => {
    // Step 1 with all gaps 0: μ = σ = 0, z = 0/max(0, 1e-6) = 0, so the loss is SimPO's: softplus(−2.5·(0 − 0.6)).
    const out = preferenceLoss('alpha-dpo', gapBatch([0, 0, 0]), { ...config, normalization: 'ema' }, new AlphaDpoState());
    expectClose(
      out.losses,
      [0, 0, 0].map(() => softplus(2.5 * 0.6)),
      'losses',
      1e-12,
    );
    // σ slightly above eps is used as is: state σ = 2e-6 (raw), gap 1e-6 above μ → z = 0.5.
    const state = new AlphaDpoState({ mean: 0, std: 2e-6, steps: 3 });
    const eval1 = preferenceLoss('alpha-dpo', gapBatch([1e-6, 1e-6]), { ...config, normalization: 'ema' }, state, { training: false });
    expectClose(eval1.metrics['margin/mean']!, 0.6 + 0.2 * 0.5, 'margin with σ = 2e-6', 1e-9);
    // Below eps the floor applies: σ = 1e-7 → z = 1e-6/1e-6 = 1.
    const tiny = new AlphaDpoState({ mean: 0, std: 1e-7, steps: 3 });
    const eval2 = preferenceLoss('alpha-dpo', gapBatch([1e-6, 1e-6]), { ...config, normalization: 'ema' }, tiny, { training: false });
    expectClose(eval2.metrics['margin/mean']!, 0.6 + 0.2 * 1, 'margin with σ floored at eps', 1e-9);
  });

  test('the state is required for ema and untouched by a rejected batch', () => {
    assert.throws(
      () => preferenceLoss('alpha-dpo', gapBatch([1, 2]), config),
      (e: unknown) => e instanceof LossInputError && e.field === 'state',
    );
    const state = new AlphaDpoState();
    const bad = gapBatch([1, Number.NaN]);
    assert.throws(() => preferenceLoss('alpha-dpo', bad, config, state), /logps.policyChosen\[1\]/);
    assert.equal(state.steps, 0);
  });

  test('σ(u) form: the loss of a pair is softplus(−β·(Δπ − m)) with m from the metrics', () => {
    // One pair in 'none' mode: z = g = Δπ − Δref, m = γ_r + α·g.
    const logps: PreferenceLogps = {
      policyChosen: f64([-1]),
      policyRejected: f64([-1.5]),
      referenceChosen: f64([-1.2]),
      referenceRejected: f64([-1.4]),
    };
    const out = preferenceLoss('alpha-dpo', logps, { ...config, normalization: 'none' });
    const g = 0.5 - 0.2;
    const m = 0.6 + 0.2 * g;
    expectClose(out.losses, [softplus(-2.5 * (0.5 - m))], 'loss', 1e-12);
    expectClose(out.metrics['margin/mean']!, m, 'margin', 1e-12);
  });
});
