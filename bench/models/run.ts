// Models benchmark: forward+backward training steps of a GPT-2-small-shaped model (124M) and
// a small Llama (≈28M, preset llama-30m), ours against PyTorch from Python on the same
// checkpoint, batch and loss (mean next-token cross-entropy). The ratio is ours ÷ PyTorch in
// tokens/s (above 1: we are faster) and in peak RSS (below 1: we use less).
//
//   node --import tsx bench/models/run.ts [--quick] [--rounds N] [--python PATH] [--tsx]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareSides } from '../harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, python: { type: 'string' }, tsx: { type: 'boolean' } },
});
const steps = (batch: number, seq: number) => ['--batch', String(batch), '--seq', String(seq), '--steps', '3', '--warmup', '1'];
await compareSides({
  name: 'models',
  oursTs: join(HERE, 'ours.ts'),
  peerPy: join(HERE, 'peer.py'),
  cases: [
    { id: 'gpt2-124M', preset: 'gpt2-small', args: steps(2, 128), describe: 'batch 2×128, 3 timed steps per side per round' },
    { id: 'llama-28M', preset: 'llama-30m', args: steps(4, 256), describe: 'batch 4×256, 3 timed steps per side per round' },
  ],
  rounds: Number(values.rounds ?? (values.quick ? 1 : 3)),
  tsx: values.tsx ?? false,
  python: values.python ?? '/usr/bin/python3',
});
