// Properties that hold whatever the numbers: each states the value it expects and why.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlphaDpoState, type LossType, lossRequirements, type PreferenceLogps, preferenceLoss, tokenLogps, torch } from '../src/index.js';
import { caseInputs, expectClose, f64, fixture } from './losses-fixture.js';

const sum = fixture.inputs.sum;
const dpoInputs = (): PreferenceLogps => ({
  policyChosen: f64(sum.policy_chosen),
  policyRejected: f64(sum.policy_rejected),
  referenceChosen: f64(sum.reference_chosen),
  referenceRejected: f64(sum.reference_rejected),
});

describe('invariants', () => {
  test('sigmoid with policy = reference gives ln 2 per pair, zero rewards, accuracy 0', () => {
    // Δπ − Δref = 0, so the loss is −log σ(0) = ln 2 for any β and label smoothing.
    for (const config of [{ beta: 0.1 }, { beta: 3 }, { beta: 0.5, label_smoothing: 0.3 }]) {
      const out = preferenceLoss(
        'sigmoid',
        {
          policyChosen: f64(sum.policy_chosen),
          policyRejected: f64(sum.policy_rejected),
          referenceChosen: f64(sum.policy_chosen),
          referenceRejected: f64(sum.policy_rejected),
        },
        config,
      );
      expectClose(
        out.losses,
        sum.policy_chosen.map(() => Math.LN2),
        `losses ${JSON.stringify(config)}`,
        1e-15,
      );
      expectClose(
        out.chosenRewards,
        sum.policy_chosen.map(() => 0),
        'rewards',
        0,
        0,
      );
      assert.equal(out.metrics['rewards/accuracies'], 0, 'a tie is not a win (TRL: chosen > rejected)');
    }
  });

  test('label smoothing 0.5 is symmetric: swapping chosen and rejected changes nothing', () => {
    // ε = 0.5: ℓ(x) = ½·softplus(−x) + ½·softplus(x) is even in x = β·Δ.
    const forward = preferenceLoss('sigmoid', dpoInputs(), { beta: 0.5, label_smoothing: 0.5 });
    const swapped = preferenceLoss(
      'sigmoid',
      {
        policyChosen: f64(sum.policy_rejected),
        policyRejected: f64(sum.policy_chosen),
        referenceChosen: f64(sum.reference_rejected),
        referenceRejected: f64(sum.reference_chosen),
      },
      { beta: 0.5, label_smoothing: 0.5 },
    );
    expectClose(swapped.losses, forward.losses.toNumbers(), 'swapped', 1e-15);
    const x = sum.policy_chosen.map(
      (_, i) => 0.5 * (sum.policy_chosen[i]! - sum.reference_chosen[i]! - sum.policy_rejected[i]! + sum.reference_rejected[i]!),
    );
    expectClose(
      forward.losses,
      x.map((v) => 0.5 * Math.log1p(Math.exp(-v)) + 0.5 * Math.log1p(Math.exp(v))),
      'closed form',
      1e-14,
    );
  });

  test('robust with ε = 0 and alpha_divergence with coefficient 1 are plain DPO', () => {
    const dpo = preferenceLoss('sigmoid', dpoInputs(), { beta: 0.5 }).losses.toNumbers();
    expectClose(preferenceLoss('robust', dpoInputs(), { beta: 0.5 }).losses, dpo, 'robust ε = 0', 1e-15);
    expectClose(
      preferenceLoss('sigmoid', dpoInputs(), { beta: 0.5, f_divergence_type: 'alpha_divergence', f_alpha_divergence_coef: 1 }).losses,
      dpo,
      'α-divergence, α = 1 (the reverse-KL limit)',
      1e-15,
    );
  });

  test('ipo is 0 exactly where Δπ − Δref = 1/(2β)', () => {
    // β = 0.25: target 2 nats; pair 0 has Δπ = 2, Δref = 0.
    const out = preferenceLoss(
      'ipo',
      { policyChosen: f64([-1, -3]), policyRejected: f64([-3, -3]), referenceChosen: f64([-2, -2]), referenceRejected: f64([-2, -2]) },
      { beta: 0.25 },
    );
    expectClose(out.losses, [0, 4], 'losses: (2 − 2)², (0 − 2)²', 0, 1e-15);
  });

  test('a list of losses is the weighted sum of its members', () => {
    const c = fixture.cases.find((k) => k.name === 'MPO list')!;
    const { logps } = caseInputs(c, false);
    const total = preferenceLoss(['sigmoid', 'bco_pair', 'sft'], logps, { beta: 0.5, loss_weights: [0.8, 0.2, 1.0] }).losses.toNumbers();
    const parts = (['sigmoid', 'bco_pair', 'sft'] as LossType[]).map((t) =>
      preferenceLoss(t, logps, t === 'sft' ? {} : { beta: 0.5 }).losses.toNumbers(),
    );
    expectClose(
      total,
      parts[0]!.map((_, i) => 0.8 * parts[0]![i]! + 0.2 * parts[1]![i]! + parts[2]![i]!),
      'weighted sum',
      1e-14,
    );
    expectClose(preferenceLoss(['sigmoid'], logps, { beta: 0.5 }).losses, parts[0]!, 'a one-element list', 0, 0);
  });

  test('WPO with zero log-weights changes nothing; ld_alpha = 1 is plain sums', () => {
    const plain = preferenceLoss('sigmoid', dpoInputs(), { beta: 0.5 }).losses.toNumbers();
    const zeros = f64([0, 0, 0, 0, 0, 0]);
    expectClose(
      preferenceLoss('sigmoid', { ...dpoInputs(), wpoChosen: zeros, wpoRejected: zeros }, { beta: 0.5, use_weighting: true }).losses,
      plain,
      'WPO w = 1',
      0,
      0,
    );

    // Per-token log-probs from logits: ld_alpha = 1 must equal DPO on the summed sequences.
    const logits = torch.tensor(fixture.sequence_logps.logits.data, { dtype: 'float64' }).reshape(fixture.sequence_logps.logits.shape);
    const labels = torch.tensor(fixture.sequence_logps.labels, { dtype: 'int64' });
    const chosen = tokenLogps(logits, labels);
    const rejected = tokenLogps(logits.flip([0]), labels.flip([0]));
    const reference = tokenLogps(logits.mul(0.9), labels);
    const referenceRejected = tokenLogps(logits.flip([0]).mul(1.1), labels.flip([0]));
    const sequences = {
      policyChosen: chosen.logps.sum(1),
      policyRejected: rejected.logps.sum(1),
      referenceChosen: reference.logps.sum(1),
      referenceRejected: referenceRejected.logps.sum(1),
    };
    const tokens = {
      policyChosen: chosen.logps,
      policyRejected: rejected.logps,
      referenceChosen: reference.logps,
      referenceRejected: referenceRejected.logps,
      chosenMask: chosen.mask,
      rejectedMask: rejected.mask,
    };
    const dpo = preferenceLoss('sigmoid', sequences, { beta: 0.5 }).losses.toNumbers();
    expectClose(preferenceLoss('sigmoid', { ...sequences, tokens }, { beta: 0.5, ld_alpha: 1 }).losses, dpo, 'ld_alpha = 1', 1e-14);
    const shrunk = preferenceLoss('sigmoid', { ...sequences, tokens }, { beta: 0.5, ld_alpha: 0.5 }).losses.toNumbers();
    assert.notDeepEqual(shrunk, dpo, 'ld_alpha = 0.5 must change pairs of unequal length');
  });

  test('float32 inputs give the float64 result to float32 precision', () => {
    const f32 = (a: readonly number[]) => torch.tensor([...a], { dtype: 'float32' });
    const avg = fixture.inputs.avg;
    const config = { beta: 2.5, alpha: 0.2, gamma_beta_ratio: 0.6 };
    const single = preferenceLoss(
      'alpha-dpo',
      {
        policyChosen: f32(avg.policy_chosen),
        policyRejected: f32(avg.policy_rejected),
        referenceChosen: f32(avg.reference_chosen),
        referenceRejected: f32(avg.reference_rejected),
      },
      config,
      new AlphaDpoState(),
    );
    const double = preferenceLoss(
      'alpha-dpo',
      {
        policyChosen: f64(avg.policy_chosen),
        policyRejected: f64(avg.policy_rejected),
        referenceChosen: f64(avg.reference_chosen),
        referenceRejected: f64(avg.reference_rejected),
      },
      config,
      new AlphaDpoState(),
    );
    assert.equal(single.losses.dtype, 'float32');
    // The inputs themselves round to float32 (≈6e-8 nats/token each); at step 1 z = (g − 0.1·ḡ)/(0.1·σ_g)
    // magnifies that by α·β/(0.1·σ_g) ≈ 10 here, so ≈1e-6 relative is float32's floor (measured 1.1e-6).
    expectClose(single.losses, double.losses.toNumbers(), 'float32 vs float64', 1e-5);
  });

  test('lossRequirements says what each loss reads', () => {
    assert.deepEqual(lossRequirements('alpha-dpo', { beta: 2.5, alpha: 0.2 }), {
      reference: true,
      chosenLengths: false,
      rejectedLengths: false,
      chosenNll: false,
      wpo: false,
      tokens: false,
      logps: 'average',
      examples: 'pairs',
      kl: false,
    });
    assert.deepEqual(lossRequirements('r-dpo', { beta: 0.1, rdpo_alpha: 0.01, use_weighting: true }), {
      reference: true,
      chosenLengths: true,
      rejectedLengths: true,
      chosenNll: false,
      wpo: true,
      tokens: false,
      logps: 'sum',
      examples: 'pairs',
      kl: false,
    });
    const orpo = lossRequirements('orpo', { beta: 0.1 });
    assert.deepEqual([orpo.reference, orpo.chosenNll, orpo.chosenLengths, orpo.logps], [false, true, true, 'average']);
    assert.equal(lossRequirements('simpo', { beta: 2 }).chosenNll, false);
    assert.equal(lossRequirements('simpo', { beta: 2, sft_weight: 0.1 }).chosenNll, true);
    assert.equal(lossRequirements('sigmoid', { beta: 0.1, ld_alpha: 0.5 }).tokens, true);
  });

  test('no tensor leaks: every loss, and a loss that throws midway', () => {
    for (const c of fixture.cases) caseInputs(c, false); // warm up the inputs' own allocations
    const before = torch.liveTensorCount();
    for (const c of fixture.cases) {
      const { logps, leaves } = caseInputs(c, true);
      const out = preferenceLoss(c.loss_type, logps, c.config);
      const loss = out.losses.mean();
      loss.backward();
      for (const t of [out.losses, out.chosenRewards, out.rejectedRewards, loss, ...leaves.values()]) t.dispose();
      for (const t of Object.values(logps)) if (t && 'dispose' in t) (t as { dispose(): void }).dispose();
    }
    assert.equal(torch.liveTensorCount(), before, 'tensors left alive by preferenceLoss');
    // ORPO rejects log-probs ≥ 0 in its own input check; alpha-dpo without a state throws inside the
    // computation, after it has created tensors.
    const bad = { policyChosen: f64([0, -1]), policyRejected: f64([-1, -1]), chosenNll: f64([1, 1]), chosenLengths: f64([1, 1]) };
    const stateless = {
      policyChosen: f64([-1, -2]),
      policyRejected: f64([-1, -3]),
      referenceChosen: f64([-1, -2]),
      referenceRejected: f64([-1, -2]),
    };
    const mid = torch.liveTensorCount();
    assert.throws(() => preferenceLoss('orpo', bad, { beta: 0.1 }), /orpo needs log-probs < 0/);
    assert.throws(() => preferenceLoss('alpha-dpo', stateless, { beta: 2, alpha: 0.1 }), /pass an AlphaDpoState/);
    assert.equal(torch.liveTensorCount(), mid, 'tensors left alive by a loss that threw');
  });
});
