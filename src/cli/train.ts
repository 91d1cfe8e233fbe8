// `alpha-dpo train CONFIG.yaml [--key value ...] [--resume [DIR]]`: a thin shell over train().
// It owns what only a command line has: the YAML file and flags, the config of the run being
// resumed, and Ctrl-C / SIGTERM (finish the step, checkpoint, exit 130 / 143).
import { readTrainerState } from '../train/checkpoint.js';
import { CHANGEABLE_ON_RESUME, checkpointToResume } from '../train/restore.js';
import { train } from '../train/train.js';
import { mergeTrainConfigSources, parseOverrides, readTrainConfigFile, TrainConfigError, trainConfigHelp } from '../train/train-config.js';
import { type CommandIO, lineWriter } from './command.js';
import { exitWithLauncher, launchWorkers, takeLaunchArgs } from './launch.js';

const USAGE = `Usage: alpha-dpo train CONFIG.yaml [--key value ...] [--resume [DIR]]

Trains model_name_or_path on the preference pairs of dataset (or dataset_mixer) with loss_type,
writing checkpoints, metrics.jsonl and the final Hugging Face model to output_dir. Keys are
TRL's and the α-DPO reference code's; --key value overrides the file (values read as YAML;
--key null unsets a key). --resume continues the newest complete checkpoint in output_dir (or
the checkpoint or output folder named) with the settings that run was started with.
Ctrl-C or SIGTERM: the current step finishes, a checkpoint is written, exit 130 (143).

Several processes (data-parallel, torchrun's flags; docs/distributed.md):
  alpha-dpo train CONFIG.yaml --nproc_per_node N [--nnodes M --node_rank R --master_addr HOST --master_port P]
Workers started by torchrun, Slurm or a PyTorchJob read RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
`;

interface TrainArgs {
  file: string;
  overrides: Record<string, unknown>;
  /** null: a new run; 'latest': the newest checkpoint in output_dir; else a checkpoint or output folder. */
  resume: string | null;
}

function parseTrainArgs(args: string[]): TrainArgs {
  const [file, ...rest] = args as [string, ...string[]];
  if (file.startsWith('--')) throw new TrainConfigError('config', 'the first argument must be the YAML config file.');
  const at = rest.indexOf('--resume');
  let resume: string | null = null;
  if (at >= 0) {
    const next = rest[at + 1];
    const named = next !== undefined && !next.startsWith('--');
    resume = named ? next : 'latest';
    rest.splice(at, named ? 2 : 1);
  }
  return { file, overrides: parseOverrides(rest), resume };
}

/**
 * The config of a resumed run: the one it was started with (stored in its checkpoints), so the
 * flags given when it started need not be repeated. New values are allowed for the keys that do
 * not change what is trained; others are an error that shows the difference.
 */
async function resumedConfig(
  args: TrainArgs,
  fromFile: Record<string, unknown>,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const outputDir = args.overrides.output_dir ?? fromFile.output_dir;
  const checkpoint = await checkpointToResume(args.resume as string, typeof outputDir === 'string' ? outputDir : null);
  const state = await readTrainerState(checkpoint);
  const saved = { ...state.config };
  delete saved.resume_from_checkpoint;
  if (Object.keys(saved).length === 0) return { ...fromFile, ...args.overrides, resume_from_checkpoint: checkpoint };
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const conflicts = Object.entries(args.overrides).filter(([k, v]) => !CHANGEABLE_ON_RESUME.has(k) && !same(saved[k], v));
  if (conflicts.length > 0) {
    const lines = conflicts.map(
      ([k, v]) => `  ${k}: the run has ${JSON.stringify(saved[k] ?? null)}, the command line ${JSON.stringify(v)}`,
    );
    throw new TrainConfigError(
      'resume_from_checkpoint',
      `${checkpoint} was started with other settings; resuming with these would not continue that run:\n${lines.join('\n')}\n` +
        'Drop these flags to continue the run as it was started, or start a new run in another output_dir.',
    );
  }
  const edited = Object.keys({ ...saved, ...fromFile }).filter(
    (k) => k !== 'resume_from_checkpoint' && !same(saved[k], fromFile[k]) && !(k in args.overrides),
  );
  if (edited.length > 0) log(`note: resuming with the settings the run was started with; ${args.file} differs in: ${edited.join(', ')}`);
  return { ...saved, ...args.overrides, resume_from_checkpoint: checkpoint };
}

/** Ctrl-C and SIGTERM abort the run (it checkpoints and returns); a second one exits at once. */
function stopOnSignals(log: (line: string) => void): { signal: AbortSignal; exitCode: () => number; dispose: () => void } {
  const controller = new AbortController();
  let received: NodeJS.Signals | null = null;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
  const handler = (name: NodeJS.Signals) => {
    if (received !== null) process.exit(codes[name] ?? 1);
    received = name;
    log(`\n${name}: finishing this step and writing a checkpoint (${name === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit at once)`);
    controller.abort(name);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    exitCode: () => (received ? (codes[received] ?? 1) : 1),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export async function runTrain(args: string[], io: CommandIO): Promise<number> {
  const log = lineWriter(io.out);
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    io.out(USAGE + trainConfigHelp());
    return args.length === 0 ? 1 : 0;
  }
  const { launch, rest } = takeLaunchArgs(args);
  if (launch) return launchWorkers(launch, rest, io);
  exitWithLauncher(io);
  const parsed = parseTrainArgs(rest);
  const fromFile = await readTrainConfigFile(parsed.file);
  const merged = mergeTrainConfigSources(parsed.file, fromFile, parsed.overrides);
  const raw = parsed.resume ? await resumedConfig(parsed, fromFile, log) : merged.raw;
  const stop = stopOnSignals(log);
  try {
    const summary = await train(raw, { log, signal: stop.signal, configWhere: merged.where });
    if (summary.interrupted) {
      const outputFlag = 'output_dir' in parsed.overrides ? ` --output_dir ${String(parsed.overrides.output_dir)}` : '';
      log(`stopped at step ${summary.steps}/${summary.totalSteps}; continue with: alpha-dpo train ${parsed.file}${outputFlag} --resume`);
      return stop.exitCode();
    }
    const accuracy = summary.evalMetrics?.['eval_rewards/accuracies'];
    log(
      `done: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s (${summary.tokensPerSecond.toFixed(0)} tokens/s); final loss ${summary.finalLoss.toFixed(4)}` +
        `${accuracy !== undefined ? `, eval reward accuracy ${accuracy.toFixed(3)}` : ''}`,
    );
    return 0;
  } finally {
    stop.dispose();
  }
}
