// Reading metrics.jsonl for the dashboard and report: lines with NaN/Infinity, files appended
// to while read, truncated last lines, replaced files, missing keys, resumed runs, and long runs.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { groupMetrics, metricGroupOf } from '../src/report/metric-groups.js';
import { parseMetricsLine } from '../src/report/metrics-line.js';
import { MetricsReader } from '../src/report/metrics-reader.js';
import { RunSeries } from '../src/report/run-series.js';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'alpha-dpo-report-metrics-'));
});
after(async () => rm(root, { recursive: true, force: true }));

describe('parseMetricsLine', () => {
  test('reads the bare NaN / Infinity / -Infinity tokens Python json writes, and JSON null', () => {
    const r = parseMetricsLine('{"step": 3, "loss": NaN, "grad_norm": Infinity, "x": -Infinity, "y": null, "z": -1.5e-3}');
    assert.ok(r.ok);
    assert.equal(r.record.step, 3);
    assert.ok(Number.isNaN(r.record.loss));
    assert.equal(r.record.grad_norm, Number.POSITIVE_INFINITY);
    assert.equal(r.record.x, Number.NEGATIVE_INFINITY);
    assert.equal(r.record.y, null);
    assert.equal(r.record.z, -0.0015);
  });

  test('the tokens inside strings are text: keys named NaN stay keys, string values are dropped', () => {
    const r = parseMetricsLine('{"NaN": 1, "note": "Infinity \\" NaN", "run": "a", "nested": {"a": 1}}');
    assert.ok(r.ok);
    assert.deepEqual(r.record, { NaN: 1 });
  });

  test('a cut-off line and a JSON value that is not an object are errors with a reason', () => {
    const cut = parseMetricsLine('{"step": 4, "loss": 0.6');
    assert.equal(cut.ok, false);
    assert.match((cut as { reason: string }).reason, /^not JSON/);
    assert.deepEqual(parseMetricsLine('[1, 2]'), { ok: false, reason: 'not a JSON object' });
    assert.deepEqual(parseMetricsLine('7'), { ok: false, reason: 'not a JSON object' });
  });
});

describe('MetricsReader', () => {
  test('returns only what was appended since the last read; a missing file reads as empty', async () => {
    const path = join(root, 'append.jsonl');
    const reader = new MetricsReader(path);
    assert.deepEqual(await reader.read(), { reset: false, records: [], badLines: [], pendingBytes: 0 });
    await writeFile(path, '{"step":1,"loss":0.7}\n{"step":2,"loss":0.6}\n');
    assert.deepEqual((await reader.read()).records, [
      { step: 1, loss: 0.7 },
      { step: 2, loss: 0.6 },
    ]);
    assert.deepEqual((await reader.read()).records, []);
    await appendFile(path, '{"step":3,"loss":0.5}\n');
    assert.deepEqual((await reader.read()).records, [{ step: 3, loss: 0.5 }]);
  });

  test('a half-written last line is held back (pendingBytes) until its newline arrives', async () => {
    const path = join(root, 'partial.jsonl');
    const reader = new MetricsReader(path);
    await writeFile(path, '{"step":1,"loss":0.7}\n{"step":2,"lo');
    const first = await reader.read();
    assert.deepEqual(first.records, [{ step: 1, loss: 0.7 }]);
    assert.equal(first.pendingBytes, '{"step":2,"lo'.length);
    assert.deepEqual(first.badLines, []);
    await appendFile(path, 'ss":0.6}\n{"step":3,"loss":0.5}\n');
    const second = await reader.read();
    assert.deepEqual(second.records, [
      { step: 2, loss: 0.6 },
      { step: 3, loss: 0.5 },
    ]);
    assert.equal(second.pendingBytes, 0);
  });

  test('a whole last line without a newline is read; its later newline adds no blank line', async () => {
    const path = join(root, 'unterminated.jsonl');
    const reader = new MetricsReader(path);
    await writeFile(path, '{"step":1}');
    assert.deepEqual((await reader.read()).records, [{ step: 1 }]);
    await appendFile(path, '\n{"step":2}\nnot json\n');
    const next = await reader.read();
    assert.deepEqual(next.records, [{ step: 2 }]);
    // lines: 1 {"step":1}, 2 {"step":2}, 3 not json
    assert.equal(next.badLines.length, 1);
    assert.equal(next.badLines[0]?.line, 3);
  });

  test('a file that shrinks (replaced by a new run) is read again from the start, flagged reset', async () => {
    const path = join(root, 'replaced.jsonl');
    const reader = new MetricsReader(path);
    await writeFile(path, '{"step":1}\n{"step":2}\n');
    assert.equal((await reader.read()).records.length, 2);
    await truncate(path, 0);
    await appendFile(path, '{"step":1,"loss":9}\n');
    const again = await reader.read();
    assert.equal(again.reset, true);
    assert.deepEqual(again.records, [{ step: 1, loss: 9 }]);
  });

  test('100 000 lines are read in one pass', async () => {
    const path = join(root, 'long.jsonl');
    const lines: string[] = [];
    for (let s = 1; s <= 100_000; s++) lines.push(JSON.stringify({ step: s, loss: 1 / s, 'rewards/accuracies': (s % 7) / 7 }));
    await writeFile(path, `${lines.join('\n')}\n`);
    const read = await new MetricsReader(path).read();
    assert.equal(read.records.length, 100_000);
    assert.deepEqual(read.records[99_999], { step: 100_000, loss: 1e-5, 'rewards/accuracies': (100_000 % 7) / 7 });
  });
});

describe('RunSeries', () => {
  test('one row per record, null where a record lacks a metric, "NaN"/"Infinity" cells for non-finite values', () => {
    const s = new RunSeries();
    s.append([
      { step: 1, loss: 0.5, grad_norm: Number.POSITIVE_INFINITY },
      { step: 2, loss: null, num_tokens: 300 },
      { step: 2, eval_loss: Number.NaN },
      { loss: 0.25 }, // no step: the previous row's step + 1
    ]);
    const rows = s.rows();
    assert.deepEqual(rows.step, [1, 2, 2, 3]);
    assert.deepEqual(rows.tokens, [null, 300, null, null]);
    assert.deepEqual(rows.columns.loss, [0.5, 'NaN', null, 0.25]);
    assert.deepEqual(rows.columns.grad_norm, ['Infinity', null, null, null]);
    assert.deepEqual(rows.columns.eval_loss, [null, null, 'NaN', null]);
    assert.deepEqual(rows.columns.num_tokens, [null, 300, null, null]);
    assert.deepEqual(s.metricNames, ['loss', 'grad_norm', 'num_tokens', 'eval_loss']);
  });

  test('rows(from) holds only the later rows, and only the metrics they have', () => {
    const s = new RunSeries();
    s.append([
      { step: 1, loss: 1, eval_loss: 2 },
      { step: 2, loss: 0.5 },
    ]);
    assert.deepEqual(s.rows(1), { from: 1, step: [2], tokens: [null], columns: { loss: [0.5] } });
  });

  test('values keep 7 significant digits (display precision); steps stay exact', () => {
    const s = new RunSeries();
    s.append([{ step: 123456789, loss: 2 / 3 }]);
    assert.deepEqual(s.rows().columns.loss, [0.6666667]); // 2/3 = 0.666666666…, rounded at the 7th digit
    assert.deepEqual(s.rows().step, [123456789]);
  });

  test('a resumed run whose steps go back drops its rows from that step on, and says so', () => {
    const s = new RunSeries();
    assert.deepEqual(
      s.append([
        { step: 10, loss: 1 },
        { step: 20, loss: 2 },
        { step: 30, loss: 3, only_late: 1 },
      ]),
      { purged: false },
    );
    // resumed from the step-20 checkpoint: logs step 25 next
    assert.deepEqual(s.append([{ step: 25, loss: 2.5 }]), { purged: true });
    assert.deepEqual(s.rows(), { from: 0, step: [10, 20, 25], tokens: [null, null, null], columns: { loss: [1, 2, 2.5] } });
    assert.deepEqual(s.metricNames, ['loss']);
  });
});

describe('metric groups', () => {
  test("sections follow TRL's names: loss, rewards, logps, logits, margin, gap, other families, optimisation, throughput, other, eval", () => {
    const names = [
      'eval_rewards/accuracies',
      'tokens_per_second',
      'gap/running_mean',
      'learning_rate',
      'rewards/chosen',
      'wpo/weight_mean',
      'loss',
      'logits/chosen',
      'margin/std',
      'logps/rejected',
      'rewards/accuracies',
      'epoch',
      'eval_loss',
      'something',
    ];
    assert.deepEqual(groupMetrics(names), [
      { name: 'loss', metrics: ['loss'] },
      { name: 'rewards', metrics: ['rewards/chosen', 'rewards/accuracies'] },
      { name: 'logps', metrics: ['logps/rejected'] },
      { name: 'logits', metrics: ['logits/chosen'] },
      { name: 'margin', metrics: ['margin/std'] },
      { name: 'gap', metrics: ['gap/running_mean'] },
      { name: 'wpo', metrics: ['wpo/weight_mean'] },
      { name: 'optimisation', metrics: ['learning_rate', 'epoch'] },
      { name: 'throughput', metrics: ['tokens_per_second'] },
      { name: 'other', metrics: ['something'] },
      { name: 'eval', metrics: ['eval_rewards/accuracies', 'eval_loss'] },
    ]);
    assert.equal(metricGroupOf('eval_loss'), 'eval');
    assert.equal(metricGroupOf('grad_norm'), 'optimisation');
  });
});
