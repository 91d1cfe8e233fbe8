// Series arithmetic for the dashboard page and the report, run in the browser as a classic
// script (it defines one global, AlphaDpoSeriesMath). The tests load this same file in a
// node:vm context, so what is tested is what the page runs.
//
// A series is parallel arrays xs (ascending) and ys, where ys[i] is a finite number or NaN (a
// gap: the value was NaN or infinite). Float64Arrays are used for long series: plain arrays of
// doubles mixed with null box every number, which made smoothing 100 000 points slow.
((root) => {
  /**
   * TensorBoard's smoothing: an exponential moving average with weight w in [0, 1), debiased
   * for its start (tensorboard/webapp/widgets/line_chart_v2/lib/data_transformer_utils.ts:
   * last = last·w + (1−w)·y; shown = last / (1 − w^n), n = finite values seen). Gaps (NaN)
   * stay gaps and do not move the average. Returns a Float64Array.
   */
  function smooth(ys, weight) {
    const out = new Float64Array(ys.length);
    if (!(weight > 0)) {
      out.set(ys);
      return out;
    }
    let last = 0;
    let debias = 1; // weight^n
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (!Number.isFinite(y)) {
        out[i] = Number.NaN;
        continue;
      }
      last = last * weight + (1 - weight) * y;
      debias *= weight;
      out[i] = last / (1 - debias);
    }
    return out;
  }

  /**
   * Indices of the points to draw when `xs.length` points are shown in `buckets` pixel columns:
   * the x range is cut into equal buckets and each keeps its first, lowest, highest and last
   * point (M4 decimation: a line through them covers the same pixels as the full line) and every
   * gap, in order. At most 4 points per bucket plus gaps; every index when there are no more
   * points than that.
   */
  function decimateIndices(xs, ys, buckets) {
    const n = xs.length;
    const all = [];
    if (n <= 4 * buckets || n < 2) {
      for (let i = 0; i < n; i++) all.push(i);
      return all;
    }
    const x0 = xs[0];
    const span = xs[n - 1] - x0 || 1;
    const keep = [];
    let bucket = -1;
    let first = -1;
    let lo = -1;
    let hi = -1;
    let last = -1;
    const flush = () => {
      if (first < 0) return;
      const picked = [first, lo, hi, last].filter((i) => i >= 0).sort((a, b) => a - b);
      for (let k = 0; k < picked.length; k++) if (k === 0 || picked[k] !== picked[k - 1]) keep.push(picked[k]);
    };
    for (let i = 0; i < n; i++) {
      const b = Math.min(buckets - 1, Math.floor(((xs[i] - x0) / span) * buckets));
      if (b !== bucket) {
        flush();
        bucket = b;
        first = -1;
        lo = -1;
        hi = -1;
        last = -1;
      }
      const y = ys[i];
      if (Number.isNaN(y)) {
        // a gap is kept where it is, between the points around it
        flush();
        keep.push(i);
        first = -1;
        lo = -1;
        hi = -1;
        last = -1;
        continue;
      }
      if (first < 0) first = i;
      if (lo < 0 || y < ys[lo]) lo = i;
      if (hi < 0 || y > ys[hi]) hi = i;
      last = i;
    }
    flush();
    return keep;
  }

  root.AlphaDpoSeriesMath = { smooth, decimateIndices };
})(globalThis);
