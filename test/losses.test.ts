// Every registered loss against PyTorch: per-pair losses, rewards, metrics and autograd gradients
// are compared with test/fixtures/losses.json, which scripts/fixtures/gen_losses.py computes in
// float64 from each paper's formula written independently (softmax over the pair for EXO,
// p/(1 − p) odds for ORPO, u = exp(ρ) for the f-divergences, loops for LD-DPO). Relative
// tolerance 1e-9: both sides are float64 and differ only in the order of operations.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOSS_REGISTRY, LOSS_TYPES, type LossType, preferenceLoss, type Tensor, torch } from '../src/index.js';
import { caseInputs, expectClose, expectMetrics, FIELD, f64, fixture, SIDES } from './losses-fixture.js';

describe('preference losses against PyTorch (losses.json)', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: losses, rewards, metrics and gradients`, () => {
      const { logps, leaves } = caseInputs(c);
      const out = preferenceLoss(c.loss_type, logps, c.config);
      expectClose(out.losses, c.losses, 'losses');
      expectClose(out.chosenRewards, c.chosen_rewards, 'chosenRewards');
      expectClose(out.rejectedRewards, c.rejected_rewards, 'rejectedRewards');
      expectMetrics(out.metrics, c.metrics, 'metrics');
      out.losses.mean().backward();
      for (const [name, leaf] of leaves) {
        const expected = c.grads[name as keyof typeof c.grads];
        if (expected === undefined) assert.equal(leaf.grad, null, `${name} should get no gradient`);
        else expectClose(leaf.grad!, expected, `grad ${name}`);
      }
    });
  }

  test('the fixture covers every registered loss type', () => {
    const covered = new Set(fixture.cases.flatMap((c) => (Array.isArray(c.loss_type) ? c.loss_type : [c.loss_type])));
    covered.add('alpha-dpo'); // fixture.alpha_dpo, test/losses-alpha-dpo.test.ts
    for (const name of ['kto', 'apo_zero_unpaired']) covered.add(name as LossType); // fixture.unpaired, test/losses-unpaired.test.ts
    assert.deepEqual(
      LOSS_TYPES.filter((t) => !covered.has(t)),
      [],
    );
    for (const [name, definition] of Object.entries(LOSS_REGISTRY)) assert.equal(definition.name, name);
  });
});

describe('LD-DPO (ld_alpha) against PyTorch', () => {
  for (const c of fixture.ld_cases) {
    test(c.name, () => {
      const leaves = new Map<string, Tensor>();
      for (const side of SIDES) leaves.set(side, f64(c.tokens[side], true).reshape(c.token_shapes[side]).detach().requiresGrad_());
      const chosenMask = torch.tensor(c.chosen_mask, { dtype: 'bool' });
      const rejectedMask = torch.tensor(c.rejected_mask, { dtype: 'bool' });
      // The [B] fields hold the plain sums; with ld_alpha the loss must use the LD-weighted ones instead.
      const plain = Object.fromEntries(
        SIDES.map((side) => [
          FIELD[side],
          leaves
            .get(side)!
            .detach()
            .mul(side.endsWith('chosen') ? chosenMask.double() : rejectedMask.double())
            .sum(1),
        ]),
      );
      const tokens = Object.fromEntries(SIDES.map((side) => [FIELD[side], leaves.get(side)!]));
      const out = preferenceLoss(
        c.loss_type as 'sigmoid',
        {
          ...(plain as Record<'policyChosen' | 'policyRejected', Tensor>),
          tokens: { ...(tokens as Record<'policyChosen' | 'policyRejected', Tensor>), chosenMask, rejectedMask },
        },
        c.config,
      );
      expectClose(out.losses, c.losses, 'losses');
      expectClose(out.chosenRewards, c.chosen_rewards, 'chosenRewards');
      expectClose(out.rejectedRewards, c.rejected_rewards, 'rejectedRewards');
      expectMetrics(out.metrics, c.metrics, 'metrics');
      expectClose([out.metrics['logps/chosen']!], [c.sequence.policy_chosen.reduce((a, b) => a + b) / 6], 'LD logps/chosen');
      out.losses.mean().backward();
      for (const side of SIDES) {
        const expected = c.grads[side];
        if (expected === undefined) assert.equal(leaves.get(side)!.grad, null, `${side} should get no gradient`);
        else expectClose(leaves.get(side)!.grad!, expected, `grad tokens.${side}`);
      }
    });
  }
});
