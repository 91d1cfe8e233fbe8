// Shared harness of the model benchmarks (bench/models, bench/train): our side and PyTorch's
// run as separate processes on the same checkpoint, taking turns round by round and alternating
// which goes first, so drifts in machine load hit both. Each process prints one JSON line with
// its step times, tokens per step, first loss and peak RSS (the whole process, loading included).
//
// Our side runs as compiled JavaScript, as the installed package and its CLI do: the package is
// built (tsc -p tsconfig.build.json into dist/) and the benchmark's ours.ts transpiled next to
// it. With `tsx` it runs under tsx instead, whose TypeScript loader adds about 35 MiB of RSS.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

process.env.OMP_WAIT_POLICY ??= 'PASSIVE'; // as the engine binding sets it; the Python child inherits it

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

/** Builds dist/ and writes `oursTs` as dist/bench/<name>.js importing the built package; returns its path. */
export async function compileOurs(oursTs: string, name: string): Promise<string> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT });
  } catch (e) {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing build is fatal.
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw e;
  }
  const ts = await import('typescript');
  const { outputText } = ts.transpileModule(await readFile(oursTs, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const out = join(ROOT, 'dist', 'bench', `${name}.js`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, outputText.replaceAll("'../../src/index.js'", "'../index.js'"));
  return out;
}

export interface SideResult {
  side: string;
  threads: number;
  seconds: number[];
  tokens: number;
  loss: number;
  peakRssMiB: number;
}

export interface BenchCase {
  id: string;
  preset: 'gpt2-small' | 'llama-30m';
  /** Arguments after --model DIR for both sides. */
  args: string[];
  describe: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export async function side(command: string, args: string[]): Promise<SideResult> {
  const { stdout } = await run(command, args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as SideResult;
}

export async function compareSides(options: {
  name: string;
  oursTs: string;
  peerPy: string;
  cases: BenchCase[];
  rounds: number;
  tsx: boolean;
  python: string;
}): Promise<void> {
  const oursCommand = options.tsx ? ['--import', 'tsx', options.oursTs] : [await compileOurs(options.oursTs, `${options.name}-ours`)];
  const { randomInit, PRESETS, torch } = await import('../src/index.js');
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${load()} at start; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}; ours runs ${options.tsx ? 'under tsx' : 'compiled (dist/)'}`,
  );
  const rows: string[] = [];
  for (const c of options.cases) {
    const dir = await mkdtemp(join(tmpdir(), `alpha-dpo-bench-${c.id}-`));
    try {
      torch.manualSeed(0);
      const model = randomInit(PRESETS[c.preset]);
      const params = model.numParameters;
      await model.savePretrained(dir);
      model.dispose();
      const args = ['--model', dir, ...c.args];
      const ours: SideResult[] = [];
      const peer: SideResult[] = [];
      for (let r = 0; r < options.rounds; r++) {
        const runOurs = async () => ours.push(await side(process.execPath, [...oursCommand, ...args]));
        const runPeer = async () => peer.push(await side(options.python, [options.peerPy, ...args]));
        if (r % 2 === 0) {
          await runOurs();
          await runPeer();
        } else {
          await runPeer();
          await runOurs();
        }
        process.stderr.write(`${c.id}: round ${r + 1}/${options.rounds} done, load average ${loadavg()[0]?.toFixed(2)}\n`);
      }
      const tps = (results: SideResult[]) => median(results.flatMap((x) => x.seconds.map((s) => x.tokens / s)));
      const rss = (results: SideResult[]) => Math.max(...results.map((x) => x.peakRssMiB));
      const [oursTps, peerTps] = [tps(ours), tps(peer)];
      const [o, p] = [ours[0] as SideResult, peer[0] as SideResult];
      rows.push(
        [
          `${c.id} (${(params / 1e6).toFixed(1)}M params, ${c.describe}, ${options.rounds} rounds)`,
          `  tokens/s  ours ${oursTps.toFixed(0)}  pytorch ${peerTps.toFixed(0)}  ratio ${(oursTps / peerTps).toFixed(3)} (higher is better)`,
          `  peak RSS  ours ${rss(ours).toFixed(0)} MiB  pytorch ${rss(peer).toFixed(0)} MiB  ratio ${(rss(ours) / rss(peer)).toFixed(3)} (lower is better)`,
          `  first loss ours ${o.loss.toFixed(6)}  pytorch ${p.loss.toFixed(6)}  |diff| ${Math.abs(o.loss - p.loss).toExponential(1)}; threads ${o.threads}/${p.threads}`,
        ].join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(rows.join('\n'));
  console.log(`load average at end: ${load()}`);
}
