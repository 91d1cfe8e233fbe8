// The variants of issue 16 item 3 beyond their single-batch fixture cases (test/losses.test.ts
// checks sigmoid_norm, ipo with forward_kl / JS, rpo_alpha, cpo with AlphaPO, cpo_simpo and
// alphapo against scripts/fixtures/gen_losses.py): bco_pair's running δ over several batches
// against TRL ≤ 0.28's RunningMoments written in PyTorch, its state in checkpoints, and the
// identities that tie each variant to a loss already checked.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlphaDpoState,
  LossConfigError,
  LossInputError,
  type LossType,
  lossRequirements,
  NonFiniteLossError,
  type PreferenceLogps,
  type PreferenceLossConfig,
  preferenceLoss,
  type Tensor,
  torch,
} from '../src/index.js';
import { caseInputs, expectClose, expectMetrics, FIELD, f64, fixture, SIDES } from './losses-fixture.js';

function batchInputs(inputs: Record<(typeof SIDES)[number], number[]>): { logps: PreferenceLogps; leaves: Map<string, Tensor> } {
  const leaves = new Map(SIDES.map((side) => [side, f64(inputs[side], true)] as const));
  return { logps: Object.fromEntries(SIDES.map((side) => [FIELD[side], leaves.get(side)])) as unknown as PreferenceLogps, leaves };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

/** Per-pair losses of a fixture case's inputs under another loss type and config. */
function lossesOf(
  inputs: { loss_type: LossType | LossType[]; config: PreferenceLossConfig; logps: 'sum' | 'avg' },
  lossType: LossType | LossType[],
  config: PreferenceLossConfig,
) {
  const merged = { ...inputs, loss_type: lossType, config };
  const { logps } = caseInputs(merged, false);
  const out = preferenceLoss(lossType, logps, config);
  return { losses: out.losses.toNumbers(), chosen: out.chosenRewards.toNumbers(), rejected: out.rejectedRewards.toNumbers() };
}

describe('bco_pair with bco_running_delta against PyTorch over several batches', () => {
  for (const sequence of fixture.bco_running_delta) {
    test(sequence.name, () => {
      const state = new AlphaDpoState();
      for (const [k, batch] of sequence.batches.entries()) {
        const { logps, leaves } = batchInputs(batch.inputs);
        const out = preferenceLoss('bco_pair', logps, sequence.config, state, { training: batch.training });
        expectClose(out.losses, batch.losses, `batch ${k} losses`);
        expectClose(out.chosenRewards, batch.chosen_rewards, `batch ${k} chosenRewards`);
        expectClose(out.rejectedRewards, batch.rejected_rewards, `batch ${k} rejectedRewards`);
        expectMetrics(out.metrics, batch.metrics, `batch ${k} metrics`);
        expectClose(state.bcoRewardMean.mean, batch.state.mean, `batch ${k} running mean`);
        assert.equal(state.bcoRewardMean.batches, batch.state.batches, `batch ${k} batches`);
        out.losses.mean().backward();
        for (const side of SIDES) expectClose(leaves.get(side)!.grad!, batch.grads[side]!, `batch ${k} grad ${side}`);
      }
    });
  }

  test('δ is the equal-weight mean of the batch-mean rewards (by hand) and reaches no gradient', () => {
    // One pair per batch, reference 0, β = 1: the batch-mean rewards are (ρ_w + ρ_l)/2 = 1, then 3.
    const state = new AlphaDpoState();
    const call = (w: number, l: number) =>
      preferenceLoss(
        'bco_pair',
        { policyChosen: f64([w], true), policyRejected: f64([l]), referenceChosen: f64([0]), referenceRejected: f64([0]) },
        { beta: 1, bco_running_delta: true },
        state,
      );
    assert.equal(call(1.5, 0.5).metrics['bco/delta'], 1);
    const out = call(3.5, 2.5);
    assert.equal(out.metrics['bco/delta'], 2); // (1 + 3)/2
    // −log σ(3.5 − 2) − log σ(−(2.5 − 2)) = softplus(−1.5) + softplus(0.5)
    expectClose(out.losses, [Math.log1p(Math.exp(-1.5)) + Math.log1p(Math.exp(0.5))], 'losses');
    assert.deepEqual(state.toJSON().bco, { mean: 2, batches: 2 });
  });

  test('resuming from toJSON() continues the sequence exactly; older states load with no batches', () => {
    const sequence = fixture.bco_running_delta[0]!;
    const state = new AlphaDpoState();
    preferenceLoss('bco_pair', batchInputs(sequence.batches[0]!.inputs).logps, sequence.config, state);
    const resumed = AlphaDpoState.fromJSON(JSON.parse(JSON.stringify(state.toJSON())));
    const out = preferenceLoss('bco_pair', batchInputs(sequence.batches[1]!.inputs).logps, sequence.config, resumed);
    expectClose(out.losses, sequence.batches[1]!.losses, 'losses after resume');
    const old = AlphaDpoState.fromJSON({ kind: 'alpha-dpo-state', version: 2, mean: 0.1, std: 0.2, variance: 0.04, steps: 3 });
    assert.deepEqual(old.bcoRewardMean, { mean: 0, batches: 0 });
    assert.equal('bco' in old.toJSON(), false, 'a state no BCO batch touched writes the same JSON as before');
    const bad = thrown(() =>
      AlphaDpoState.fromJSON({ kind: 'alpha-dpo-state', version: 2, mean: 0, std: 0, variance: 0, steps: 0, bco: { mean: 'x' } }),
    );
    assert.ok(bad instanceof LossInputError);
    assert.equal(bad.field, 'AlphaDpoState.bco');
  });

  test('a non-finite loss is a NonFiniteLossError and leaves δ as it was', () => {
    const sequence = fixture.bco_running_delta[0]!;
    const state = new AlphaDpoState();
    preferenceLoss('bco_pair', batchInputs(sequence.batches[0]!.inputs).logps, sequence.config, state);
    const before = state.toJSON();
    // β = 1e308 on log-ratios of about ±2 nats: the rewards overflow to ±Inf in float64.
    const e = thrown(() =>
      preferenceLoss('bco_pair', batchInputs(sequence.batches[1]!.inputs).logps, { beta: 1e308, bco_running_delta: true }, state),
    );
    assert.ok(e instanceof NonFiniteLossError, String(e));
    assert.deepEqual(state.toJSON(), before);
  });

  test('in a list with alpha-dpo both running statistics are kept', () => {
    const state = new AlphaDpoState();
    const { logps } = batchInputs(fixture.bco_running_delta[0]!.batches[0]!.inputs);
    preferenceLoss(['alpha-dpo', 'bco_pair'], logps, { beta: 0.5, alpha: 0.1, bco_running_delta: true }, state);
    assert.equal(state.steps, 1);
    assert.equal(state.bcoRewardMean.batches, 1);
  });

  test('without a state it is a LossInputError that says what to pass; without the option no state is read', () => {
    const { logps } = batchInputs(fixture.bco_running_delta[0]!.batches[0]!.inputs);
    const e = thrown(() => preferenceLoss('bco_pair', logps, { beta: 0.5, bco_running_delta: true }));
    assert.ok(e instanceof LossInputError);
    assert.equal(e.field, 'state');
    assert.match(e.message, /AlphaDpoState/);
    const state = new AlphaDpoState();
    preferenceLoss('bco_pair', logps, { beta: 0.5 }, state);
    assert.deepEqual(state.bcoRewardMean, { mean: 0, batches: 0 });
  });
});

describe('identities of the new variants', () => {
  const sumCase = fixture.cases.find((c) => c.name === 'sigmoid')!;
  const avgCase = fixture.cases.find((c) => c.name === 'simpo')!;

  test('rpo_alpha w is the loss plus sft at weight w (TRL ≤ 0.28 deprecation note), and needs chosenNll only when > 0', () => {
    const rpo = lossesOf(sumCase, 'sigmoid', { beta: 0.5, rpo_alpha: 0.7 });
    const list = lossesOf(sumCase, ['sigmoid', 'sft'], { beta: 0.5, loss_weights: [1, 0.7] });
    expectClose(rpo.losses, list.losses, 'losses', 1e-12);
    expectClose(rpo.chosen, list.chosen, 'rewards', 1e-12);
    assert.equal(lossRequirements('sigmoid', { beta: 0.5, rpo_alpha: 1 }).chosenNll, true);
    assert.equal(lossRequirements('sigmoid', { beta: 0.5, rpo_alpha: 0 }).chosenNll, false);
    assert.equal(lossRequirements('ipo', { beta: 0.5 }).chosenNll, false);
    const { logps } = caseInputs(sumCase, false); // sigmoid's inputs: no chosenNll
    const missing = thrown(() => preferenceLoss('sigmoid', logps, { beta: 0.5, rpo_alpha: 1 }));
    assert.ok(missing instanceof LossInputError);
    assert.match(missing.message, /rpo_alpha adds an NLL term to loss_type 'sigmoid'/);
  });

  test('sigmoid_norm with reverse_kl on sums is sigmoid on per-token averages', () => {
    const norm = lossesOf(sumCase, 'sigmoid_norm', { beta: 2 });
    const avg = lossesOf({ ...sumCase, logps: 'avg' }, 'sigmoid', { beta: 2 });
    expectClose(norm.losses, avg.losses, 'losses', 1e-12);
  });

  test('cpo_simpo is simpo with sft_weight = cpo_alpha; alphapo with α = 0 is simpo; AlphaPO α → 0 tends to cpo', () => {
    const cpoSimpo = lossesOf(avgCase, 'cpo_simpo', { beta: 2, gamma_beta_ratio: 0.3, cpo_alpha: 0.4 });
    const simpo = lossesOf(avgCase, 'simpo', { beta: 2, gamma_beta_ratio: 0.3, sft_weight: 0.4 });
    expectClose(cpoSimpo.losses, simpo.losses, 'cpo_simpo losses', 1e-12);
    expectClose(cpoSimpo.chosen, simpo.chosen, 'cpo_simpo rewards', 1e-12);
    const alphapo = lossesOf(avgCase, 'alphapo', { beta: 2, gamma_beta_ratio: 0.3, alpha: 0 });
    expectClose(alphapo.losses, lossesOf(avgCase, 'simpo', { beta: 2, gamma_beta_ratio: 0.3 }).losses, 'alphapo α 0', 1e-12);
    // r = (1 − e^(−αℓ))/α = ℓ − αℓ²/2 + …: with α = 1e-7 on sums near −40 the rewards differ from ℓ by ~2e-6 relative.
    const near = lossesOf(sumCase, 'cpo', { beta: 0.1, alpha: 1e-7 });
    expectClose(near.losses, lossesOf(sumCase, 'cpo', { beta: 0.1 }).losses, 'cpo α 1e-7', 1e-4);
  });

  test('ipo needs lengths only for a non-reverse-KL divergence (the score of the summed log-ratio)', () => {
    assert.equal(lossRequirements('ipo', { beta: 0.1 }).rejectedLengths, false);
    assert.equal(lossRequirements('ipo', { beta: 0.1, f_divergence_type: 'js_divergence' }).rejectedLengths, true);
    assert.equal(lossRequirements('sigmoid_norm', { beta: 0.1 }).rejectedLengths, true);
    // With lengths 1 the summed and averaged log-ratios coincide, so the TRL ≥ 0.29 form is f(ρ̄) by hand: ρ_w = 0.5, ρ_l = −0.5.
    const one = torch.tensor([1n]);
    const out = preferenceLoss(
      'ipo',
      {
        policyChosen: f64([0.5]),
        policyRejected: f64([-0.5]),
        referenceChosen: f64([0]),
        referenceRejected: f64([0]),
        chosenLengths: one,
        rejectedLengths: one,
      },
      { beta: 0.1, f_divergence_type: 'forward_kl' },
    );
    // Δ = −e^(−0.5) + e^(0.5) = 2·sinh(0.5); loss = (Δ − 5)².
    expectClose(out.losses, [(2 * Math.sinh(0.5) - 5) ** 2], 'ipo forward_kl by hand', 1e-12);
    const ld = thrown(() => lossRequirements('ipo', { beta: 0.1, f_divergence_type: 'forward_kl', ld_alpha: 0.5 }));
    assert.ok(ld instanceof LossConfigError);
    assert.match(ld.message, /use f_divergence_type 'reverse_kl' or drop ld_alpha/);
  });

  test('config errors: alphapo needs alpha; rpo_alpha ≥ 0; bco_running_delta only acts on bco_pair', () => {
    const needsAlpha = thrown(() => lossRequirements('alphapo', { beta: 2 }));
    assert.ok(needsAlpha instanceof LossConfigError);
    assert.match(needsAlpha.message, /'alphapo' needs alpha/);
    const negative = thrown(() => lossRequirements('sigmoid', { beta: 0.1, rpo_alpha: -1 }));
    assert.ok(negative instanceof LossConfigError);
    assert.equal(negative.field, 'rpo_alpha');
    const noEffect = thrown(() => lossRequirements('sigmoid', { beta: 0.1, bco_running_delta: true }));
    assert.ok(noEffect instanceof LossConfigError);
    assert.match(noEffect.message, /bco_running_delta.*no effect.*'bco_pair'/s);
  });
});
