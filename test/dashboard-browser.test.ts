// The dashboard and the report in a real browser (Debian's chromium, driven headless by
// playwright-core; no browser download), on a short real training run: the page loads without
// console errors, draws a chart for every metric of every section with as many points as
// metrics.jsonl has, follows lines appended while it is open, and the report opens from a
// file URL. Screenshots go to $ALPHA_DPO_TEST_OUTPUT (default: <tmp>/alpha-dpo-test-output).
// Skipped, saying why, without chromium or playwright-core.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runTrain } from '../src/cli/train.js';
import { PRESETS, randomInit, torch } from '../src/index.js';
import { DashboardServer } from '../src/report/dashboard-server.js';
import { writeReport } from '../src/report/report-file.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const outputDir = process.env.ALPHA_DPO_TEST_OUTPUT ?? join(tmpdir(), 'alpha-dpo-test-output');
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'tokenizer-chatml');

type Playwright = typeof import('playwright-core');
let playwright: Playwright | null = null;
let skipReason: string | null = null;
if (!existsSync(CHROMIUM))
  skipReason = `no chromium at ${CHROMIUM} (Debian: apt-get install chromium, or bash scripts/setup.sh --dev; or set CHROMIUM_PATH)`;
else {
  try {
    playwright = await import('playwright-core');
  } catch {
    skipReason = 'playwright-core is not installed (npm install: it is a devDependency)';
  }
}

let root = '';
let run = '';

const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
function rows(n: number, offset: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = (k: number) => words[(i * 3 + k + offset) % words.length];
    return JSON.stringify({
      prompt: [{ role: 'user', content: `name a ${w(0)} thing` }],
      chosen: [{ role: 'assistant', content: `${w(1)} ${w(2)}` }],
      rejected: [{ role: 'assistant', content: `${w(3)}` }],
    });
  }).join('\n');
}

interface Metrics {
  lines: Record<string, unknown>[];
  count(metric: string): number;
}

async function readMetrics(): Promise<Metrics> {
  const lines = (await readFile(join(run, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, count: (metric) => lines.filter((l) => metric in l).length };
}

describe('dashboard in a browser', { skip: skipReason ?? false }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'alpha-dpo-browser-'));
    torch.manualSeed(0);
    const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
    await model.savePretrained(join(root, 'model'));
    model.dispose();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(fixtures, f), join(root, 'model', f));
    await mkdir(join(root, 'data'));
    await writeFile(join(root, 'data', 'train.jsonl'), rows(8, 0));
    await writeFile(join(root, 'data', 'test.jsonl'), rows(4, 5));
    run = join(root, 'alpha-dpo-run');
    const config = join(root, 'run.yaml');
    await writeFile(
      config,
      [
        `model_name_or_path: ${join(root, 'model')}`,
        `dataset: ${join(root, 'data')}`,
        'loss_type: alpha-dpo',
        'beta: 2.5',
        'gamma_beta_ratio: 0.3',
        'alpha: 5e-2',
        'learning_rate: 1.0e-3',
        'per_device_train_batch_size: 2',
        'per_device_eval_batch_size: 2',
        'max_steps: 6',
        'logging_steps: 1',
        'eval_steps: 3',
        'save_steps: 3',
        `output_dir: ${run}`,
      ].join('\n'),
    );
    const log: string[] = [];
    assert.equal(await runTrain([config], { out: (t) => log.push(t), err: (t) => log.push(t) }), 0, log.join('\n'));
    await mkdir(outputDir, { recursive: true });
  });
  after(async () => rm(root, { recursive: true, force: true }));

  test('the live dashboard draws every metric section and follows appended lines', async (t) => {
    const browser = await (playwright as Playwright).chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    const server = await DashboardServer.start([run], { port: 0, pollMs: 100 });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      await page.goto(server.url);
      await page.waitForSelector('.card[data-metric="loss"] canvas', { state: 'attached' }).catch((e: Error) => {
        throw new Error(`${e.message}\n${problems.join('\n')}`);
      });

      const metrics = await readMetrics();
      // The α-DPO trainer logs these (TRL names); each must have its chart with one point per line.
      const expected = [
        'loss',
        'rewards/accuracies',
        'rewards/margins',
        'logps/chosen',
        'margin/mean',
        'gap/running_mean',
        'grad_norm',
        'learning_rate',
        'eval_loss',
      ];
      for (const metric of expected) {
        const card = page.locator(`.card[data-metric="${metric}"]`);
        assert.equal(await card.locator('canvas').count(), 1, `${metric}: one canvas`);
        assert.equal(await card.getAttribute('data-points'), String(metrics.count(metric)), `${metric}: points`);
      }
      assert.equal(metrics.count('loss'), 6, 'six training log lines (logging_steps 1, max_steps 6)');
      assert.equal(metrics.count('eval_loss'), 2, 'two evaluations (eval_steps 3)');
      // (selectors only: the page's CSP forbids evaluating strings, and this project's TypeScript has no DOM types)
      const sections = await Promise.all((await page.locator('section.group').all()).map((n) => n.getAttribute('data-group')));
      for (const group of ['loss', 'rewards', 'logps', 'margin', 'gap', 'optimisation', 'eval'])
        assert.ok(sections.includes(group), `section ${group} in ${sections}`);
      // every metric in the file has a chart
      const names = new Set(metrics.lines.flatMap((l) => Object.keys(l)).filter((k) => k !== 'step'));
      assert.equal(await page.locator('.card').count(), names.size);

      // live: a line appended to metrics.jsonl shows up without a reload
      await appendFile(join(run, 'metrics.jsonl'), `${JSON.stringify({ step: 7, loss: 0.123, 'rewards/accuracies': 1 })}\n`);
      await page.locator('.card[data-metric="loss"][data-points="7"]').waitFor({ state: 'attached', timeout: 60_000 });
      assert.match((await page.locator('.run .status').textContent()) ?? '', /8 rows|step 7/);

      // hover: the legend under the loss chart shows the values under the cursor
      const over = page.locator('.card[data-metric="loss"] .u-over');
      const box = await over.boundingBox();
      assert.ok(box);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const legend = await page.locator('.card[data-metric="loss"] .u-legend .u-value').allTextContents();
      assert.ok(
        legend.some((v) => /^-?\d/.test(v)),
        `legend values under the cursor: ${legend}`,
      );
      // the run selector: unticking the only run leaves no chart, ticking it brings them back
      await page.locator('.run input[type="checkbox"]').uncheck();
      await page.locator('.card').first().waitFor({ state: 'detached', timeout: 60_000 });
      await page.locator('.run input[type="checkbox"]').check();
      await page.locator('.card canvas').first().waitFor({ state: 'attached', timeout: 60_000 });
      await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2);

      const shot = join(outputDir, 'dashboard.png');
      await page.screenshot({ path: shot }); // the first screen (1400 × 1000), as a person opening it sees it
      t.diagnostic(`screenshot: ${shot}`);
      assert.deepEqual(problems, []);
    } finally {
      await server.close();
      await browser.close();
    }
  });

  test('the report opens from a file URL with its charts and no console errors', async (t) => {
    const file = join(root, 'report.html');
    await writeReport([run], file);
    const browser = await (playwright as Playwright).chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
      });
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('.card[data-metric="loss"] canvas', { state: 'attached' }).catch((e: Error) => {
        throw new Error(`${e.message}\n${problems.join('\n')}`);
      });
      const metrics = await readMetrics();
      assert.equal(await page.locator('.card[data-metric="loss"]').getAttribute('data-points'), String(metrics.count('loss')));
      // the run's details: checkpoints and config from trainer_state.json, the summary
      const details = (await page.locator('#details').textContent()) ?? '';
      assert.match(details, /checkpoint-3 \(step 3/);
      assert.match(details, /checkpoint-6 \(step 6/);
      assert.match(details, /loss_type.*alpha-dpo/s);
      assert.match(details, /train_summary\.json/);
      const shot = join(outputDir, 'report.png');
      await page.screenshot({ path: shot }); // the first screen (1400 × 1000), as a person opening it sees it
      t.diagnostic(`screenshot: ${shot}`);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
