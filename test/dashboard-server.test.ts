// `alpha-dpo dashboard`'s server: where it listens, what it serves (the page, uPlot from the
// installed package, the metrics), what it refuses (other paths, other hosts, other methods),
// and live updates over server-sent events when metrics.jsonl grows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../src/cli/command.js';
import { runReport } from '../src/cli/report.js';
import { DashboardServer } from '../src/report/dashboard-server.js';
import { DashboardListenError, RunSourceError } from '../src/report/errors.js';
import type { PageData } from '../src/report/page-data.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
let root = '';
let runA = '';
let runB = '';
let server: DashboardServer;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// A raw request: the path is sent exactly as given (fetch would normalise '..' away).
function get(path: string, options: { host?: string; method?: string } = {}): Promise<Reply> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.host ? { Host: options.host } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const line = (r: object) => `${JSON.stringify(r)}\n`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'alpha-dpo-dashboard-'));
  runA = join(root, 'run-a');
  runB = join(root, 'run-b');
  await mkdir(runA);
  await mkdir(runB);
  await writeFile(join(runA, 'metrics.jsonl'), line({ step: 1, loss: 0.7, 'rewards/accuracies': 0.5 }) + line({ step: 2, loss: 0.6 }));
  // run-b has not logged anything yet
  server = await DashboardServer.start([runA, runB], { port: 0, pollMs: 50, infoMs: 100 });
});
after(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('dashboard server', () => {
  test('listens on 127.0.0.1 by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test('serves the page, which loads uPlot and its script from this server only', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    const sources = [...page.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(sources, [
      'data:,',
      '/assets/uPlot.min.css',
      '/assets/dashboard.css',
      '/assets/uPlot.iife.min.js',
      '/assets/series-math.js',
      '/assets/dashboard.js',
    ]);
  });

  test("serves uPlot byte for byte from the installed 'uplot' package", async () => {
    const dist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
    const js = await get('/assets/uPlot.iife.min.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.equal(js.body, readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'));
    const css = await get('/assets/uPlot.min.css');
    assert.equal(css.body, readFileSync(join(dist, 'uPlot.min.css'), 'utf8'));
  });

  test('/api/runs holds every run read so far, with rows and metric sections', async () => {
    const reply = await get('/api/runs');
    assert.equal(reply.status, 200);
    const data = JSON.parse(reply.body) as PageData;
    assert.deepEqual(
      data.runs.map((r) => [r.name, r.rows.step]),
      [
        ['run-a', [1, 2]],
        ['run-b', []],
      ],
    );
    assert.deepEqual(data.runs[0]?.rows.columns.loss, [0.7, 0.6]);
    assert.deepEqual(data.groups, [
      { name: 'loss', metrics: ['loss'] },
      { name: 'rewards', metrics: ['rewards/accuracies'] },
    ]);
  });

  test('serves nothing else: no path leads to a file, however written', async () => {
    for (const path of [
      '/assets/../package.json',
      '//package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/package.json',
      '/metrics.jsonl',
      '/run-a/metrics.jsonl',
      '/api/runs/../../etc/passwd',
      '/assets/uPlot.iife.min.js/..',
      '/..',
    ]) {
      const reply = await get(path);
      assert.equal(reply.status, 404, `${path} → ${reply.status}`);
      assert.equal(reply.body, 'not found\n');
    }
  });

  test('answers only requests addressed to a loopback name (DNS rebinding), and only GET/HEAD', async () => {
    assert.equal((await get('/', { host: 'attacker.example:80' })).status, 421);
    assert.equal((await get('/api/runs', { host: `localhost:${new URL(server.url).port}` })).status, 200);
    assert.equal((await get('/api/runs', { method: 'POST' })).status, 405);
  });

  test('server-sent events: everything on connect, then each appended line (also in a run that started late)', async () => {
    const url = new URL(server.url);
    const events: { event: string; data: unknown }[] = [];
    let wake: () => void = () => {};
    let buffer = '';
    const req = request({ host: url.hostname, port: url.port, path: '/api/events' }, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          end = buffer.indexOf('\n\n');
        }
        wake();
      });
    });
    req.end();
    const waitFor = async (predicate: () => boolean) => {
      while (!predicate()) await new Promise<void>((r) => (wake = r));
    };
    await waitFor(() => events.length >= 1);
    assert.equal(events[0]?.event, 'hello');
    assert.deepEqual((events[0]?.data as PageData).runs[0]?.rows.step, [1, 2]);

    await appendFile(join(runA, 'metrics.jsonl'), line({ step: 3, loss: 0.5, grad_norm: 1.5 }));
    await waitFor(() => events.some((e) => e.event === 'rows'));
    const rows = events.find((e) => e.event === 'rows')?.data as {
      run: number;
      reset: boolean;
      rows: { from: number; step: number[]; columns: Record<string, unknown[]> };
    };
    assert.equal(rows.run, 0);
    assert.equal(rows.reset, false);
    assert.deepEqual(rows.rows.from, 2);
    assert.deepEqual(rows.rows.step, [3]);
    assert.deepEqual(rows.rows.columns, { loss: [0.5], grad_norm: [1.5] });

    await writeFile(join(runB, 'metrics.jsonl'), line({ step: 1, loss: Number.NaN }).replace('null', 'NaN'));
    await waitFor(() => events.some((e) => e.event === 'rows' && (e.data as { run: number }).run === 1));
    const late = events.find((e) => e.event === 'rows' && (e.data as { run: number }).run === 1)?.data as {
      rows: { columns: Record<string, unknown[]> };
    };
    assert.deepEqual(late.rows.columns, { loss: ['NaN'] });

    await mkdir(join(runA, 'checkpoint-3'));
    await writeFile(
      join(runA, 'checkpoint-3', 'trainer_state.json'),
      JSON.stringify({ global_step: 3, epoch: 0.5, config: { beta: 0.1 } }),
    );
    await waitFor(() => events.some((e) => e.event === 'info'));
    const info = events.find((e) => e.event === 'info')?.data as { run: number; info: { checkpoints: unknown[]; config: unknown } };
    assert.equal(info.run, 0);
    assert.deepEqual(info.info.checkpoints, [{ name: 'checkpoint-3', step: 3, epoch: 0.5 }]);
    assert.deepEqual(info.info.config, { beta: 0.1 });
    req.destroy();
  });
});

describe('dashboard errors', () => {
  test('a missing folder and a file instead of a folder are RunSourceErrors that say what to give', async () => {
    await assert.rejects(DashboardServer.start([join(root, 'nope')], { port: 0 }), (e: Error) => {
      assert.ok(e instanceof RunSourceError);
      assert.match(e.message, /no such folder.*output_dir/);
      return true;
    });
    await assert.rejects(DashboardServer.start([join(runA, 'metrics.jsonl')], { port: 0 }), /not a folder/);
  });

  test('a port in use is a DashboardListenError that suggests --port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(DashboardServer.start([runA], { port }), (e: Error) => {
        assert.ok(e instanceof DashboardListenError);
        assert.match(e.message, new RegExp(`port ${port} is in use.*--port`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});

describe('alpha-dpo dashboard / report commands', () => {
  test('dashboard prints its address, serves, and exits 0 on Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts'), 'dashboard', runA, '--port', '0'], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const address = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m) resolve(m[1] as string);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stdout}${stderr}`)));
    });
    const page = await fetch(address);
    assert.equal(page.status, 200);
    assert.match(stdout, /run run-a: 3 metrics rows/);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
  });

  test('dashboard and report usage mistakes exit 2 with a message; a missing folder exits 1', async () => {
    const { runDashboard } = await import('../src/cli/dashboard.js');
    const errors: string[] = [];
    const err = (t: string) => errors.push(t);
    const io = { out: () => {}, err };
    assert.equal(await runCommand('dashboard', runDashboard, [], io), 2);
    assert.equal(await runCommand('dashboard', runDashboard, [runA, '--port', 'abc'], io), 2);
    assert.equal(await runCommand('dashboard', runDashboard, [runA, '--colour', 'red'], io), 2);
    assert.equal(await runCommand('report', runReport, [runA], io), 2);
    assert.equal(await runCommand('report', runReport, [join(root, 'nope'), '--out', join(root, 'r.html')], io), 1);
    assert.match(errors[0] as string, /name at least one run folder/);
    assert.match(errors[1] as string, /--port must be a whole number from 0 to 65535, got 'abc'/);
    assert.match(errors[2] as string, /Unknown option '--colour'.*dashboard --help/);
    assert.match(errors[3] as string, /--out report\.html/);
    assert.match(errors[4] as string, /no such folder/);
  });
});
