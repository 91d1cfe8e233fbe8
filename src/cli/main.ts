#!/usr/bin/env node
// The `alpha-dpo` command: a table of subcommands, each a module under src/cli/ exporting one
// Command (args, io) => exit code, run through one error path (command.ts).
import { type Command, runCommand } from './command.js';
import { packageVersion } from './package-version.js';

interface Entry {
  /** One or two lines for the command list. */
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: Record<string, Entry> = {
  demo: {
    summary: `the self-contained demo (no downloads): SFT a tiny model on a synthetic task, then
            DPO, SimPO and α-DPO on on-policy pairs, one table of gold-reward results
            [--seed N --quick --json FILE --out DIR]; \`demo --help\``,
    load: async () => (await import('./demo.js')).runDemoCommand,
  },
  info: { summary: 'libtorch version, threads and devices of this installation', load: async () => (await import('./info.js')).runInfo },
  smoke: {
    summary: 'a short engine run: matmul throughput, op latency, a tiny MLP trained with autograd',
    load: async () => (await import('./smoke.js')).runSmokeCommand,
  },
  data: {
    summary: `preference datasets: \`data inspect FILE [--model DIR] [--json]\` (format, usable pairs,
            odd rows, token lengths), \`data convert FILE --out OUT.jsonl\` (normalised pairs);
            \`alpha-dpo data --help\` for the settings`,
    load: async () => (await import('./data.js')).runData,
  },
  generate: {
    summary: `continue prompts with a model folder: --model DIR --prompt TEXT [--max-new-tokens N
            --temperature T --top-k K --top-p P --seed S --stop TEXT --chat]; \`generate --help\``,
    load: async () => (await import('./generate.js')).runGenerate,
  },
  train: {
    summary: `preference-tune a model: \`train CONFIG.yaml [--key value ...] [--resume [DIR]]\`
            (α-DPO, DPO, SimPO, ...; \`train --help\` lists every config key)`,
    load: async () => (await import('./train.js')).runTrain,
  },
  evaluate: {
    summary: `preference metrics (reward accuracy, margins, the loss's metrics) of a model on a
            data set: --model DIR --data FILE [--ref DIR] [--key value]; \`evaluate --help\``,
    load: async () => (await import('./evaluate.js')).runEvaluate,
  },
  dashboard: {
    summary: 'watch training runs live in a browser: `dashboard OUTPUT_DIR [OUTPUT_DIR ...] [--port P]`',
    load: async () => (await import('./dashboard.js')).runDashboard,
  },
  report: {
    summary: `a run's charts, summary and config as one self-contained HTML file:
            \`report OUTPUT_DIR --out report.html\``,
    load: async () => (await import('./report.js')).runReport,
  },
  merge: {
    summary: `fold a LoRA adapter into its base model: --model BASE --adapter DIR --out OUT
            (a plain Hugging Face folder); \`merge --help\``,
    load: async () => (await import('./merge.js')).runMerge,
  },
  study: {
    summary: `the LenTrap benchmark (α-DPO vs SimPO vs DPO with a known gold reward and a length-biased
            judge), resumable, with a report: \`study lentrap --preset quick --out DIR\`, \`study report DIR\``,
    load: async () => (await import('./study.js')).runStudyCommand,
  },
  score: {
    summary: `per-pair chosen/rejected log-probs (summed and per-token mean) of a preference
            dataset: --model DIR --data FILE --out OUT.jsonl; \`score --help\``,
    load: async () => (await import('./score.js')).runScore,
  },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([name, e]) => `  ${name.padEnd(9)} ${e.summary}`);
  return `alpha-dpo: preference optimisation (α-DPO, DPO, SimPO, ...) for causal language models

Usage: alpha-dpo <command> [options]

Commands:
${rows.join('\n')}

Options:
  -h, --help     this text
  -v, --version  the package version
`;
}

/**
 * Writes to `stream` until its reader goes away. A reader that stops early (`alpha-dpo info | head`)
 * closes the pipe; the command then carries on without that output instead of crashing on EPIPE,
 * so a long run piped into a pager that is quit still finishes and saves its work.
 */
function pipeWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed = true;
  });
  return (text) => {
    if (!closed) stream.write(text);
  };
}

export async function main(argv: string[]): Promise<number> {
  const io = { out: pipeWriter(process.stdout), err: pipeWriter(process.stderr) };
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(help());
    return name === undefined ? 1 : 0;
  }
  if (name === '-v' || name === '--version') {
    io.out(`${packageVersion()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`alpha-dpo: unknown command '${name}'. Run alpha-dpo --help for the list.\n`);
    return 2;
  }
  return runCommand(name, await entry.load(), rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Not a user's mistake (those are handled in runCommand): a bug, shown with its stack.
    console.error(e);
    process.exitCode = 1;
  },
);
