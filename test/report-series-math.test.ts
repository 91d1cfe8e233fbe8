// The page's smoothing and decimation (src/report/browser/series-math.js), loaded in a node:vm
// context exactly as the browser runs it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';

interface SeriesMath {
  smooth(ys: ArrayLike<number>, weight: number): Float64Array;
  decimateIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, buckets: number): number[];
}

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'report', 'browser', 'series-math.js');
const context: { globalThis?: unknown; AlphaDpoSeriesMath?: SeriesMath } = {};
context.globalThis = context;
runInNewContext(readFileSync(file, 'utf8'), context);
const inVm = context.AlphaDpoSeriesMath as SeriesMath;
// Arrays made in the vm context have that context's Array prototype: copy them into this one.
const M: SeriesMath = {
  smooth: (ys, weight) => inVm.smooth(ys, weight),
  decimateIndices: (xs, ys, buckets) => Array.from(inVm.decimateIndices(xs, ys, buckets)),
};

describe('smooth (TensorBoard debiased EMA)', () => {
  test('hand-computed values for w = 0.5, a gap left as a gap', () => {
    // n=1: last = 0.5·0 + 0.5·1 = 0.5, shown 0.5/(1−0.5) = 1
    // n=2: last = 0.25 + 1 = 1.25, shown 1.25/(1−0.25) = 5/3
    // gap: NaN, the average does not move
    // n=3: last = 0.625 + 2 = 2.625, shown 2.625/(1−0.125) = 3
    const out = M.smooth([1, 2, Number.NaN, 4], 0.5);
    assert.equal(out[0], 1);
    assert.ok(Math.abs((out[1] as number) - 5 / 3) < 1e-15);
    assert.ok(Number.isNaN(out[2]));
    assert.equal(out[3], 3);
  });

  test('weight 0 returns the values unchanged; a constant series stays constant at any weight', () => {
    assert.deepEqual([...M.smooth([3, Number.NaN, 1], 0)], [3, Number.NaN, 1]);
    for (const v of M.smooth([0.7, 0.7, 0.7, 0.7], 0.99)) assert.ok(Math.abs((v as number) - 0.7) < 1e-12);
  });
});

describe('decimateIndices (min/max per pixel bucket)', () => {
  const xs = Array.from({ length: 100_000 }, (_, i) => i + 1);
  // a slow sine plus a spike at index 77 777 and a gap at 50 000
  const ys = Float64Array.from(xs, (x) => Math.sin(x / 5000));
  ys[77_777] = 10;
  ys[50_000] = Number.NaN;

  test('100 000 points in 500 buckets: at most 4 per bucket plus gaps, ascending, extremes and gap kept', () => {
    const keep = M.decimateIndices(xs, ys, 500);
    assert.ok(keep.length <= 4 * 500 + 1, `kept ${keep.length}`);
    assert.ok(keep.length >= 500, `kept ${keep.length}`);
    for (let i = 1; i < keep.length; i++) assert.ok((keep[i] as number) > (keep[i - 1] as number));
    assert.equal(keep[0], 0);
    assert.equal(keep[keep.length - 1], 99_999);
    assert.ok(keep.includes(77_777), 'the spike');
    assert.ok(keep.includes(50_000), 'the gap');
    let lowest = 0;
    for (let i = 0; i < ys.length; i++) if ((ys[i] as number) < (ys[lowest] as number)) lowest = i;
    assert.ok(keep.includes(lowest), 'the global minimum');
  });

  test('every point is kept when there are no more than 4 per bucket', () => {
    assert.deepEqual(M.decimateIndices([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], 2), [0, 1, 2, 3, 4]);
  });

  test('each bucket keeps its first, lowest, highest and last point', () => {
    // 12 points in 1 bucket: first index 0, min at 4 (−9), max at 7 (+9), last 11
    const ys1 = [0, 1, 2, 3, -9, 1, 2, 9, 1, 0, 1, 2];
    const xs1 = ys1.map((_, i) => i);
    assert.deepEqual(M.decimateIndices(xs1, ys1, 1), [0, 4, 7, 11]);
  });
});
