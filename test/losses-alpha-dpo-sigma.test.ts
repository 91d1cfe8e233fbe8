// α-DPO when the running σ is 0 or tiny (issue 10): one-pair micro-batches, identical gaps, an
// evaluation before the statistics have any spread. The default 'ema-moments' keeps z a real
// z-score; the reference 'ema' stays reachable and warns. Expected numbers are derived by hand in
// the comments, or by the direct (non-recursive) weighted-mixture formula of mixtureZ below.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlphaDpoState,
  LossConfigError,
  NonFiniteLossError,
  type PreferenceLogps,
  type PreferenceLossConfig,
  preferenceLoss,
  torch,
} from '../src/index.js';
import { expectClose, f64, fixture } from './losses-fixture.js';

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

/** softplus(x) = log(1 + eˣ), without overflow for large x. */
const softplus = (x: number) => (x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * The z-scores 'ema-moments' should give the last batch of `batches`, computed directly: batch t
 * of T weighted (1 − m)·m^(T−t)/(1 − m^T), shared equally by its pairs; μ and σ² the weighted mean
 * and variance of all those gaps. (The implementation uses a recurrence; this is the definition.)
 */
function mixtureZ(batches: readonly (readonly number[])[], m = 0.9, eps = 1e-6): number[] {
  const T = batches.length;
  const weighted = batches.flatMap((gaps, k) => gaps.map((g) => [g, ((1 - m) * m ** (T - 1 - k)) / (1 - m ** T) / gaps.length] as const));
  const mu = weighted.reduce((s, [g, w]) => s + w * g, 0);
  const sigma = Math.sqrt(weighted.reduce((s, [g, w]) => s + w * (g - mu) ** 2, 0));
  return (batches[T - 1] as readonly number[]).map((g) => (g - mu) / Math.max(sigma, eps));
}

const config: PreferenceLossConfig = { beta: 2, alpha: 0.5, gamma_beta_ratio: 0.25 };
const reference: PreferenceLossConfig = { ...config, normalization: 'ema' };
/** The loss of a pair with gap g (Δπ = g) and z-score z under `config`: softplus(−2·(g − 0.25 − 0.5·z)). */
const lossOf = (g: number, z: number) => softplus(-2 * (g - 0.25 - 0.5 * z));

describe('alpha-dpo with one pair per micro-batch', () => {
  test("'ema-moments' (default): gaps 1, 3, 2 give z = 0, 3/√10, −9/√46260 (by hand)", () => {
    // m = 0.9. Step 1: one gap, μ = 1, σ = 0, z = 0/eps = 0.
    // Step 2: weights 0.09/0.19 = 9/19 (g = 1) and 0.1/0.19 = 10/19 (g = 3): μ = 39/19,
    //   σ² = (9/19)(10/19)(3 − 1)² = 360/361, z = (3 − 39/19)/(6√10/19) = 3/√10 = 0.9487.
    // Step 3: weights 81/271, 90/271, 100/271 for g = 1, 3, 2: μ = 551/271,
    //   σ² = 1291/271 − (551/271)² = 46260/73441, z = (2 − 551/271)·271/√46260 = −9/√46260 = −0.04184.
    const state = new AlphaDpoState();
    const expected = [
      { g: 1, z: 0, mu: 1, variance: 0 },
      { g: 3, z: 3 / Math.sqrt(10), mu: 39 / 19, variance: 360 / 361 },
      { g: 2, z: -9 / Math.sqrt(46260), mu: 551 / 271, variance: 46260 / 73441 },
    ];
    for (const [k, e] of expected.entries()) {
      const out = preferenceLoss('alpha-dpo', gapBatch([e.g]), config, state);
      expectClose(out.losses, [lossOf(e.g, e.z)], `step ${k + 1} loss`, 1e-12);
      expectClose(out.metrics['margin/mean']!, 0.25 + 0.5 * e.z, `step ${k + 1} margin`, 1e-12);
      expectClose(out.metrics['gap/running_mean']!, e.mu, `step ${k + 1} μ`, 1e-12);
      expectClose(out.metrics['gap/running_std']!, Math.sqrt(e.variance), `step ${k + 1} σ`, 1e-12);
      expectClose(state.variance, e.variance, `step ${k + 1} state.variance`, 1e-12);
      assert.deepEqual(out.warnings, [], `step ${k + 1}: no warning`);
    }
  });

  test("the reference 'ema' on the same gaps divides by eps and warns at every step", () => {
    // Step 1: μ = 0.1·1 = 0.1, σ = 0.1·std(one value) = 0, z = (1 − 0.1)/1e-6 = 9e5, margin 0.25 + 4.5e5,
    // loss = softplus(−2·(1 − 450000.25)) = 899998.5: the degenerate numbers issue 10 reports.
    const state = new AlphaDpoState();
    const out = preferenceLoss('alpha-dpo', gapBatch([1]), reference, state);
    expectClose(out.losses, [899998.5], 'step 1 loss', 1e-9);
    assert.equal(out.warnings.length, 1);
    assert.equal(out.warnings[0]!.code, 'alpha-dpo/sigma-at-eps');
    assert.match(out.warnings[0]!.message, /σ of the gap is 0 ≤ eps 1e-6 .* reaches 900000 .*'ema-moments'/);
    // Step 2: μ = 0.09 + 0.3 = 0.39, σ still 0: z = (3 − 0.39)/1e-6 = 2.61e6.
    const out2 = preferenceLoss('alpha-dpo', gapBatch([3]), reference, state);
    expectClose(out2.losses, [lossOf(3, 2.61e6)], 'step 2 loss', 1e-9);
    assert.equal(out2.warnings.length, 1);
  });

  test('eight one-pair micro-batches: the default stays O(1) where the reference reaches 10⁴ (fixture sequences)', () => {
    // Both sequences are in losses.json, computed by scripts/fixtures/gen_losses.py; here we check the
    // warnings and the size of the numbers, which the fixture test does not.
    const find = (name: string) => fixture.alpha_dpo.find((s) => s.name === name)!;
    for (const [name, expectWarnings] of [
      ['ema, one-pair batches from the start (degenerate)', true],
      ['ema-moments, one-pair batches', false],
    ] as const) {
      const sequence = find(name);
      const state = new AlphaDpoState();
      const losses: number[] = [];
      let warned = 0;
      for (const batch of sequence.batches) {
        const logps = {
          policyChosen: f64(batch.inputs.policy_chosen),
          policyRejected: f64(batch.inputs.policy_rejected),
          referenceChosen: f64(batch.inputs.reference_chosen),
          referenceRejected: f64(batch.inputs.reference_rejected),
        };
        const out = preferenceLoss('alpha-dpo', logps, sequence.config, state);
        expectClose(out.losses, batch.losses, name);
        losses.push(...out.losses.toNumbers());
        warned += out.warnings.length;
      }
      if (expectWarnings) {
        // Reference: losses 0, 11790.9, 40975.1, 50422.9, 27305.6, 0, 0, 9170.0 (z = ±10⁴ every step).
        assert.ok(Math.max(...losses) > 1e4, `${name}: max loss ${Math.max(...losses)}`);
        assert.equal(warned, 8, `${name}: one warning per micro-batch`);
      } else {
        // Default: 1.332, 1.631, 1.685, 1.649, 1.395, 1.022, 0.963, 1.236 — SimPO-sized.
        assert.ok(Math.max(...losses) < 2 && Math.min(...losses) > 0.5, `${name}: losses ${losses}`);
        assert.equal(warned, 0, `${name}: no warning`);
      }
    }
  });

  test('|z| ≤ √(B·(1 − m^t)/(1 − m)) under the default, whatever the gaps', () => {
    // This batch's pairs carry weight a/B each, a = (1 − m)/(1 − m^t), in the variance σ² = Σ w·(g − μ)²,
    // so σ² ≥ (a/B)·(g_i − μ)² and |z_i| ≤ √(B/a). Gaps jumping over four orders of magnitude:
    for (const B of [1, 4]) {
      for (const m of [0.9, 0.99]) {
        const state = new AlphaDpoState();
        for (let t = 1; t <= 40; t++) {
          const gaps = Array.from({ length: B }, (_, i) => Math.sin(7 * t + i) * 10 ** ((t % 5) - 2));
          const out = preferenceLoss('alpha-dpo', gapBatch(gaps), { ...config, ema_momentum: m }, state);
          const zMax = Math.max(Math.abs(out.metrics['margin/max']! - 0.25), Math.abs(out.metrics['margin/min']! - 0.25)) / 0.5;
          const bound = Math.sqrt((B * (1 - m ** t)) / (1 - m));
          assert.ok(zMax <= bound + 1e-9, `B ${B}, m ${m}, step ${t}: |z| ${zMax} > ${bound}`);
          assert.deepEqual(out.warnings, []);
        }
      }
    }
  });

  test('α = 0 is SimPO bit for bit with one-pair batches under the default', () => {
    const state = new AlphaDpoState();
    for (const g of [0.02, -0.01, 0.05, 0]) {
      const alphaDpo = preferenceLoss('alpha-dpo', gapBatch([g]), { ...config, alpha: 0 }, state);
      const simpo = preferenceLoss('simpo', { policyChosen: f64([g]), policyRejected: f64([0]) }, { beta: 2, gamma_beta_ratio: 0.25 });
      assert.deepEqual(alphaDpo.losses.toNumbers(), simpo.losses.toNumbers(), `g = ${g}`);
    }
  });
});

describe('alpha-dpo with identical gaps', () => {
  test("the default gives z = 0 (SimPO's loss) without a warning; 'ema' gives z = 0.9·0.3/eps and warns", () => {
    // 'ema-moments': every gap seen is 0.3, so μ = 0.3 and σ = 0: z = 0 up to rounding (|0.3 − μ| ≤ 1e-16),
    // loss = softplus(−2·(0.3 − 0.25)) = softplus(−0.1).
    const state = new AlphaDpoState();
    for (let step = 1; step <= 2; step++) {
      const out = preferenceLoss('alpha-dpo', gapBatch([0.3, 0.3, 0.3]), config, state);
      expectClose(
        out.losses,
        [0.3, 0.3, 0.3].map(() => softplus(-0.1)),
        `step ${step}`,
        1e-9,
      );
      assert.deepEqual(out.warnings, []);
    }
    // 'ema': μ = 0.03, σ = 0.1·0 = 0, z = 0.27/1e-6 = 2.7e5.
    const ref = preferenceLoss('alpha-dpo', gapBatch([0.3, 0.3, 0.3]), reference, new AlphaDpoState());
    expectClose(ref.metrics['margin/mean']!, 0.25 + 0.5 * 2.7e5, "'ema' margin", 1e-9);
    assert.equal(ref.warnings[0]?.code, 'alpha-dpo/sigma-at-eps');
  });

  test('all gaps 0 (policy = reference at step 1) give z = 0 in every normalization, with no warning', () => {
    for (const normalization of ['ema-moments', 'ema', 'ema-debiased', 'batch'] as const) {
      const out = preferenceLoss('alpha-dpo', gapBatch([0, 0]), { ...config, normalization }, new AlphaDpoState());
      // z = 0/eps = 0 → loss softplus(−2·(0 − 0.25)) = softplus(0.5).
      expectClose(out.losses, [softplus(0.5), softplus(0.5)], normalization, 1e-12);
      assert.deepEqual(out.warnings, [], normalization);
    }
  });
});

describe('alpha-dpo evaluation before the statistics have a spread', () => {
  // Issue 10's early evaluation: with warm-up the learning rate is 0 at step 1, so the training
  // gaps of steps 1–2 are all 0 (policy = reference); the policy then moves and an evaluation
  // batch has gaps that differ.
  const train = [
    [0, 0],
    [0, 0],
  ];
  const evalGaps = [0.01, -0.02, 0.03];

  test('the default normalises the evaluation batch with itself included, leaves the state alone, stays O(1)', () => {
    const state = new AlphaDpoState();
    for (const gaps of train) preferenceLoss('alpha-dpo', gapBatch(gaps), config, state);
    const before = state.toJSON();
    const out = preferenceLoss('alpha-dpo', gapBatch(evalGaps), config, state, { training: false });
    const z = mixtureZ([...train, evalGaps]); // weights 0.081, 0.09, 0.1 over 0.271
    expectClose(
      out.losses,
      evalGaps.map((g, i) => lossOf(g, z[i]!)),
      'eval losses',
      1e-12,
    );
    assert.ok(Math.max(...z.map(Math.abs)) < 3, `|z| ${z}`);
    assert.deepEqual(out.warnings, []);
    assert.deepEqual(state.toJSON(), before, 'evaluation must not update the statistics');
  });

  test("the reference 'ema' gives z = g/eps there, and warns that the evaluation batch differs", () => {
    const state = new AlphaDpoState();
    for (const gaps of train) preferenceLoss('alpha-dpo', gapBatch(gaps), reference, state);
    const out = preferenceLoss('alpha-dpo', gapBatch(evalGaps), reference, state, { training: false });
    // μ = σ = 0: z = g/1e-6 = 1e4, −2e4, 3e4; loss of g = −0.02 is softplus(−2·(−0.02 − 0.25 + 1e4)) ≈ 0,
    // of g = 0.03: softplus(−2·(0.03 − 0.25 − 1.5e4)) = 30000.44.
    expectClose(
      out.losses,
      evalGaps.map((g) => lossOf(g, g / 1e-6)),
      'eval losses',
      1e-9,
    );
    assert.equal(out.warnings.length, 1);
    assert.match(out.warnings[0]!.message, /reaches 30000 .*evaluation batch/);
  });

  test('an evaluation before any training step is z-scored against itself by default (z = 0 under the reference)', () => {
    // One batch, weight 1: μ = 2, σ² = ((−1)² + 0² + 1²)/3 = 2/3, z = ∓√(3/2), 0.
    const state = new AlphaDpoState();
    const out = preferenceLoss('alpha-dpo', gapBatch([1, 2, 3]), config, state, { training: false });
    const z = [-Math.sqrt(1.5), 0, Math.sqrt(1.5)];
    expectClose(
      out.losses,
      [1, 2, 3].map((g, i) => lossOf(g, z[i]!)),
      'losses',
      1e-12,
    );
    assert.equal(state.steps, 0);
    const ref = preferenceLoss('alpha-dpo', gapBatch([1, 2, 3]), reference, state, { training: false });
    expectClose(
      ref.losses,
      [1, 2, 3].map((g) => lossOf(g, 0)),
      "'ema': no statistics yet → z = 0",
      1e-12,
    );
    assert.deepEqual(ref.warnings, []);
  });
});

describe('alpha-dpo eps and non-finite losses', () => {
  test('eps below 1e-12 is a config error that says why; 1e-12 is accepted', () => {
    for (const eps of [1e-13, 1e-39, 0]) {
      assert.throws(
        () => preferenceLoss('alpha-dpo', gapBatch([1, 2]), { ...config, eps }, new AlphaDpoState()),
        (e: unknown) =>
          e instanceof LossConfigError && e.field === 'eps' && /must be ≥ 1e-12/.test(e.message) && /overflow/.test(e.message),
        `eps ${eps}`,
      );
    }
    const out = preferenceLoss('alpha-dpo', gapBatch([1, 2]), { ...config, eps: 1e-12 }, new AlphaDpoState());
    assert.ok(out.losses.toNumbers().every(Number.isFinite));
  });

  test('a loss that overflows to Inf is a NonFiniteLossError naming the rows, and the state is left as it was', () => {
    // float32, 'ema', one pair: z = 0.9·0.5/1e-12 = 4.5e11, logit = 1e30·(0.5 − 0.25 − 0.5·4.5e11) ≈ −2.2e41 → Inf.
    const state = new AlphaDpoState();
    const logps: PreferenceLogps = {
      policyChosen: torch.tensor([0.5], { dtype: 'float32' }),
      policyRejected: torch.tensor([0], { dtype: 'float32' }),
      referenceChosen: torch.tensor([0], { dtype: 'float32' }),
      referenceRejected: torch.tensor([0], { dtype: 'float32' }),
    };
    assert.throws(
      () => preferenceLoss('alpha-dpo', logps, { ...reference, beta: 1e30, eps: 1e-12 }, state),
      (e: unknown) =>
        e instanceof NonFiniteLossError && e.field === 'losses' && e.rows.length === 1 && e.rows[0] === 0 && /beta 1e\+30/.test(e.message),
    );
    assert.equal(state.steps, 0, 'the failed call must not update the statistics');
    // The same for any loss: DPO with β = 1e38 on float32 sums.
    assert.throws(
      () =>
        preferenceLoss(
          'sigmoid',
          {
            policyChosen: torch.tensor([-10, -5], { dtype: 'float32' }),
            policyRejected: torch.tensor([-5, -10], { dtype: 'float32' }),
            referenceChosen: torch.tensor([-5, -5], { dtype: 'float32' }),
            referenceRejected: torch.tensor([-5, -5], { dtype: 'float32' }),
          },
          { beta: 1e38 },
        ),
      (e: unknown) => e instanceof NonFiniteLossError && e.rows.join() === '0',
    );
  });

  test('a version-1 state (before the variance was kept) loads with variance std²', () => {
    const state = AlphaDpoState.fromJSON({ kind: 'alpha-dpo-state', version: 1, mean: 0.1, std: 0.2, steps: 3 });
    expectClose(state.variance, 0.04, 'variance', 1e-15);
    assert.deepEqual(state.toJSON(), { kind: 'alpha-dpo-state', version: 2, mean: 0.1, std: 0.2, variance: 0.2 * 0.2, steps: 3 });
  });
});
