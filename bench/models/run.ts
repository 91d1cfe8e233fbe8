// Models benchmark: forward+backward training steps of a GPT-2-small-shaped model (124M) and
// a small Llama (≈28M, preset llama-30m), ours against PyTorch from Python on the same
// checkpoint, batch and loss.
//
//   node --import tsx bench/models/run.ts [--quick] [--rounds N] [--python PATH] [--tsx]
//
// Our side runs as compiled JavaScript, as the installed package and its CLI do: the package is
// built (tsc -p tsconfig.build.json into dist/) and ours.ts transpiled next to it. --tsx runs
// ours.ts under tsx instead, whose TypeScript loader adds about 35 MiB to the process's RSS.
// Each case's checkpoint is written once (random init, seed 0) to a temporary folder. Then the
// two sides run as separate processes that take turns, round by round, alternating which goes
// first, so drifts in machine load hit both; a process loads the checkpoint, runs warm-up steps
// and timed steps, and reports its step times, first loss and peak RSS (the whole process,
// loading included). The ratio is ours ÷ PyTorch in tokens/s (above 1: we are faster) and in
// peak RSS (below 1: we use less).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

process.env.OMP_WAIT_POLICY ??= 'PASSIVE'; // as the engine binding sets it; the Python child inherits it

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const run = promisify(execFile);

/** Builds dist/ and writes ours.ts as dist/bench/models-ours.js importing the built package; returns its path. */
async function compileOurs(): Promise<string> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (e) {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing build is fatal.
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw e;
  }
  const ts = await import('typescript');
  const source = await readFile(join(HERE, 'ours.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(ROOT, 'dist', 'bench', 'models-ours.js');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, outputText.replace("'../../src/index.js'", "'../index.js'"));
  return out;
}

interface Case {
  id: string;
  preset: 'gpt2-small' | 'llama-30m';
  batch: number;
  seq: number;
  steps: number;
  warmup: number;
}

const CASES: Case[] = [
  { id: 'gpt2-124M', preset: 'gpt2-small', batch: 2, seq: 128, steps: 3, warmup: 1 },
  { id: 'llama-28M', preset: 'llama-30m', batch: 4, seq: 256, steps: 3, warmup: 1 },
];

interface SideResult {
  side: string;
  threads: number;
  seconds: number[];
  tokens: number;
  loss: number;
  peakRssMiB: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function side(command: string, args: string[]): Promise<SideResult> {
  const { stdout } = await run(command, args, { maxBuffer: 1 << 20 });
  const line = stdout.trim().split('\n').pop() as string;
  return JSON.parse(line) as SideResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, python: { type: 'string' }, tsx: { type: 'boolean' } },
  });
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  const oursCommand = values.tsx ? ['--import', 'tsx', join(HERE, 'ours.ts')] : [await compileOurs()];
  const python = values.python ?? '/usr/bin/python3';
  const { randomInit, PRESETS, torch } = await import('../../src/index.js');
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}; ours runs ${values.tsx ? 'under tsx' : 'compiled (dist/)'}`,
  );
  const rows: string[] = [];
  for (const c of CASES) {
    const dir = await mkdtemp(join(tmpdir(), `alpha-dpo-bench-${c.id}-`));
    try {
      torch.manualSeed(0);
      const model = randomInit(PRESETS[c.preset]);
      const params = model.numParameters;
      await model.savePretrained(dir);
      model.dispose();
      const args = [
        '--model',
        dir,
        '--batch',
        String(c.batch),
        '--seq',
        String(c.seq),
        '--steps',
        String(c.steps),
        '--warmup',
        String(c.warmup),
      ];
      const ours: SideResult[] = [];
      const peer: SideResult[] = [];
      for (let r = 0; r < rounds; r++) {
        const runOurs = async () => ours.push(await side(process.execPath, [...oursCommand, ...args]));
        const runPeer = async () => peer.push(await side(python, [join(HERE, 'peer.py'), ...args]));
        if (r % 2 === 0) {
          await runOurs();
          await runPeer();
        } else {
          await runPeer();
          await runOurs();
        }
        process.stderr.write(`${c.id}: round ${r + 1}/${rounds} done, load average ${loadavg()[0]?.toFixed(2)}\n`);
      }
      const tps = (results: SideResult[]) => median(results.flatMap((x) => x.seconds.map((s) => x.tokens / s)));
      const rss = (results: SideResult[]) => Math.max(...results.map((x) => x.peakRssMiB));
      const oursTps = tps(ours);
      const peerTps = tps(peer);
      const lossDiff = Math.abs((ours[0] as SideResult).loss - (peer[0] as SideResult).loss);
      rows.push(
        [
          `${c.id} (${(params / 1e6).toFixed(1)}M params, batch ${c.batch}×${c.seq}, ${rounds}×${c.steps} timed steps per side)`,
          `  tokens/s  ours ${oursTps.toFixed(0)}  pytorch ${peerTps.toFixed(0)}  ratio ${(oursTps / peerTps).toFixed(3)} (higher is better)`,
          `  peak RSS  ours ${rss(ours).toFixed(0)} MiB  pytorch ${rss(peer).toFixed(0)} MiB  ratio ${(rss(ours) / rss(peer)).toFixed(3)} (lower is better)`,
          `  first loss ours ${(ours[0] as SideResult).loss.toFixed(6)}  pytorch ${(peer[0] as SideResult).loss.toFixed(6)}  |diff| ${lossDiff.toExponential(1)}; threads ${ours[0]?.threads}/${peer[0]?.threads}`,
        ].join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(rows.join('\n'));
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

await main();
