// `alpha-dpo demo [--seed N] [--quick] [--json FILE] [--out DIR]`: the self-contained demo of
// src/demo/ (no downloads, no input files): SFT from scratch on a synthetic task, on-policy
// pairs, DPO / SimPO / α-DPO, and one table of gold-reward measurements.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatDemoTable, runDemo } from '../demo/index.js';
import { type CommandIO, UsageError } from './command.js';

export const DEMO_HELP = `alpha-dpo demo: preference-tune a tiny model on a synthetic task and compare DPO, SimPO and α-DPO

Usage: alpha-dpo demo [--seed N] [--quick] [--json FILE] [--out DIR]

Builds a "sort these letters" task with a hidden gold reward, trains a small Llama from scratch
on noisy demonstrations (SFT), samples several responses per prompt from it and keeps the best
and worst as chosen/rejected pairs, fine-tunes the SFT model with DPO, SimPO and α-DPO, and
prints one table (gold reward, win rate against SFT, length, KL to SFT, held-out reward
accuracy). Under a minute on two CPU cores; docs/demo.md explains the task and every column.

  --seed N      seed of everything (default 0): the same seed gives the same table
  --quick       tiny sizes (seconds; for testing, the numbers mean little)
  --json FILE   also write the full results as JSON
  --out DIR     save the α-DPO model with its tokenizer as a Hugging Face folder
`;

export async function runDemoCommand(argv: string[], io: CommandIO): Promise<number> {
  const { out, err } = io;
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        seed: { type: 'string' },
        quick: { type: 'boolean' },
        json: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Run alpha-dpo demo --help.`);
  }
  if (values['help']) {
    out(DEMO_HELP);
    return 0;
  }
  const seedText = values['seed'] as string | undefined;
  const seed = seedText === undefined ? 0 : Number(seedText);
  if (seedText !== undefined && (seedText.trim() === '' || !Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32)) {
    throw new UsageError(`--seed expects a whole number in [0, 2^32), got '${seedText}'`);
  }
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const result = await runDemo({
    seed,
    quick: values['quick'] === true,
    outDir: (values['out'] as string | undefined) ?? null,
    log: (line) => err(`[${elapsed()}] ${line}\n`),
  });
  out(`\n${formatDemoTable(result)}`);
  err(`demo finished in ${elapsed()}\n`);
  const jsonPath = values['json'] as string | undefined;
  if (jsonPath !== undefined) {
    await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
    err(`results written to ${jsonPath}\n`);
  }
  return 0;
}
