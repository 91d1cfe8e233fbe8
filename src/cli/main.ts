#!/usr/bin/env node
// The `alpha-dpo` command. Each subcommand lives in its own module under src/cli/.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HELP = `alpha-dpo: preference optimisation (α-DPO, DPO, SimPO, ...) for causal language models

Usage: alpha-dpo <command> [options]

Commands:
  demo      the self-contained demo (no downloads): SFT a tiny model on a synthetic task, then
            DPO, SimPO and α-DPO on on-policy pairs, one table of gold-reward results
            [--seed N --quick --json FILE --out DIR]; \`demo --help\`
  info      libtorch version, threads and devices of this installation
  smoke     a short engine run: matmul throughput, op latency, a tiny MLP trained with autograd
  data      preference datasets: \`data inspect FILE [--model DIR] [--json]\` (format, usable pairs,
            odd rows, token lengths), \`data convert FILE --out OUT.jsonl\` (normalised pairs);
            \`alpha-dpo data --help\` for the settings
  generate  continue prompts with a model folder: --model DIR --prompt TEXT [--max-new-tokens N
            --temperature T --top-k K --top-p P --seed S --stop TEXT --chat]; \`generate --help\`
  train     preference-tune a model: \`train CONFIG.yaml [--key value ...] [--resume [DIR]]\`
            (α-DPO, DPO, SimPO, ...; \`train --help\` lists every config key)
  score     per-pair chosen/rejected log-probs (summed and per-token mean) of a preference
            dataset: --model DIR --data FILE --out OUT.jsonl; \`score --help\`

Options:
  -h, --help     this text
  -v, --version  the package version
`;

function packageVersion(): string {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  if (command === '-v' || command === '--version') {
    console.log(packageVersion());
    return 0;
  }
  if (!['data', 'demo', 'generate', 'score', 'train'].includes(command) && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    case 'info': {
      const torch = await import('../torch.js');
      const info = torch.buildInfo();
      console.log(`alpha-dpo ${packageVersion()}`);
      console.log(`libtorch ${info.torchVersion} (C++11 ABI: ${info.cxx11Abi})`);
      if (process.env.ALPHA_DPO_ADDON) console.log(`addon: ${process.env.ALPHA_DPO_ADDON} (from ALPHA_DPO_ADDON)`);
      console.log(
        `threads: ${torch.getNumThreads()} intra-op, ${torch.getNumInteropThreads()} inter-op; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}`,
      );
      console.log(`CUDA: ${torch.cuda.isAvailable() ? `${torch.cuda.deviceCount()} device(s)` : 'not available'}`);
      return 0;
    }
    case 'smoke': {
      const { runSmoke } = await import('./smoke.js');
      const { finalLoss, initialLoss } = runSmoke((line) => console.log(line));
      return finalLoss < initialLoss / 10 ? 0 : 1;
    }
    case 'data': {
      const { runData } = await import('./data.js');
      return runData(
        rest,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    }
    case 'train':
      return (await import('./train.js')).runTrain(rest, (line) => console.log(line));
    case 'demo':
    case 'generate':
    case 'score': {
      const out = (text: string) => process.stdout.write(text);
      const err = (text: string) => process.stderr.write(text);
      try {
        if (command === 'demo') return await (await import('./demo.js')).runDemoCommand(rest, out, err);
        if (command === 'generate') return await (await import('./generate.js')).runGenerate(rest, out);
        return await (await import('./score.js')).runScore(rest, out, err);
      } catch (e) {
        // A user's mistake (flags, files, config, data) is a message, not a stack trace.
        if (e instanceof Error && e.name !== 'TypeError' && e.name !== 'ReferenceError') {
          err(`alpha-dpo ${command}: ${e.message}\n`);
          return e.name === 'UsageError' ? 2 : 1;
        }
        throw e;
      }
    }
    default:
      console.error(`alpha-dpo: unknown command '${command}'. Run alpha-dpo --help for the list.`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`alpha-dpo: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
