// Bad input a user can cause: each must be a typed error naming the field at fault.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AlphaDpoState,
  LossConfigError,
  type LossError,
  LossInputError,
  type LossType,
  type PreferenceLogps,
  type PreferenceLossConfig,
  preferenceLoss,
  torch,
  UnknownLossTypeError,
} from '../src/index.js';
import { f64 } from './losses-fixture.js';

const pair = (): PreferenceLogps => ({
  policyChosen: f64([-10, -12, -9]),
  policyRejected: f64([-11, -12.5, -10]),
  referenceChosen: f64([-10.5, -12, -9.25]),
  referenceRejected: f64([-10.75, -12.25, -10.5]),
});

function expectError(run: () => unknown, type: new (...args: never[]) => LossError, field: string, message?: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal((e as LossError).field, field);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

describe('input errors', () => {
  test('mismatched shapes name the field', () => {
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), policyRejected: f64([-1, -2]) }, { beta: 0.1 }),
      LossInputError,
      'logps.policyRejected',
      /\[2\].*\[3\]/,
    );
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), referenceChosen: f64([-1, -2, -3, -4]).reshape([2, 2]) }, { beta: 0.1 }),
      LossInputError,
      'logps.referenceChosen',
    );
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), policyChosen: f64([-1, -2, -3]).reshape([3, 1]) }, { beta: 0.1 }),
      LossInputError,
      'logps.policyChosen',
    );
  });

  test('NaN and infinite log-probs name the field and the row', () => {
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), policyChosen: f64([-1, Number.NaN, -3]) }, { beta: 0.1 }),
      LossInputError,
      'logps.policyChosen[1]',
      /NaN/,
    );
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), referenceRejected: f64([-1, -2, Number.NEGATIVE_INFINITY]) }, { beta: 0.1 }),
      LossInputError,
      'logps.referenceRejected[2]',
      /-Infinity/,
    );
  });

  test('an empty batch', () => {
    const empty = f64([]);
    expectError(
      () => preferenceLoss('simpo', { policyChosen: empty, policyRejected: empty }, { beta: 2 }),
      LossInputError,
      'logps.policyChosen',
      /empty/,
    );
  });

  test('a loss that needs the reference, called without it', () => {
    const { policyChosen, policyRejected } = pair();
    const configs: [LossType, PreferenceLossConfig][] = [
      ['sigmoid', { beta: 0.1 }],
      ['alpha-dpo', { beta: 2.5, alpha: 0.1 }],
      ['ipo', { beta: 0.1 }],
      ['r-dpo', { beta: 0.1, rdpo_alpha: 0.01 }],
    ];
    for (const [lossType, config] of configs) {
      expectError(
        () =>
          preferenceLoss(
            lossType,
            { policyChosen, policyRejected, chosenLengths: f64([3, 4, 5]), rejectedLengths: f64([3, 4, 5]) },
            config,
            new AlphaDpoState(),
          ),
        LossInputError,
        'logps.referenceChosen',
        new RegExp(`'${lossType}' needs the reference`),
      );
    }
    expectError(
      () => preferenceLoss('simpo', { ...pair(), referenceRejected: undefined }, { beta: 2 }),
      LossInputError,
      'logps.referenceRejected',
      /both reference/,
    );
  });

  test('missing or bad extras', () => {
    expectError(() => preferenceLoss('orpo', pair(), { beta: 0.1 }), LossInputError, 'logps.chosenNll');
    expectError(() => preferenceLoss('r-dpo', pair(), { beta: 0.1, rdpo_alpha: 0.01 }), LossInputError, 'logps.chosenLengths');
    expectError(
      () =>
        preferenceLoss(
          'r-dpo',
          { ...pair(), chosenLengths: f64([3, 0, 2]), rejectedLengths: f64([1, 1, 1]) },
          { beta: 0.1, rdpo_alpha: 0.01 },
        ),
      LossInputError,
      'logps.chosenLengths[1]',
      /at least one token/,
    );
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0.1, use_weighting: true }), LossInputError, 'logps.wpoChosen');
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0.1, ld_alpha: 0.5 }), LossInputError, 'logps.tokens');
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), policyChosen: [-1, -2, -3] as never }, { beta: 0.1 }),
      LossInputError,
      'logps.policyChosen',
      /Tensor/,
    );
    expectError(
      () => preferenceLoss('sigmoid', { ...pair(), policyChosen: torch.tensor([-1n, -2n, -3n]) }, { beta: 0.1 }),
      LossInputError,
      'logps.policyChosen',
      /floating point/,
    );
    expectError(
      () =>
        preferenceLoss(
          'orpo',
          { policyChosen: f64([-0.5, 0]), policyRejected: f64([-1, -1]), chosenNll: f64([1, 0]), chosenLengths: f64([2, 1]) },
          { beta: 0.1 },
        ),
      LossInputError,
      'logps.policyChosen',
      /< 0/,
    );
    expectError(() => preferenceLoss('alpha-dpo', pair(), { beta: 1, alpha: 0.1 }, {} as AlphaDpoState), LossInputError, 'state');
  });
});

describe('config errors', () => {
  test('unknown loss type suggests the nearest name', () => {
    for (const [typo, suggestion] of [
      ['sigmod', 'sigmoid'],
      ['alpha_dpo', 'alpha-dpo'],
      ['Simpo', 'simpo'],
      ['rdpo', 'r-dpo'],
      ['apo-zero', 'apo_zero'],
    ] as const) {
      assert.throws(
        () => preferenceLoss(typo as LossType, pair(), { beta: 0.1 }),
        (e: unknown) =>
          e instanceof UnknownLossTypeError &&
          e.suggestion === suggestion &&
          e.field === 'loss_type' &&
          e.message.includes(`Did you mean '${suggestion}'`),
        typo,
      );
    }
    assert.throws(
      () => preferenceLoss('xyzzy_plugh' as LossType, pair(), { beta: 0.1 }),
      (e: unknown) => e instanceof UnknownLossTypeError && e.suggestion === null,
    );
    expectError(
      () => preferenceLoss(['sigmoid', 'sfft' as LossType], pair(), { beta: 0.1 }),
      UnknownLossTypeError,
      'loss_type[1]',
      /'sft'/,
    );
    expectError(() => preferenceLoss([], pair(), { beta: 0.1 }), LossConfigError, 'loss_type', /empty/);
  });

  test('exo_pair with zero label smoothing; robust with label smoothing ≥ 0.5', () => {
    expectError(
      () => preferenceLoss('exo_pair', pair(), { beta: 0.1 }),
      LossConfigError,
      'label_smoothing',
      /exo_pair needs label_smoothing > 0.*1e-3/,
    );
    expectError(() => preferenceLoss('robust', pair(), { beta: 0.1, label_smoothing: 0.5 }), LossConfigError, 'label_smoothing', /< 0.5/);
    assert.doesNotThrow(() => preferenceLoss('robust', pair(), { beta: 0.1, label_smoothing: 0.49 }));
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0.1, label_smoothing: 0.6 }), LossConfigError, 'label_smoothing', /≤ 0.5/);
  });

  test('required values, types and ranges', () => {
    expectError(() => preferenceLoss('sigmoid', pair(), {}), LossConfigError, 'beta', /needs beta/);
    expectError(() => preferenceLoss('alpha-dpo', pair(), { beta: 2.5 }, new AlphaDpoState()), LossConfigError, 'alpha', /0.05–0.2/);
    expectError(
      () => preferenceLoss('r-dpo', { ...pair(), chosenLengths: f64([1, 2, 3]), rejectedLengths: f64([1, 2, 3]) }, { beta: 0.1 }),
      LossConfigError,
      'rdpo_alpha',
    );
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0 }), LossConfigError, 'beta', /> 0/);
    expectError(
      () => preferenceLoss('alpha-dpo', pair(), { beta: 2.5, alpha: '5e-2' as never }),
      LossConfigError,
      'alpha',
      /YAML 1.1.*0.05/,
    );
    expectError(
      () => preferenceLoss('alpha-dpo', pair(), { beta: 2.5, alpha: 0.1, ema_momentum: 1 }),
      LossConfigError,
      'ema_momentum',
      /< 1/,
    );
    expectError(
      () => preferenceLoss('alpha-dpo', pair(), { beta: 2.5, alpha: 0.1, normalization: 'emma' as never }),
      LossConfigError,
      'normalization',
      /'ema'/,
    );
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0.1, ld_alpha: 1.5 }), LossConfigError, 'ld_alpha', /≤ 1/);
    expectError(() => preferenceLoss('sigmoid', pair(), { beta: 0.1, use_weighting: 'yes' as never }), LossConfigError, 'use_weighting');
    expectError(() => preferenceLoss('sigmoid', pair(), null as never), LossConfigError, 'config');
  });

  test('unknown keys, keys with no effect, loss_type in the config, weight count', () => {
    expectError(
      () => preferenceLoss('simpo', pair(), { beta: 2, gama_beta_ratio: 0.5 } as never),
      LossConfigError,
      'gama_beta_ratio',
      /Did you mean 'gamma_beta_ratio'/,
    );
    expectError(
      () => preferenceLoss('sigmoid', pair(), { beta: 0.1, loss_type: 'sigmoid' } as never),
      LossConfigError,
      'loss_type',
      /first argument/,
    );
    expectError(
      () => preferenceLoss('sigmoid', pair(), { beta: 0.1, gamma_beta_ratio: 0.5 }),
      LossConfigError,
      'gamma_beta_ratio',
      /no effect on loss_type 'sigmoid'/,
    );
    expectError(
      () => preferenceLoss('hinge', pair(), { beta: 0.1, label_smoothing: 0.1 }),
      LossConfigError,
      'label_smoothing',
      /no effect/,
    );
    expectError(
      () => preferenceLoss('simpo', pair(), { beta: 2, f_divergence_type: 'js_divergence' }),
      LossConfigError,
      'f_divergence_type',
      /no effect/,
    );
    // A value equal to the default changes nothing, so it is accepted anywhere.
    assert.doesNotThrow(() => preferenceLoss('hinge', pair(), { beta: 0.1, label_smoothing: 0, f_divergence_type: 'reverse_kl' }));
    expectError(
      () => preferenceLoss(['sigmoid', 'hinge'], pair(), { beta: 0.1, loss_weights: [1] }),
      LossConfigError,
      'loss_weights',
      /1 weight/,
    );
    expectError(
      () => preferenceLoss('aot', pair(), { beta: 0.1, use_weighting: true }),
      LossConfigError,
      'use_weighting',
      /sorts the batch/,
    );
  });
});
