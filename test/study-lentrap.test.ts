// The LenTrap study end to end at the tiny preset, through the CLI in-process: the real trainer,
// generation and evaluation; the report has every section and SVG charts and fetches nothing; the
// same seed gives the same report byte for byte; a second run resumes from the cache without
// training; α-DPO with α = 0 reproduces SimPO's run exactly.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runStudyCommand } from '../src/cli/study.js';
import { PRESETS, REPORT_SECTIONS, runStudy } from '../src/study/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-study-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function study(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await runStudyCommand(args, { out: () => {}, err: (t) => (err += t) });
  return { code, err };
}

describe('LenTrap tiny preset', () => {
  test('runs, reports every section, reproduces, resumes', async () => {
    const first = await tempDir();
    const run = await study(['lentrap', '--preset', 'tiny', '--out', first]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /runs 6\/6/); // 3 methods × 2 seeds, progress counted
    const md = await readFile(join(first, 'report.md'), 'utf8');
    const html = await readFile(join(first, 'report.html'), 'utf8');
    for (const section of REPORT_SECTIONS) {
      assert.ok(md.includes(`## ${section}\n`), `report.md lacks ${section}`);
      assert.ok(html.includes(`<h2>${section.replace('&', '&amp;')}</h2>`), `report.html lacks ${section}`);
    }
    for (const method of ['DPO', 'SimPO', 'α-DPO']) assert.match(md, new RegExp(`\\| ${method} \\| 2 \\| `));
    assert.match(md, /α-DPO − SimPO/);
    assert.match(md, /α-DPO − DPO/);
    // 5 charts (frontier, win vs KL, length, LC gap, seeds), nothing loaded at view time.
    assert.equal(html.match(/<svg /g)?.length, 5);
    assert.doesNotMatch(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, ''), /https?:|<script|<link/);
    const summary = JSON.parse(await readFile(join(first, 'summary.json'), 'utf8'));
    assert.equal(summary.analysis.runsDone, 6);
    assert.ok(
      summary.analysis.methods.every(
        (m: { metrics: { goldWin: { low: number; high: number } } }) => m.metrics.goldWin.low <= m.metrics.goldWin.high,
      ),
    );

    const second = await tempDir();
    assert.equal((await study(['lentrap', '--preset', 'tiny', '--out', second])).code, 0);
    assert.equal(await readFile(join(second, 'report.md'), 'utf8'), md, 'same seed, same report');

    const runsBefore = await readdir(join(first, 'runs'));
    const again = await study(['lentrap', '--preset', 'tiny', '--out', first, '--max-runs', '0']);
    assert.equal(again.code, 0);
    assert.doesNotMatch(again.err, /SFT: a|run \d+\/6:/); // nothing trained again
    assert.deepEqual(await readdir(join(first, 'runs')), runsBefore);
    assert.equal(await readFile(join(first, 'report.md'), 'utf8'), md);

    await assert.rejects(study(['lentrap', '--preset', 'quick', '--out', first]), /already holds a study with other settings/);

    const report = await study(['report', first]);
    assert.equal(report.code, 0);
    assert.match(report.err, /6 finished runs reported/);
  });

  test('α-DPO at α = 0 reproduces the SimPO run exactly', async () => {
    const shared = { beta: [2], gamma_beta_ratio: [0.5], ln: [true], learning_rate: [3e-3] };
    const preset = {
      ...PRESETS.tiny,
      seeds: [0],
      methods: [
        { name: 'SimPO', lossType: 'simpo' as const, grid: shared },
        { name: 'α-DPO', lossType: 'alpha-dpo' as const, grid: { ...shared, alpha: [0], normalization: ['ema'] } },
      ],
    };
    const { records } = await runStudy({ preset, outDir: await tempDir() });
    const [simpo, alpha] = records;
    assert.ok(simpo && alpha);
    // The run moved away from SFT (else equality would be trivial) ...
    assert.ok((simpo.checkpoints.at(-1)?.klExact ?? 0) > 1e-3, `KL ${simpo.checkpoints.at(-1)?.klExact}`);
    // ... and every number of every checkpoint is identical.
    assert.deepEqual(alpha.checkpoints, simpo.checkpoints);
    assert.deepEqual(alpha.final, simpo.final);
  });

  test('user mistakes are typed errors with what to do', async () => {
    await assert.rejects(study(['lentrap', '--preset', 'huge', '--out', '/tmp/x']), /--preset must be tiny, quick or full/);
    await assert.rejects(study(['lentrap', '--preset', 'tiny']), /needs --out DIR/);
    await assert.rejects(study(['report', join(tmpdir(), 'no-such-study-dir')]), /has no study.json/);
    await assert.rejects(study(['nope']), /unknown study 'nope'/);
    const dir = await tempDir();
    const methods = join(dir, 'methods.json');
    await writeFile(methods, JSON.stringify([{ name: 'X', loss_type: 'nope', grid: { beta: [1] } }]));
    await assert.rejects(
      study(['lentrap', '--preset', 'tiny', '--out', dir, '--methods', methods]),
      /unknown loss_type 'nope'; known: alpha-dpo/,
    );
    await writeFile(methods, JSON.stringify([{ name: 'X', grid: {} }]));
    await assert.rejects(
      study(['lentrap', '--preset', 'tiny', '--out', dir, '--methods', methods]),
      /needs "name", "loss_type" and "grid"/,
    );
  });
});
