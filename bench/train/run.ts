// Training-step benchmark: one full DPO optimiser step (policy forward+backward over
// [chosen; rejected], live reference forward, sigmoid loss, clipping, AdamW) through our real
// trainer against the same step in PyTorch from Python, for a GPT-2-small-shaped model (124M)
// and a small Llama (≈28M). Ratio: ours ÷ PyTorch in policy tokens/s (above 1: we are faster)
// and in peak RSS (below 1: we use less).
//
// Then the fixed-shape case against every peer (fixed-shape.ts): ours with bf16: true against
// PyTorch 1.13 and 2.13 in float32 and under autocast, and TRL's DPOTrainer; then gradient
// checkpointing (checkpointing.ts) and the HH-RLHF real-lengths case (real-lengths.ts).
//
//   node --import tsx bench/train/run.ts [--quick] [--rounds N] [--python PATH] [--tsx]
//     [--only all|classic|fixed|checkpointing|real]   (default all: about an hour and a half on 2 cores)
//     [--addon PATH]...   (fixed shape: also run our side with each of these addons, e.g. one
//                          built against libtorch 2.x with npm run build:native -- --out DIR)

import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { compareSides, compileOurs } from '../harness.js';
import { fixedShape, type OurAddon } from './fixed-shape.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The addons our fixed-shape side runs with: the default one (build/, or ALPHA_DPO_ADDON), then
 * each --addon PATH, or else the libtorch 2.x addon that .ci/run leaves in the cache, if present.
 */
async function ourAddons(extra: string[]): Promise<OurAddon[]> {
  const { torch } = await import('../../src/index.js');
  const addons: OurAddon[] = [{ path: null, version: torch.buildInfo().torchVersion }];
  const cached = join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'alpha-dpo',
    'build-libtorch2',
    'build',
    'Release',
    'alpha_dpo_native.node',
  );
  const paths = extra.length > 0 ? extra : existsSync(cached) && !process.env.ALPHA_DPO_ADDON ? [cached] : [];
  const probe = join(HERE, '..', '..', 'src', 'index.ts');
  for (const path of paths) {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '-e', `const { torch } = await import(${JSON.stringify(probe)}); console.log(torch.buildInfo().torchVersion);`],
      { env: { ...process.env, ALPHA_DPO_ADDON: path } },
    );
    addons.push({ path, version: stdout.trim() });
  }
  return addons;
}
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
    python: { type: 'string' },
    tsx: { type: 'boolean' },
    only: { type: 'string' },
    addon: { type: 'string', multiple: true },
  },
});
const only = values.only ?? 'all';
const PARTS = ['all', 'classic', 'fixed', 'checkpointing', 'real'];
if (!PARTS.includes(only)) throw new Error(`--only takes one of ${PARTS.join(', ')}; got ${only}`);
const wants = (part: string) => only === 'all' || only === part;
const steps = (pairs: number, seq: number) => ['--pairs', String(pairs), '--seq', String(seq), '--steps', '3', '--warmup', '2'];
if (wants('classic')) {
  await compareSides({
    name: 'train',
    oursTs: join(HERE, 'ours.ts'),
    peerPy: join(HERE, 'peer.py'),
    cases: [
      {
        id: 'dpo-gpt2-124M',
        preset: 'gpt2-small',
        args: steps(1, 128),
        describe: '1 pair (2 rows) × 128 tokens, 3 timed steps per side per round',
      },
      {
        id: 'dpo-llama-28M',
        preset: 'llama-30m',
        args: steps(2, 256),
        describe: '2 pairs (4 rows) × 256 tokens, 3 timed steps per side per round',
      },
    ],
    rounds: Number(values.rounds ?? (values.quick ? 1 : 2)),
    tsx: values.tsx ?? false,
    python: values.python ?? '/usr/bin/python3',
  });
}
if (wants('fixed')) {
  const ours = values.tsx ? ['--import', 'tsx', join(HERE, 'ours.ts')] : [await compileOurs(join(HERE, 'ours.ts'), 'train-ours')];
  await fixedShape({
    ours,
    addons: await ourAddons(values.addon ?? []),
    rounds: Number(values.rounds ?? (values.quick ? 1 : 2)),
    steps: values.quick ? 2 : 3,
    warmup: 1,
    pairs: 2,
    seq: 256,
  });
}

// The other two cases, each its own script (also runnable alone): gradient checkpointing
// at 2 pairs × 1024 tokens, and the HH-RLHF real-lengths case (skips itself without the data).
for (const [part, script, args] of [
  ['checkpointing', 'checkpointing.ts', ['--rounds', '1', '--steps', values.quick ? '1' : '2']],
  ['real', 'real-lengths.ts', ['--steps', values.quick ? '1' : '2', '--warmup', '1']],
] as const) {
  if (!wants(part)) continue;
  console.log(`\n${part}: node --import tsx bench/train/${script} ${args.join(' ')}`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, script), ...args], { stdio: 'inherit' });
  if (child.status !== 0) console.log(`${part}: exited with ${child.status ?? child.signal}`);
}
