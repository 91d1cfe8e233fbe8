// The page of `alpha-dpo dashboard` and `alpha-dpo report`, run in the browser as a classic
// script after uPlot and series-math.js. Live (dashboard): the server streams each run's rows
// as server-sent events from /api/events. Static (report): the data is in the page, in a
// <script type="application/json" id="alpha-dpo-data"> element. Everything read from run files
// is shown with textContent, never parsed as HTML.
(() => {
  const uPlot = window.uPlot;
  const M = window.AlphaDpoSeriesMath;
  // Tableau 10: distinct hues, readable on white.
  const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

  const state = {
    live: false,
    runs: [], // { name, dir, color, selected, step, tokens, columns, info, status }
    groups: [], // [{ name, metrics }]
    smoothing: 0.6,
    xAxis: 'step',
    charts: new Map(), // metric → { card, plot, signature }
    sections: new Map(), // group → section element
    connection: 'saved report',
  };

  const el = (tag, props, children) => {
    const node = document.createElement(tag);
    if (props) for (const [k, v] of Object.entries(props)) node[k] = v;
    for (const child of children || []) node.append(child);
    return node;
  };

  // ---- data ----

  function emptyRun(name, dir, index) {
    return {
      name,
      dir,
      color: PALETTE[index % PALETTE.length],
      selected: true,
      step: [],
      tokens: [],
      columns: {},
      info: null,
      status: null,
      version: 0, // bumped by every change of rows: keys the series cache
      cache: new Map(), // metric → { key, xs, ys }
    };
  }

  // V8 keeps a large `new Array(n)` as a slow dictionary; push keeps it a fast array.
  function nulls(n) {
    const a = [];
    for (let i = 0; i < n; i++) a.push(null);
    return a;
  }

  function applyRows(run, rows, reset) {
    if (reset) {
      run.step = [];
      run.tokens = [];
      run.columns = {};
    }
    run.version += 1;
    if (rows.from !== run.step.length) return false; // out of order: the caller reloads the run
    const before = run.step.length;
    for (const s of rows.step) run.step.push(s);
    for (const t of rows.tokens) run.tokens.push(t);
    const added = rows.step.length;
    for (const [name, cells] of Object.entries(rows.columns)) {
      if (!run.columns[name]) run.columns[name] = nulls(before);
      for (const c of cells) run.columns[name].push(c);
    }
    for (const column of Object.values(run.columns)) while (column.length < before + added) column.push(null);
    return true;
  }

  // One run's points of one metric on the chosen x axis: rows without the metric (or, by tokens,
  // without a token count) are left out; "NaN"/"Infinity" cells are gaps (NaN here, null for uPlot).
  function seriesOf(run, metric) {
    const key = `${run.version}|${state.xAxis}`;
    const cached = run.cache.get(metric);
    if (cached && cached.key === key) return cached;
    const built = buildSeries(run, metric);
    run.cache.set(metric, { key, xs: built.xs, ys: built.ys });
    return built;
  }

  function buildSeries(run, metric) {
    const cells = run.columns[metric];
    if (!cells) return { xs: new Float64Array(0), ys: new Float64Array(0) };
    const x = state.xAxis === 'tokens' ? run.tokens : run.step;
    const xs = new Float64Array(cells.length);
    const ys = new Float64Array(cells.length);
    let n = 0;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c === null || x[i] === null || x[i] === undefined) continue;
      if (n > 0 && x[i] < xs[n - 1]) continue; // keep x ascending
      xs[n] = x[i];
      ys[n] = typeof c === 'number' ? c : Number.NaN;
      n += 1;
    }
    return { xs: xs.subarray(0, n), ys: ys.subarray(0, n) };
  }

  // ---- charts ----

  const formatValue = (v) => {
    if (v === null || v === undefined) return '—';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
    return String(Number(v.toPrecision(5)));
  };
  const formatTick = (v) => {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  };
  const formatX = (v) => {
    if (v === null || v === undefined) return '—';
    if (state.xAxis === 'tokens' && Math.abs(v) >= 1e3) {
      return Math.abs(v) >= 1e6 ? `${Number((v / 1e6).toPrecision(4))}M` : `${Number((v / 1e3).toPrecision(4))}k`;
    }
    return String(v);
  };

  function chartData(metric, width) {
    const tables = [];
    const series = [{ label: state.xAxis, value: (_u, v) => formatX(v) }];
    const smoothing = state.smoothing;
    const buckets = Math.max(50, Math.floor(width));
    let points = 0;
    for (const run of state.runs) {
      if (!run.selected) continue;
      const { xs, ys } = seriesOf(run, metric);
      if (xs.length === 0) continue;
      points += xs.length;
      const keep = M.decimateIndices(xs, ys, buckets);
      const pick = (arr) => keep.map((i) => (Number.isNaN(arr[i]) ? null : arr[i]));
      const sparse = xs.length < 40; // evaluation points and short runs: draw the points too
      const pointStyle = { show: sparse, size: 5 };
      if (smoothing > 0) {
        tables.push([pick(xs), pick(ys), pick(M.smooth(ys, smoothing))]);
        series.push({
          label: `${run.name} (raw)`,
          stroke: `${run.color}55`,
          width: 1,
          points: { show: false },
          value: (_u, v) => formatValue(v),
        });
        series.push({ label: run.name, stroke: run.color, width: 2, points: pointStyle, value: (_u, v) => formatValue(v) });
      } else {
        tables.push([pick(xs), pick(ys)]);
        series.push({ label: run.name, stroke: run.color, width: 1.5, points: pointStyle, value: (_u, v) => formatValue(v) });
      }
    }
    if (tables.length === 0) return null;
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    return { data, series, points };
  }

  function section(group) {
    let node = state.sections.get(group);
    if (!node) {
      node = el('section', { className: 'group' }, [el('h2', { textContent: group }), el('div', { className: 'grid' })]);
      node.dataset.group = group;
      state.sections.set(group, node);
    }
    return node;
  }

  function cardWidth() {
    const main = document.getElementById('charts');
    const w = (main.clientWidth || 992) - 32; // less #charts' padding
    const columns = Math.max(1, Math.floor(w / 430));
    // card padding (2 × 8 px), border (2 × 1 px) and the 12 px gap between cards
    return Math.floor((w - (columns - 1) * 12) / columns) - 20;
  }

  function render() {
    const main = document.getElementById('charts');
    const width = cardWidth();
    const wanted = new Set();
    let order = 0;
    for (const group of state.groups) {
      const sec = section(group.name);
      let any = false;
      for (const metric of group.metrics) {
        const built = chartData(metric, width);
        if (!built) continue;
        any = true;
        wanted.add(metric);
        const signature = `${built.series.map((s) => s.label).join('|')}#${state.xAxis}`;
        let chart = state.charts.get(metric);
        if (chart && chart.signature !== signature) {
          chart.plot.destroy();
          chart.card.remove();
          chart = undefined;
        }
        if (!chart) {
          const holder = el('div', { className: 'plot' });
          const card = el('div', { className: 'card' }, [el('h3', { textContent: metric }), holder]);
          card.dataset.metric = metric;
          const plot = new uPlot(
            {
              width,
              height: 220,
              series: built.series,
              scales: { x: { time: false } },
              axes: [{ values: (_u, vals) => vals.map(formatX) }, { size: 64, values: (_u, vals) => vals.map(formatTick) }],
              // hover values: each run's nearest point within 30 px of the cursor, else none
              // (no horizontal line: synchronised charts have different y scales)
              cursor: { sync: { key: 'alpha-dpo' }, hover: { prox: 30 }, y: false },
              legend: { live: true },
            },
            built.data,
            holder,
          );
          chart = { card, plot, signature };
          state.charts.set(metric, chart);
        } else {
          chart.plot.setData(built.data);
          if (chart.plot.width !== width) chart.plot.setSize({ width, height: 220 });
        }
        chart.card.style.order = String(order++);
        chart.card.dataset.points = String(built.points); // points drawn before decimation, over the shown runs
        const grid = sec.querySelector('.grid');
        if (chart.card.parentNode !== grid) grid.append(chart.card);
      }
      if (any && sec.parentNode !== main) main.append(sec);
      if (!any) sec.remove();
      sec.style.order = String(order++);
    }
    for (const [metric, chart] of state.charts) {
      if (wanted.has(metric)) continue;
      chart.plot.destroy();
      chart.card.remove();
      state.charts.delete(metric);
    }
    const empty = document.getElementById('empty');
    empty.hidden = wanted.size > 0;
    if (wanted.size === 0) {
      empty.textContent = state.live
        ? `Waiting for metrics: nothing logged yet in ${state.runs.map((r) => `${r.dir}/metrics.jsonl`).join(', ')}.`
        : 'No metrics in this run.';
    }
    renderRuns();
  }

  // Renders on the next frame, at most about twice a second (a run logging every step of a
  // long series would otherwise redraw every chart on every line).
  let scheduled = false;
  let lastRender = 0;
  function scheduleRender() {
    if (scheduled) return;
    scheduled = true;
    const wait = Math.max(0, lastRender + 500 - performance.now());
    setTimeout(
      () =>
        requestAnimationFrame(() => {
          scheduled = false;
          lastRender = performance.now();
          render();
        }),
      wait,
    );
  }

  // ---- run selector, status and details ----

  function statusText(run) {
    const parts = [`${run.step.length} rows`];
    if (run.step.length > 0) parts.push(`step ${run.step[run.step.length - 1]}`);
    const s = run.status;
    if (s) {
      if (s.badLines > 0) parts.push(`${s.badLines} unreadable line${s.badLines === 1 ? '' : 's'} skipped (first: line ${s.firstBadLine})`);
      if (s.pendingBytes > 0) parts.push(`an unfinished last line (${s.pendingBytes} bytes) not shown yet`);
      if (s.error) parts.push(s.error);
    }
    return parts.join(' · ');
  }

  function renderRuns() {
    const list = document.getElementById('runs');
    list.replaceChildren(
      ...state.runs.map((run, i) => {
        const box = el('input', { type: 'checkbox', checked: run.selected });
        box.dataset.run = String(i);
        box.addEventListener('change', () => {
          run.selected = box.checked;
          scheduleRender();
        });
        const swatch = el('span', { className: 'swatch' });
        swatch.style.background = run.color;
        return el('label', { className: 'run' }, [
          box,
          swatch,
          el('b', { textContent: run.name }),
          el('span', { className: 'status', textContent: statusText(run) }),
        ]);
      }),
    );
    const hasTokens = state.runs.some((r) => r.tokens.some((t) => t !== null));
    const tokenOption = document.querySelector('#x-axis option[value="tokens"]');
    tokenOption.disabled = !hasTokens;
    tokenOption.textContent = hasTokens ? 'tokens' : 'tokens (not logged: no num_tokens)';
    document.getElementById('connection').textContent = state.connection;
  }

  function table(record) {
    const rows = Object.entries(record).map(([k, v]) =>
      el('tr', {}, [
        el('th', { textContent: k }),
        el('td', { textContent: typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v) }),
      ]),
    );
    return el('table', {}, rows);
  }

  function renderInfo() {
    const holder = document.getElementById('details');
    holder.replaceChildren(
      ...state.runs.map((run) => {
        const info = run.info;
        const parts = [el('summary', { textContent: `${run.name} — ${run.dir}` })];
        if (!info) parts.push(el('p', { textContent: 'no run files read yet' }));
        else {
          if (info.summary) parts.push(el('h4', { textContent: 'summary (train_summary.json)' }), table(info.summary));
          else parts.push(el('p', { textContent: 'no train_summary.json (the run is still going, or stopped early)' }));
          if (info.evaluation) parts.push(el('h4', { textContent: 'final evaluation' }), table(info.evaluation));
          parts.push(el('h4', { textContent: 'checkpoints' }));
          parts.push(
            info.checkpoints.length > 0
              ? el(
                  'ul',
                  {},
                  info.checkpoints.map((c) =>
                    el('li', { textContent: `${c.name} (step ${c.step}${c.epoch === null ? '' : `, epoch ${formatValue(c.epoch)}`})` }),
                  ),
                )
              : el('p', { textContent: 'none' }),
          );
          if (info.config) parts.push(el('h4', { textContent: 'config' }), table(info.config));
          for (const p of info.problems) parts.push(el('p', { className: 'problem', textContent: p }));
        }
        const details = el('details', {}, parts);
        details.open = state.runs.length === 1;
        return details;
      }),
    );
  }

  // ---- controls ----

  function buildControls() {
    const smoothing = document.getElementById('smoothing');
    const smoothingValue = document.getElementById('smoothing-value');
    smoothing.value = String(state.smoothing);
    smoothingValue.textContent = state.smoothing.toFixed(2);
    smoothing.addEventListener('input', () => {
      state.smoothing = Number(smoothing.value);
      smoothingValue.textContent = state.smoothing.toFixed(2);
      scheduleRender();
    });
    const xAxis = document.getElementById('x-axis');
    xAxis.addEventListener('change', () => {
      state.xAxis = xAxis.value;
      scheduleRender();
    });
    let resizeTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(scheduleRender, 150);
    });
  }

  // ---- sources ----

  function loadStatic(data) {
    state.groups = data.groups;
    state.runs = data.runs.map((r, i) => {
      const run = emptyRun(r.name, r.dir, i);
      applyRows(run, r.rows, true);
      run.info = r.info;
      run.status = r.status;
      return run;
    });
    renderInfo();
    render();
  }

  function connect() {
    state.live = true;
    state.connection = 'connecting…';
    const source = new EventSource('/api/events');
    source.addEventListener('hello', (event) => {
      const data = JSON.parse(event.data);
      state.connection = 'live';
      loadStatic(data);
    });
    source.addEventListener('rows', (event) => {
      const msg = JSON.parse(event.data);
      const run = state.runs[msg.run];
      if (!run) return;
      state.groups = msg.groups;
      run.status = msg.status;
      if (!applyRows(run, msg.rows, msg.reset)) {
        // a gap in the stream (should not happen with one ordered connection): start over
        source.close();
        connect();
        return;
      }
      scheduleRender();
    });
    source.addEventListener('info', (event) => {
      const msg = JSON.parse(event.data);
      const run = state.runs[msg.run];
      if (!run) return;
      run.info = msg.info;
      renderInfo();
    });
    source.addEventListener('error', () => {
      state.connection = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
      renderRuns();
    });
  }

  buildControls();
  const embedded = document.getElementById('alpha-dpo-data');
  if (embedded) loadStatic(JSON.parse(embedded.textContent));
  else connect();
})();
