// npm run bench:distributed: all-reduce through our binding against torch.distributed (Gloo) from
// Python — Debian's PyTorch 1.13 (/usr/bin/python3) and the 2.13 wheel (/work/venv, or $PEER_PYTHON)
// — two processes on loopback, the same sizes, rounds alternating which side goes first; then the
// training step of `alpha-dpo train` with 2 processes × 2 pairs against 1 process × 4 pairs.
// Run it alone (flock /tmp/alpha-dpo-heavy.lock on shared machines); it prints the load average.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, randomInit, torch } from '../../src/index.js';
import { median } from '../harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const SIZES = [1024, 65536, 1048576, 8388608]; // float32 elements: 4 KiB … 32 MiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function exec(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** Two ranks of `cmd args`; rank 0's JSON line. */
async function twoRanks(cmd: string, args: string[]): Promise<Record<string, number>> {
  const port = String(await freePort());
  const env = (rank: number) => ({
    RANK: String(rank),
    WORLD_SIZE: '2',
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: port,
    BENCH_SIZES: SIZES.join(','),
    OMP_NUM_THREADS: '1',
  });
  const [out] = await Promise.all([exec(cmd, args, env(0)), exec(cmd, args, env(1))]);
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

const peers = [
  { name: 'PyTorch 1.13 (/usr/bin/python3)', python: '/usr/bin/python3' },
  { name: 'PyTorch 2.13 (venv)', python: process.env.PEER_PYTHON ?? '/work/venv/bin/python' },
].filter((p) => existsSync(p.python));

async function allReduceBench(): Promise<void> {
  const sides = [{ name: 'alpha-dpo (addon)', run: () => twoRanks(process.execPath, ['--import', 'tsx', join(here, 'ours.ts')]) }];
  for (const p of peers) sides.push({ name: p.name, run: () => twoRanks(p.python, [join(here, 'peer.py')]) });
  const times = new Map<string, Record<number, number[]>>(sides.map((s) => [s.name, {}]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const r = await side.run();
      const t = times.get(side.name) as Record<number, number[]>;
      for (const n of SIZES) (t[n] ??= []).push(r[n] as number);
    }
  }
  console.log(`all-reduce (sum, float32), 2 processes on loopback, Gloo; median of ${ROUNDS} rounds; bandwidth = bytes / time`);
  const ours = times.get(sides[0]!.name) as Record<number, number[]>;
  for (const n of SIZES) {
    const bytes = n * 4;
    const bw = (t: number[]) => bytes / median(t) / 1e9;
    const cells = [
      `${(bytes / 1024).toFixed(0).padStart(6)} KiB`,
      `ours ${bw(ours[n]!).toFixed(3)} GB/s (${(median(ours[n]!) * 1e6).toFixed(0)} µs)`,
    ];
    for (const p of sides.slice(1)) {
      const theirs = (times.get(p.name) as Record<number, number[]>)[n]!;
      cells.push(`${p.name} ${bw(theirs).toFixed(3)} GB/s, ratio ${(bw(ours[n]!) / bw(theirs)).toFixed(2)}×`);
    }
    console.log(`  ${cells.join(' | ')}`);
  }
}

/** tokens/s of `alpha-dpo train` over the same global batch of 4 pairs: 1 process × 4 or 2 × 2. */
async function stepBench(): Promise<void> {
  const dir = join(ROOT, 'dist', 'bench-distributed');
  await mkdir(join(dir, 'data'), { recursive: true });
  if (!existsSync(join(dir, 'model', 'model.safetensors'))) {
    torch.manualSeed(0);
    const model = randomInit({ ...PRESETS['llama-30m'], vocab_size: 272 });
    await model.savePretrained(join(dir, 'model'));
    model.dispose();
    const fixtures = join(ROOT, 'test', 'fixtures', 'models', 'tokenizer-chatml');
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await writeFile(join(dir, 'model', f), await readFile(join(fixtures, f)));
  }
  const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];
  const line = (i: number) =>
    JSON.stringify({
      prompt: [{ role: 'user', content: Array.from({ length: 24 }, (_, k) => words[(i + k) % 8]).join(' ') }],
      chosen: [{ role: 'assistant', content: Array.from({ length: 40 }, (_, k) => words[(i * 3 + k) % 8]).join(' ') }],
      rejected: [{ role: 'assistant', content: Array.from({ length: 40 }, (_, k) => words[(i * 5 + k) % 8]).join(' ') }],
    });
  await writeFile(join(dir, 'data', 'train.jsonl'), Array.from({ length: 64 }, (_, i) => line(i)).join('\n'));
  const config = join(dir, 'cfg.yaml');
  await writeFile(
    config,
    [
      `model_name_or_path: ${join(dir, 'model')}`,
      `dataset: ${join(dir, 'data')}`,
      'loss_type: alpha-dpo',
      'beta: 2.5',
      'alpha: 0.05',
      'max_steps: 10',
      'save_strategy: "no"',
      'eval_strategy: "no"',
      'logging_steps: 5',
    ].join('\n'),
  );
  const cli = join(ROOT, 'src', 'cli', 'main.ts');
  // The one process gets every core (Debian's libtorch 1.13 would start with 1 thread on 2 cores); the launcher gives each of the two cores / 2.
  const threads = String(cpus().length);
  const tps = async (args: string[], out: string) => {
    const env: Record<string, string> = args.includes('--nproc_per_node')
      ? {}
      : { OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
    await exec(
      process.execPath,
      ['--import', 'tsx', cli, 'train', config, '--output_dir', out, '--overwrite_output_dir', 'true', ...args],
      env,
    );
    return JSON.parse(await readFile(join(out, 'train_summary.json'), 'utf8')).tokensPerSecond as number;
  };
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < 2; round++) {
    one.push(await tps(['--per_device_train_batch_size', '4'], join(dir, 'one')));
    two.push(
      await tps(
        ['--per_device_train_batch_size', '2', '--nproc_per_node', '2', '--master_port', String(await freePort())],
        join(dir, 'two'),
      ),
    );
  }
  // Tokens/s counts the global batch's tokens, so the step-time ratio is the inverse of the tokens/s ratio.
  console.log(
    `training step, llama-30m, α-DPO, global batch 4 pairs: 1 process ${median(one).toFixed(0)} tokens/s, 2 processes ${median(two).toFixed(0)} tokens/s;`,
  );
  console.log(`  step time 2 processes / 1 process = ${(median(one) / median(two)).toFixed(2)}× (below 1: faster)`);
}

console.log(
  `machine: ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
await allReduceBench();
await stepBench();
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
