// sequenceLogps / tokenLogps / wpoLogWeights against PyTorch's log_softmax + gather over the full
// [B, T−1, V] table (losses.json, scripts/fixtures/gen_losses.py), float64, relative 1e-9.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmptySequenceError, LossInputError, sequenceLogps, tokenLogps, torch, wpoLogWeights } from '../src/index.js';
import { expectClose, fixture } from './losses-fixture.js';

const fx = fixture.sequence_logps;
const logitsOf = (dtype: 'float64' | 'float32' | 'bfloat16' = 'float64') =>
  torch.tensor(fx.logits.data, { dtype: 'float64' }).reshape(fx.logits.shape).to(dtype);
const labelsOf = (rows: number[][] = fx.labels) => torch.tensor(rows, { dtype: 'int64' });

describe('sequenceLogps', () => {
  test('summed and averaged log-probs equal log_softmax + gather', () => {
    expectClose(sequenceLogps(logitsOf(), labelsOf(), { average: false }), fx.sum, 'sum');
    expectClose(sequenceLogps(logitsOf(), labelsOf(), { average: true }), fx.average, 'average');
  });

  test('per-token log-probs and mask', () => {
    const { logps, mask } = tokenLogps(logitsOf(), labelsOf());
    assert.deepEqual([...logps.shape], [3, 6]);
    expectClose(logps, fx.token_logps, 'token log-probs');
    assert.deepEqual(mask.to('float64').toNumbers(), fx.mask);
  });

  test('gradient with respect to the logits equals PyTorch', () => {
    const logits = logitsOf().requiresGrad_();
    sequenceLogps(logits, labelsOf(), { average: true }).sum().backward();
    expectClose(logits.grad!, fx.grad_logits_of_sum_of_averages, 'd(Σ averages)/d logits', 1e-9, 1e-14);
  });

  test('an all-masked sequence is an error naming its row, never NaN', () => {
    // Row 1 keeps only its first label, which the shift drops: nothing is left to score.
    const rows = fx.labels.map((r) => [...r]);
    rows[1] = [5, -100, -100, -100, -100, -100, -100];
    for (const average of [true, false]) {
      assert.throws(
        () => sequenceLogps(logitsOf(), labelsOf(rows), { average }),
        (e: unknown) =>
          e instanceof EmptySequenceError && e.field === 'labels' && e.rows.join() === '1' && /row 1 has no unmasked label/.test(e.message),
      );
    }
    assert.throws(() => wpoLogWeights(logitsOf(), labelsOf(rows)), EmptySequenceError);
  });

  test('16-bit logits are reduced in float32, one row at a time', () => {
    // Expected: the float64 computation on the same bfloat16-rounded logits; float32 accumulation ≈ 1e-7 relative.
    const rounded = logitsOf('bfloat16');
    const got = sequenceLogps(rounded, labelsOf(), { average: true });
    assert.equal(got.dtype, 'float32');
    expectClose(got, sequenceLogps(rounded.to('float64'), labelsOf(), { average: true }).toNumbers(), 'bfloat16', 1e-6);
    expectClose(sequenceLogps(logitsOf('float32'), labelsOf(), { average: true }), fx.average, 'float32', 1e-6);
  });

  test('bad shapes, dtypes and token ids are typed errors', () => {
    assert.throws(
      () => sequenceLogps(logitsOf(), labelsOf().slice(1, 0, 5), { average: true }),
      (e: unknown) => e instanceof LossInputError && e.field === 'labels',
    );
    assert.throws(() => sequenceLogps(logitsOf(), labelsOf().to('int32'), { average: true }), /int64/);
    const outOfRange = fx.labels.map((r) => [...r]);
    outOfRange[0]![3] = 11; // V = 11
    assert.throws(() => sequenceLogps(logitsOf(), labelsOf(outOfRange), { average: true }), /outside \[0, 11\)/);
    assert.throws(
      () => sequenceLogps(logitsOf().reshape([3, 77]), labelsOf(), { average: true }),
      (e: unknown) => e instanceof LossInputError && e.field === 'logits',
    );
  });

  test('WPO log-weights: mean over the completion of log(p_y / Σ_v p_v²)', () => {
    const logits = logitsOf().requiresGrad_();
    const w = wpoLogWeights(logits, labelsOf());
    expectClose(w, fx.wpo, 'wpo');
    assert.equal(w.requiresGrad, false, 'WPO weights carry no gradient');
  });

  test('no tensor is left alive', () => {
    const logits = logitsOf();
    const labels = labelsOf();
    const before = torch.liveTensorCount();
    for (const average of [true, false]) sequenceLogps(logits, labels, { average }).dispose();
    wpoLogWeights(logits, labels).dispose();
    const t = tokenLogps(logits, labels);
    t.logps.dispose();
    t.mask.dispose();
    assert.equal(torch.liveTensorCount(), before);
  });
});
