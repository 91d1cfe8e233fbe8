// `alpha-dpo report`: one self-contained HTML file (no http(s) address anywhere it would load
// from, uPlot and the data inline), the run's summary, evaluation, checkpoints and config, and
// run folders with files missing or broken.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runReport } from '../src/cli/report.js';
import type { PageData } from '../src/report/page-data.js';
import { reportHtml } from '../src/report/report-file.js';
import { readRunInfo } from '../src/report/run-info.js';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'alpha-dpo-report-'));
});
after(async () => rm(root, { recursive: true, force: true }));

function embeddedData(html: string): PageData {
  const m = /<script type="application\/json" id="alpha-dpo-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the data block');
  return JSON.parse(m[1] as string) as PageData;
}

describe('alpha-dpo report', () => {
  test('writes one self-contained file: assets inline, nothing loaded from any address', async () => {
    const run = join(root, 'complete');
    await mkdir(join(run, 'checkpoint-2'), { recursive: true });
    await writeFile(
      join(run, 'metrics.jsonl'),
      '{"step":1,"loss":0.69,"rewards/accuracies":0.5}\n{"step":2,"loss":0.5,"rewards/accuracies":1}\n{"step":2,"eval_loss":0.55}\n',
    );
    await writeFile(
      join(run, 'checkpoint-2', 'trainer_state.json'),
      JSON.stringify({ global_step: 2, epoch: 1, config: { loss_type: 'alpha-dpo', beta: 2.5 } }),
    );
    await writeFile(
      join(run, 'train_summary.json'),
      JSON.stringify({ steps: 2, totalSteps: 2, finalLoss: 0.5, evalMetrics: { step: 2, eval_loss: 0.55 }, run_name: 'demo' }),
    );
    const out = join(root, 'report.html');
    const lines: string[] = [];
    assert.equal(await runReport([run, '--out', out], { out: (t) => lines.push(t), err: assert.fail }), 0);
    assert.match(lines.join(''), /report: .*report\.html \(\d+ KiB; 3 metrics rows\)/);
    const html = await readFile(out, 'utf8');

    // nothing to fetch: no src attribute at all, hrefs only data: URLs, a CSP that forbids loading
    assert.deepEqual([...html.matchAll(/\ssrc\s*=/gi)], []);
    assert.deepEqual(
      [...html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((m) => m[1]),
      ['data:,'],
    );
    assert.doesNotMatch(html, /<link[^>]+stylesheet/i);
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'/);
    // uPlot's own code is inline (its IIFE assigns the global uPlot), as are the page script and style
    const uplot = readFileSync(
      join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist', 'uPlot.iife.min.js'),
      'utf8',
    );
    assert.ok(html.includes(uplot.slice(0, 200)), 'uPlot inline');
    assert.match(html, /AlphaDpoSeriesMath = \{ smooth, decimateIndices \}/);

    const data = embeddedData(html);
    assert.equal(data.runs.length, 1);
    const r = data.runs[0] as PageData['runs'][number];
    assert.equal(r.name, 'complete');
    assert.deepEqual(r.rows.step, [1, 2, 2]);
    assert.deepEqual(r.rows.columns.loss, [0.69, 0.5, null]);
    assert.deepEqual(r.rows.columns.eval_loss, [null, null, 0.55]);
    assert.deepEqual(r.info?.summary, { steps: 2, totalSteps: 2, finalLoss: 0.5, run_name: 'demo' });
    assert.deepEqual(r.info?.evaluation, { step: 2, eval_loss: 0.55 });
    assert.deepEqual(r.info?.checkpoints, [{ name: 'checkpoint-2', step: 2, epoch: 1 }]);
    assert.deepEqual(r.info?.config, { loss_type: 'alpha-dpo', beta: 2.5 });
    assert.deepEqual(
      data.groups.map((g) => g.name),
      ['loss', 'rewards', 'eval'],
    );
  });

  test('a folder with no metrics.jsonl, a broken summary and an unfinished checkpoint still gives a report', async () => {
    const run = join(root, 'broken');
    await mkdir(join(run, 'checkpoint-5'), { recursive: true }); // no trainer_state.json: being written
    await writeFile(join(run, 'train_summary.json'), '{"steps": 3,');
    const { html, rows } = await reportHtml([run]);
    assert.deepEqual(rows, [0]);
    const r = embeddedData(html).runs[0] as PageData['runs'][number];
    assert.equal(r.info?.summary, null);
    assert.deepEqual(r.info?.checkpoints, []);
    assert.equal(r.info?.problems.length, 1);
    assert.match(r.info?.problems[0] as string, /train_summary\.json: not JSON/);
  });

  test('checkpoints: all complete ones listed, the config and epoch from the newest complete one', async () => {
    const run = join(root, 'checkpoints');
    for (const [step, epoch] of [
      [10, 0.5],
      [20, 1],
    ] as const) {
      await mkdir(join(run, `checkpoint-${step}`), { recursive: true });
      await writeFile(join(run, `checkpoint-${step}`, 'trainer_state.json'), JSON.stringify({ epoch, config: { learning_rate: step } }));
    }
    await mkdir(join(run, 'checkpoint-30')); // being written: no trainer_state.json yet
    await mkdir(join(run, '.tmp-checkpoint-40-123')); // the trainer's temporary folder
    const info = await readRunInfo(run);
    assert.deepEqual(info.checkpoints, [
      { name: 'checkpoint-10', step: 10, epoch: null },
      { name: 'checkpoint-20', step: 20, epoch: 1 },
    ]);
    assert.deepEqual(info.config, { learning_rate: 20 });
    assert.deepEqual(info.problems, []);
  });

  test('text from run files cannot end the data block or the page: "<" is escaped in the embedded JSON', async () => {
    const run = join(root, 'hostile');
    await mkdir(join(run, 'checkpoint-1'), { recursive: true });
    await writeFile(join(run, 'metrics.jsonl'), '{"step":1,"</script><script>alert(1)</script>":1}\n');
    await writeFile(
      join(run, 'checkpoint-1', 'trainer_state.json'),
      JSON.stringify({ config: { note: '</script><img src=x onerror=alert(1)>' } }),
    );
    const { html } = await reportHtml([run]);
    // four script elements (data, uPlot, series-math.js, dashboard.js), so exactly four closing tags
    assert.equal(html.split('</script>').length - 1, 4);
    assert.doesNotMatch(html, /<img/);
    const data = embeddedData(html);
    assert.equal(data.runs[0]?.info?.config?.note, '</script><img src=x onerror=alert(1)>');
    assert.deepEqual(Object.keys(data.runs[0]?.rows.columns ?? {}), ['</script><script>alert(1)</script>']);
  });

  test('several runs of very different lengths overlay in one report', async () => {
    const long = join(root, 'long');
    const short = join(root, 'short');
    await mkdir(long);
    await mkdir(short);
    await writeFile(
      join(long, 'metrics.jsonl'),
      Array.from({ length: 5000 }, (_, i) => `{"step":${i + 1},"loss":${1 / (i + 1)}}\n`).join(''),
    );
    await writeFile(join(short, 'metrics.jsonl'), '{"step":1,"loss":0.9}\n');
    const { rows, html } = await reportHtml([long, short]);
    assert.deepEqual(rows, [5000, 1]);
    assert.deepEqual(
      embeddedData(html).runs.map((r) => r.rows.step.length),
      [5000, 1],
    );
  });
});
