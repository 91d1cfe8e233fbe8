// Gradient checkpointing's price and gain: GPT-2-small (124M), 2 pairs × 1024 tokens, the full
// DPO training step of bench/train/ours.ts with gradient_checkpointing: true against the same
// step without it (float32, or --bf16 for both). Each side is its own process (peak RSS is the
// whole process's, loading included); the sides alternate which goes first every round. Prints
// the median step time and the peak RSS of each, and the ratios with ÷ without.
//
//   node --import tsx bench/train/checkpointing.ts [--rounds N] [--steps N] [--bf16]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { PRESETS, randomInit, torch } from '../../src/index.js';
import { compileOurs, median, type SideResult } from '../harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const { values } = parseArgs({ options: { rounds: { type: 'string' }, steps: { type: 'string' }, bf16: { type: 'boolean' } } });
const rounds = Number(values.rounds ?? 1);
const steps = Number(values.steps ?? 2);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

const ours = await compileOurs(join(HERE, 'ours.ts'), 'train-ours');
const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-bench-ckpt-'));
try {
  torch.manualSeed(0);
  const model = randomInit(PRESETS['gpt2-small']);
  await model.savePretrained(dir);
  model.dispose();
  const args = [
    '--model',
    dir,
    '--pairs',
    '2',
    '--seq',
    '1024',
    '--steps',
    String(steps),
    '--warmup',
    '1',
    ...(values.bf16 ? ['--bf16'] : []),
  ];
  const sides = [
    { label: 'without', args },
    { label: 'gradient_checkpointing', args: [...args, '--gradient-checkpointing'] },
  ];
  console.log(
    `gradient checkpointing: GPT-2-small, 2 pairs × 1024 tokens, ${values.bf16 ? 'bf16' : 'float32'}, 1 warm-up + ${steps} timed steps, ${rounds} round(s)`,
  );
  console.log(`uptime at start: ${uptime()}`);
  const results = new Map<string, SideResult[]>(sides.map((s) => [s.label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
      const { stdout } = await run(process.execPath, [ours, ...s.args], { maxBuffer: 1 << 20 });
      results.get(s.label)?.push(JSON.parse(stdout.trim().split('\n').pop() as string) as SideResult);
      process.stderr.write(`round ${r + 1}: ${s.label} done (${uptime()})\n`);
    }
  }
  const stat = (label: string) => {
    const xs = results.get(label) ?? [];
    return {
      seconds: median(xs.flatMap((x) => x.seconds)),
      rss: Math.max(...xs.map((x) => x.peakRssMiB)),
      loss: (xs[0] as SideResult).loss,
    };
  };
  const [a, b] = [stat('without'), stat('gradient_checkpointing')];
  for (const [label, x] of [
    ['without', a],
    ['gradient_checkpointing', b],
  ] as const) {
    console.log(`${label.padEnd(24)} step ${x.seconds.toFixed(2)} s  peak RSS ${x.rss.toFixed(0)} MiB  first loss ${x.loss.toFixed(6)}`);
  }
  console.log(`ratio with ÷ without: step time ${(b.seconds / a.seconds).toFixed(2)}, peak RSS ${(b.rss / a.rss).toFixed(2)}`);
  console.log(`uptime at end: ${uptime()}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
