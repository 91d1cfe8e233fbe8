// Training-step benchmark: one full DPO optimiser step (policy forward+backward over
// [chosen; rejected], live reference forward, sigmoid loss, clipping, AdamW) through our real
// trainer against the same step in PyTorch from Python, for a GPT-2-small-shaped model (124M)
// and a small Llama (≈28M). Ratio: ours ÷ PyTorch in policy tokens/s (above 1: we are faster)
// and in peak RSS (below 1: we use less).
//
//   node --import tsx bench/train/run.ts [--quick] [--rounds N] [--python PATH] [--tsx]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareSides } from '../harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, python: { type: 'string' }, tsx: { type: 'boolean' } },
});
const steps = (pairs: number, seq: number) => ['--pairs', String(pairs), '--seq', String(seq), '--steps', '3', '--warmup', '2'];
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
