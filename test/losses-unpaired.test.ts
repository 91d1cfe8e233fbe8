// The unpaired losses (kto, apo_zero_unpaired) against PyTorch: per-example losses, rewards by
// label, TRL's metrics and autograd gradients compared with the "unpaired" section of
// test/fixtures/losses.json, which scripts/fixtures/gen_losses.py computes in float64 by writing
// TRL 1.13's KTOTrainer._compute_loss literally (split by label, weighted halves concatenated,
// mean). Relative tolerance 1e-9. Gradients also against central finite differences; inputs
// errors and config errors; batches whose examples all share one label.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  LossConfigError,
  LossInputError,
  type LossType,
  lossRequirements,
  type PreferenceLossConfig,
  preferenceLoss,
  type Tensor,
  torch,
  type UnpairedLogps,
} from '../src/index.js';
import { expectClose, expectMetrics, f64, fixture as pairFixture } from './losses-fixture.js';

interface UnpairedCase {
  name: string;
  loss_type: LossType;
  config: PreferenceLossConfig;
  kl_set: string;
  labels: boolean[];
  loss: number;
  losses: number[];
  chosen_rewards: number[];
  rejected_rewards: number[];
  grads: { policy: number[]; policy_kl?: number[] };
  metrics: Record<string, number>;
}
interface UnpairedFixture {
  inputs: { policy: number[]; reference: number[]; labels: boolean[]; kl: Record<string, { policy: number[]; reference: number[] }> };
  cases: UnpairedCase[];
}
const fixture = (
  JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'losses.json'), 'utf8')) as {
    unpaired: UnpairedFixture;
  }
).unpaired;

function inputs(c: UnpairedCase): { logps: UnpairedLogps; policy: Tensor; policyKl: Tensor } {
  const policy = f64(fixture.inputs.policy, true);
  const kl = fixture.inputs.kl[c.kl_set]!;
  const policyKl = f64(kl.policy, true);
  const logps: UnpairedLogps = {
    policy,
    reference: f64(fixture.inputs.reference),
    desirable: torch.tensor(
      c.labels.map((l) => (l ? 1 : 0)),
      { dtype: 'bool' },
    ),
  };
  if (lossRequirements(c.loss_type, c.config).kl) {
    logps.policyKl = policyKl;
    logps.referenceKl = f64(kl.reference);
  }
  return { logps, policy, policyKl };
}

describe('unpaired losses against PyTorch (losses.json, TRL 1.13 KTOTrainer written literally)', () => {
  for (const c of fixture.cases) {
    test(`${c.name}: losses, rewards, metrics and gradients`, () => {
      const { logps, policy, policyKl } = inputs(c);
      const out = preferenceLoss(c.loss_type, logps, c.config);
      expectClose(out.losses, c.losses, 'losses');
      expectClose(out.losses.mean().item(), c.loss, 'loss (TRL: mean of the concatenated halves)');
      expectClose(out.chosenRewards, c.chosen_rewards, 'chosenRewards');
      expectClose(out.rejectedRewards, c.rejected_rewards, 'rejectedRewards');
      expectMetrics(out.metrics, c.metrics, 'metrics');
      out.losses.mean().backward();
      expectClose(policy.grad!, c.grads.policy, 'grad policy');
      // z₀ is detached (TRL: kl.detach()), so the KL rows get no gradient.
      assert.equal(policyKl.grad, null);
    });
  }

  test('the fixture covers both unpaired loss types, z₀ > 0 and z₀ clamped to 0', () => {
    assert.deepEqual([...new Set(fixture.cases.map((c) => c.loss_type))].sort(), ['apo_zero_unpaired', 'kto']);
    const kls = fixture.cases.filter((c) => c.loss_type === 'kto').map((c) => c.metrics.kl);
    // kl_positive: mean(policyKl − referenceKl) = (0.75 + 0.5 − 0.75 + 1.5 + 0.5 − 0.25 + 0.5)/7 = 2.75/7.
    assert.ok(kls.some((k) => Math.abs((k as number) - 2.75 / 7) < 1e-15));
    // kl_negative: mean = (−1 − 0.5 − 0.5 − 0.75 − 0.5 + 0.25 − 0.5)/7 = −3.5/7 < 0, so z₀ = 0.
    assert.ok(kls.includes(0));
  });
});

describe('unpaired losses: gradients equal central finite differences', () => {
  // Only d/d policy: z₀ and the reference are stop-gradients, so finite differences in the KL rows
  // (which see z₀ move) must differ from autograd's 0, as for α-DPO's margin. h = 1e-5 nats, as in
  // test/losses-gradients.test.ts: tolerance 1e-7 absolute + 1e-6 relative.
  for (const c of fixture.cases) {
    test(c.name, () => {
      const { logps, policy } = inputs(c);
      const run = () => preferenceLoss(c.loss_type, logps, c.config).losses;
      run().mean().backward();
      const analytic = policy.grad!.toNumbers();
      const h = 1e-5;
      policy
        .detach()
        .toNumbers()
        .forEach((v, i) => {
          const set = (x: number) => torch.noGrad(() => policy.select(0, i).fill_(x));
          const at = (x: number) => {
            set(x);
            return torch.tidy(() => run().mean().item());
          };
          const numeric = (at(v + h) - at(v - h)) / (2 * h);
          set(v);
          const a = analytic[i] as number;
          assert.ok(
            Math.abs(a - numeric) <= 1e-7 + 1e-6 * Math.abs(numeric),
            `d/dpolicy[${i}]: autograd ${a}, finite difference ${numeric}`,
          );
        });
    });
  }
});

describe('a micro-batch whose examples share one label keeps the loss defined', () => {
  test('one desirable example alone: finite loss, no rejected metrics (never 0/0), kl from its KL row', () => {
    // ρ = −20 − (−21) = 1; z₀ = max(0, −30 − (−30.5)) = 0.5; loss = 1 − σ(0.5·(1 − 0.5)) = 1 − σ(0.25).
    const out = preferenceLoss(
      'kto',
      {
        policy: f64([-20]),
        reference: f64([-21]),
        desirable: torch.tensor([1], { dtype: 'bool' }),
        policyKl: f64([-30]),
        referenceKl: f64([-30.5]),
      },
      { beta: 0.5 },
    );
    expectClose(out.losses, [1 - 1 / (1 + Math.exp(-0.25))], 'loss');
    assert.deepEqual(Object.keys(out.metrics).sort(), ['kl', 'logps/chosen', 'rewards/chosen']);
    assert.deepEqual(out.rejectedRewards.shape, [0]);
  });
});

describe('unpaired losses: requirements and errors', () => {
  const good = (): UnpairedLogps => ({
    policy: f64([-1, -2]),
    reference: f64([-1.5, -2.5]),
    desirable: torch.tensor([1, 0], { dtype: 'bool' }),
    policyKl: f64([-3, -4]),
    referenceKl: f64([-3, -4]),
  });

  test('lossRequirements: kto takes unpaired examples with the KL rows, apo_zero_unpaired without; both on sums with a reference', () => {
    assert.deepEqual(
      (({ examples, kl, reference, logps }) => ({ examples, kl, reference, logps }))(lossRequirements('kto', { beta: 0.1 })),
      { examples: 'unpaired', kl: true, reference: true, logps: 'sum' },
    );
    assert.equal(lossRequirements('apo_zero_unpaired', { beta: 0.1 }).kl, false);
    assert.deepEqual((({ examples, kl }) => ({ examples, kl }))(lossRequirements('sigmoid', { beta: 0.1 })), {
      examples: 'pairs',
      kl: false,
    });
  });

  test('pairs given to kto, and unpaired examples given to sigmoid, are LossInputErrors naming the fix', () => {
    const { policyChosen, policyRejected, referenceChosen, referenceRejected } = Object.fromEntries(
      Object.entries(pairFixture.inputs.sum).map(([k, v]) => [k.replace(/_(\w)/g, (_, x: string) => x.toUpperCase()), f64(v)]),
    ) as Record<string, Tensor>;
    assert.throws(
      () => preferenceLoss('kto', { policyChosen, policyRejected, referenceChosen, referenceRejected } as never, { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && /takes unpaired examples/.test(e.message),
    );
    assert.throws(
      () => preferenceLoss('sigmoid', good(), { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && /takes preference pairs: use kto or apo_zero_unpaired/.test(e.message),
    );
  });

  test('missing KL rows, float labels, a length mismatch and a NaN are LossInputErrors naming the field', () => {
    const { policyKl: _, ...noKl } = good();
    assert.throws(
      () => preferenceLoss('kto', noKl, { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && e.field === 'logps.policyKl',
    );
    assert.doesNotThrow(() => preferenceLoss('apo_zero_unpaired', noKl, { beta: 0.1 }));
    assert.throws(
      () => preferenceLoss('kto', { ...good(), desirable: f64([1, 0]) }, { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && e.field === 'logps.desirable' && /must be bool/.test(e.message),
    );
    assert.throws(
      () => preferenceLoss('kto', { ...good(), reference: f64([-1]) }, { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && e.field === 'logps.reference',
    );
    assert.throws(
      () => preferenceLoss('kto', { ...good(), referenceKl: f64([-3, Number.NaN]) }, { beta: 0.1 }),
      (e: unknown) => e instanceof LossInputError && e.field === 'logps.referenceKl[1]',
    );
  });

  test('config: kto in a list, pair-only keys with kto, and the KTO weights with a pair loss are LossConfigErrors', () => {
    assert.throws(
      () => preferenceLoss(['kto', 'sigmoid'], good(), { beta: 0.1 }),
      (e: unknown) => e instanceof LossConfigError && /cannot be listed with other losses/.test(e.message),
    );
    for (const key of ['ld_alpha', 'rpo_alpha'] as const) {
      assert.throws(
        () => preferenceLoss('kto', good(), { beta: 0.1, [key]: 0.5 }),
        (e: unknown) => e instanceof LossConfigError && e.message.includes(key) && /acts on preference pairs/.test(e.message),
      );
    }
    assert.throws(
      () => lossRequirements('sigmoid', { beta: 0.1, desirable_weight: 2 }),
      (e: unknown) => e instanceof LossConfigError && /has no effect on loss_type 'sigmoid'.*'kto', 'apo_zero_unpaired'/.test(e.message),
    );
  });
});
