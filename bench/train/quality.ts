// Quality under bf16: the demo (docs/demo.md) trained twice from the same seed, its three
// preference methods in float32 and with bf16: true (everything else equal: the SFT model, the
// pairs and the evaluation prompts are the same, built before any preference training). Prints
// the first-step loss of each run with the relative difference, and the held-out reward accuracy
// and gold reward with their 95% intervals (accuracy: normal approximation over the held-out pairs).
//
//   node --import tsx bench/train/quality.ts [--seed N]
import { parseArgs } from 'node:util';
import { runDemo } from '../../src/demo/run-demo.js';

const { values } = parseArgs({ options: { seed: { type: 'string' } } });
const seed = Number(values.seed ?? 0);
const started = performance.now();
const fp32 = await runDemo({ seed });
const bf16 = await runDemo({ seed, trainKeys: { bf16: true } });
const pairs = fp32.heldOutPairs.pairs;
const accuracy = (p: number | null) => {
  if (p === null) return '—';
  const half = 1.96 * Math.sqrt((p * (1 - p)) / pairs);
  return `${(100 * p).toFixed(1)}% ± ${(100 * half).toFixed(1)}`;
};
console.log(`demo seed ${seed}, ${pairs} held-out pairs; ${((performance.now() - started) / 1000).toFixed(0)} s for both runs`);
console.log('method  precision  first-step loss  (rel. diff)  held-out accuracy  gold reward (95% CI)');
for (const [i, row] of fp32.rows.entries()) {
  const other = bf16.rows[i];
  if (!other || row.method === 'SFT') continue;
  for (const [name, r] of [
    ['fp32', row],
    ['bf16', other],
  ] as const) {
    const rel =
      name === 'bf16' ? ` (${(((r.firstLoss as number) - (row.firstLoss as number)) / (row.firstLoss as number)).toExponential(1)})` : '';
    console.log(
      `${row.method.padEnd(7)} ${name.padEnd(10)} ${(r.firstLoss as number).toFixed(6).padStart(15)}${rel.padEnd(13)}  ${accuracy(r.evaluation.heldOutAccuracy).padStart(17)}  ${r.evaluation.reward.mean.toFixed(3)} ± ${r.evaluation.reward.halfWidth95.toFixed(3)}`,
    );
  }
}
