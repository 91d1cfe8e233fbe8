// LoRA training-step benchmark: GPT-2-small (124M), 2 pairs × 256 tokens, sigmoid DPO with the
// live reference, one optimiser step at a time. Three processes take turns each round (order
// rotating): our LoRA step (r = 16 on every linear layer, the reference = the policy with its
// adapter off, one copy of the weights), our full fine-tuning step (policy + reference model),
// and PyTorch's full fine-tuning step from Python (peer.py, fp32, two models, as bench:train); and
// the LoRA step again with gradient_checkpointing (activations recomputed per block in backward).
// Ratios: peak RSS of our LoRA run ÷ PyTorch's full run, and step time of our LoRA step ÷ our
// full step (both below 1: LoRA is lighter and faster).
//
//   node --import tsx bench/train/lora.ts [--rounds N] [--python PATH] [--tsx] [--bf16] [--bf16-base]
// --bf16-base adds a LoRA side whose frozen base is held in bfloat16 (bf16: true), timed against
// our full step with bf16: true.
// (ALPHA_DPO_ADDON=... runs our sides with another addon, e.g. one built against libtorch 2.x.)

import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileOurs, median, type SideResult, side } from '../harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    python: { type: 'string' },
    tsx: { type: 'boolean' },
    bf16: { type: 'boolean' },
    'bf16-base': { type: 'boolean' },
  },
});
const rounds = Number(values.rounds ?? 1);
const python = values.python ?? '/usr/bin/python3';
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

const ours = values.tsx ? ['--import', 'tsx', join(HERE, 'ours.ts')] : [await compileOurs(join(HERE, 'ours.ts'), 'train-ours')];
const { randomInit, PRESETS, torch } = await import('../../src/index.js');
const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-bench-lora-'));
try {
  torch.manualSeed(0);
  const model = randomInit(PRESETS['gpt2-small']);
  await model.savePretrained(dir);
  model.dispose();
  // --bf16 runs our three sides under bf16: true (PyTorch's side stays the fp32 full step of bench:train).
  const args = ['--model', dir, '--pairs', '2', '--seq', '256', '--steps', '3', '--warmup', '1', ...(values.bf16 ? ['--bf16'] : [])];
  const pythonArgs = ['--model', dir, '--pairs', '2', '--seq', '256', '--steps', '3', '--warmup', '1'];
  const sides: Record<string, () => Promise<SideResult>> = {
    'ours LoRA r=16': () => side(process.execPath, [...ours, ...args, '--lora', '16']),
    'ours LoRA+ckpt': () => side(process.execPath, [...ours, ...args, '--lora', '16', '--gradient-checkpointing']),
    'ours full': () => side(process.execPath, [...ours, ...args]),
    'pytorch full': () => side(python, [join(HERE, 'peer.py'), ...pythonArgs]),
  };
  // The frozen base in bfloat16 under bf16: true (issue: "the frozen base can be kept in bf16"),
  // timed against our full step under bf16: true, so both sides use the same precision policy.
  if (values['bf16-base']) {
    sides['ours LoRA bf16 base'] = () =>
      side(process.execPath, [...ours, ...args, '--lora', '16', '--base-dtype', 'bfloat16', ...(values.bf16 ? [] : ['--bf16'])]);
    if (!values.bf16) sides['ours full bf16'] = () => side(process.execPath, [...ours, ...args, '--bf16']);
  }
  const names = Object.keys(sides);
  const results = new Map<string, SideResult[]>(names.map((n) => [n, []]));
  console.log(
    `ours: libtorch ${torch.buildInfo().torchVersion}${process.env.ALPHA_DPO_ADDON ? ` (ALPHA_DPO_ADDON=${process.env.ALPHA_DPO_ADDON})` : ''}, ${values.bf16 ? 'bf16: true' : 'float32'}; ` +
      `load average at start: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}`,
  );
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length] as string;
      results.get(name)?.push(await (sides[name] as () => Promise<SideResult>)());
    }
    process.stderr.write(`round ${r + 1}/${rounds} done, load average ${loadavg()[0]?.toFixed(2)}\n`);
  }
  const step = (n: string) => median((results.get(n) as SideResult[]).flatMap((x) => x.seconds));
  const rss = (n: string) => Math.max(...(results.get(n) as SideResult[]).map((x) => x.peakRssMiB));
  for (const n of names) {
    const first = (results.get(n) as SideResult[])[0] as SideResult;
    console.log(
      `${n.padEnd(20)} step ${step(n).toFixed(2)} s  peak RSS ${rss(n).toFixed(0)} MiB  first loss ${first.loss.toFixed(6)}  threads ${first.threads}`,
    );
  }
  console.log(`GPT-2-small, 2 pairs × 256 tokens, ${rounds} round(s), 3 timed steps per side per round`);
  const verdict = (value: number, target: number) => `(target ≤ ${target}: ${value <= target ? 'met' : 'NOT met'})`;
  const pairs: [string, string][] = [
    ['ours LoRA r=16', 'ours full'],
    ['ours LoRA+ckpt', 'ours full'],
  ];
  if (values['bf16-base']) pairs.push(['ours LoRA bf16 base', values.bf16 ? 'ours full' : 'ours full bf16']);
  for (const [lora, full] of pairs) {
    const r = rss(lora) / rss('pytorch full');
    const t = step(lora) / step(full);
    console.log(`${lora}:`);
    console.log(`  peak RSS   ÷ pytorch full (fp32)  ${r.toFixed(3)} ${verdict(r, 0.35)}`);
    console.log(`  step time  ÷ ${full.padEnd(20)} ${t.toFixed(3)} ${verdict(t, 0.8)}`);
  }
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
