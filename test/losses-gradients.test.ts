// Autograd through every loss against central finite differences of mean(losses) in float64:
// (L(x + h·e_i) − L(x − h·e_i))/(2h), h = 1e-5 nats, truncation O(h²·L‴) ≈ 1e-10 and rounding
// ≈ 1e-16·|L|/h ≈ 1e-11, so tolerance 1e-7 absolute + 1e-6 relative. α-DPO is excluded here: its
// margin is a stop-gradient, so finite differences (which see the margin move) must differ; its
// gradient is checked algebraically in test/losses-alpha-dpo.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PreferenceLogps, preferenceLoss, type Tensor, type TokenLogps, torch } from '../src/index.js';
import { caseInputs, FIELD, f64, fixture, SIDES } from './losses-fixture.js';

const H = 1e-5;

function meanLoss(run: () => Tensor): number {
  return torch.tidy(() => run().mean().item());
}

function checkAgainstFiniteDifferences(leaves: Map<string, Tensor>, loss: () => Tensor, what: string): number {
  for (const leaf of leaves.values()) leaf.grad = null;
  const out = loss();
  out.mean().backward();
  let checked = 0;
  for (const [name, leaf] of leaves) {
    const analytic = leaf.grad === null ? leaf.toNumbers().map(() => 0) : leaf.grad.toNumbers();
    const base = leaf.detach().toNumbers();
    base.forEach((v, i) => {
      const set = (x: number) => torch.noGrad(() => leaf.select(0, i).fill_(x));
      set(v + H);
      const up = meanLoss(loss);
      set(v - H);
      const down = meanLoss(loss);
      set(v);
      const numeric = (up - down) / (2 * H);
      const a = analytic[i] as number;
      assert.ok(
        Math.abs(a - numeric) <= 1e-7 + 1e-6 * Math.abs(numeric),
        `${what}: d/d${name}[${i}]: autograd ${a}, finite difference ${numeric}`,
      );
      checked++;
    });
  }
  return checked;
}

describe('gradients equal central finite differences', () => {
  for (const c of fixture.cases) {
    test(c.name, () => {
      const { logps, leaves } = caseInputs(c);
      const checked = checkAgainstFiniteDifferences(leaves, () => preferenceLoss(c.loss_type, logps, c.config).losses, c.name);
      assert.ok(checked >= 12, `only ${checked} partial derivatives checked`);
    });
  }

  test('LD-DPO through the per-token log-probs', () => {
    const c = fixture.ld_cases[0]!;
    const leaves = new Map(SIDES.map((side) => [side, f64(c.tokens[side]).reshape(c.token_shapes[side]).requiresGrad_()] as const));
    const chosenMask = torch.tensor(c.chosen_mask, { dtype: 'bool' });
    const rejectedMask = torch.tensor(c.rejected_mask, { dtype: 'bool' });
    const tokens = Object.fromEntries(SIDES.map((side) => [FIELD[side], leaves.get(side)!])) as unknown as TokenLogps;
    // With ld_alpha the loss recomputes the sequence log-probs from the tokens; these [B] placeholders are not read.
    const sums = Object.fromEntries(SIDES.map((side) => [FIELD[side], f64([0, 0, 0, 0, 0, 0])])) as unknown as PreferenceLogps;
    // Perturb one element of a [B, T] leaf through a flat view of it.
    const flat = new Map([...leaves].map(([k, v]) => [k, v.view([-1])] as const));
    let checked = 0;
    for (const [name, leaf] of leaves) {
      leaf.grad = null;
      const run = () => preferenceLoss('sigmoid', { ...sums, tokens: { ...tokens, chosenMask, rejectedMask } }, c.config).losses;
      const out = run();
      out.mean().backward();
      const analytic = leaf.grad!.toNumbers();
      const view = flat.get(name)!;
      view
        .detach()
        .toNumbers()
        .forEach((v, i) => {
          const set = (x: number) => torch.noGrad(() => view.select(0, i).fill_(x));
          set(v + H);
          const up = meanLoss(run);
          set(v - H);
          const down = meanLoss(run);
          set(v);
          const numeric = (up - down) / (2 * H);
          assert.ok(Math.abs(analytic[i]! - numeric) <= 1e-7 + 1e-6 * Math.abs(numeric), `d/d${name}[${i}]: ${analytic[i]} vs ${numeric}`);
          checked++;
        });
    }
    assert.ok(checked > 100);
  });
});
