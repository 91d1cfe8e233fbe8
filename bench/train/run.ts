// Training-step benchmark: one full DPO optimiser step (policy forward+backward over
// [chosen; rejected], live reference forward, sigmoid loss, clipping, AdamW) through our real
// trainer against the same step in PyTorch from Python, for a GPT-2-small-shaped model (124M)
// and a small Llama (≈28M). Ratio: ours ÷ PyTorch in policy tokens/s (above 1: we are faster)
// and in peak RSS (below 1: we use less).
//
// Then the fixed-shape case against every peer (fixed-shape.ts): ours with bf16: true against
// PyTorch 1.13 and 2.13 in float32 and under autocast, and TRL's DPOTrainer.
//
//   node --import tsx bench/train/run.ts [--quick] [--rounds N] [--python PATH] [--tsx] [--only classic|fixed]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareSides, compileOurs } from '../harness.js';
import { fixedShape } from './fixed-shape.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
    python: { type: 'string' },
    tsx: { type: 'boolean' },
    only: { type: 'string' },
  },
});
const steps = (pairs: number, seq: number) => ['--pairs', String(pairs), '--seq', String(seq), '--steps', '3', '--warmup', '2'];
if (values.only !== 'fixed') {
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
if (values.only !== 'classic') {
  const ours = values.tsx ? ['--import', 'tsx', join(HERE, 'ours.ts')] : [await compileOurs(join(HERE, 'ours.ts'), 'train-ours')];
  await fixedShape({
    ours,
    rounds: Number(values.rounds ?? (values.quick ? 1 : 2)),
    steps: values.quick ? 2 : 3,
    warmup: 1,
    pairs: 2,
    seq: 256,
  });
}
