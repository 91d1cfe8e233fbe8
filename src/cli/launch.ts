// `alpha-dpo train CONFIG --nproc_per_node N [--nnodes M --node_rank R --master_addr H --master_port P]`:
// torchrun's contract. Starts N workers on this machine, each `alpha-dpo train CONFIG ...` with
// RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT set (the
// workers join the group in train(); see train/process-group.ts), the machine's cores shared
// between them. Workers run in their own process group, so Ctrl-C reaches them once, through here:
// the first forwards SIGINT (each worker finishes its step, rank 0 writes a checkpoint), a second
// forwards it again (they quit at once). A worker that fails is reported with its rank; the others
// get a grace period to report what they saw (the dead rank, named by the process group), then
// are stopped. Workers also exit when this launcher disappears (ALPHA_DPO_LAUNCHER_PID).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { TrainConfigError } from '../train/train-config.js';
import type { CommandIO } from './command.js';

export interface LaunchArgs {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
}

/** Seconds the other workers get to report a failed worker before they are stopped. */
const GRACE_SECONDS = 60;
/** Seconds between SIGTERM and SIGKILL when stopping workers. */
const KILL_AFTER_SECONDS = 10;

const FLAGS = ['nproc_per_node', 'nnodes', 'node_rank', 'master_addr', 'master_port'] as const;
type Flag = (typeof FLAGS)[number];

/** Removes the launcher's flags (torchrun's, with _ or -) from `args`; null when --nproc_per_node is absent. */
export function takeLaunchArgs(args: string[]): { launch: LaunchArgs | null; rest: string[] } {
  const found: Partial<Record<Flag, string>> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const m = /^--(nproc[_-]per[_-]node|nnodes|node[_-]rank|master[_-]addr|master[_-]port)(?:=(.*))?$/.exec(arg);
    if (!m) {
      rest.push(arg);
      continue;
    }
    const flag = (m[1] as string).replace(/-/g, '_') as Flag;
    const value = m[2] ?? args[++i];
    if (value === undefined || value.startsWith('--')) throw new TrainConfigError(flag, `--${flag} needs a value.`);
    found[flag] = value;
  }
  if (found.nproc_per_node === undefined) {
    const stray = FLAGS.find((f) => found[f] !== undefined);
    if (stray) throw new TrainConfigError(stray, `--${stray} starts a multi-process run: give --nproc_per_node N too.`);
    return { launch: null, rest };
  }
  const whole = (flag: Flag, fallback: number, min: number, max = 65535) => {
    const text = found[flag];
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new TrainConfigError(flag, `--${flag} must be a whole number in [${min}, ${max}], got ${JSON.stringify(text)}.`);
    }
    return n;
  };
  const nnodes = whole('nnodes', 1, 1);
  const launch = {
    nprocPerNode: whole('nproc_per_node', 1, 1, 1024),
    nnodes,
    nodeRank: whole('node_rank', 0, 0, nnodes - 1),
    masterAddr: found.master_addr ?? '127.0.0.1',
    masterPort: whole('master_port', 29500, 1),
  };
  if (launch.nnodes > 1 && found.master_addr === undefined) {
    throw new TrainConfigError(
      'master_addr',
      '--nnodes > 1 needs --master_addr: the address of the node with --node_rank 0, reachable from every node.',
    );
  }
  return { launch, rest };
}

/** Rank 0 hosts the rendezvous on master_port: say so now, before N workers load models, if the port is taken. */
async function checkPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(
          new TrainConfigError(
            'master_port',
            `port ${port} is already in use on this machine, so rank 0 cannot host the rendezvous there: pass another --master_port, or stop the process that holds it.`,
          ),
        );
      } else resolve(); // e.g. no permission to probe: the worker will report the real problem
    });
    server.listen({ port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Each line of `stream` written through `write` with a prefix. */
function prefixLines(stream: NodeJS.ReadableStream | null, prefix: string, write: (text: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => write(`${prefix}${line}\n`));
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Runs the workers of this node to completion; the exit code is the first failing worker's (0 when all succeed). */
export async function launchWorkers(launch: LaunchArgs, trainArgs: string[], io: CommandIO): Promise<number> {
  const worldSize = launch.nprocPerNode * launch.nnodes;
  if (launch.nodeRank === 0) await checkPortFree(launch.masterPort);
  const threads = Math.max(1, Math.floor(availableParallelism() / launch.nprocPerNode));
  io.out(
    `launching ${launch.nprocPerNode} worker(s) on node ${launch.nodeRank} of ${launch.nnodes} (world size ${worldSize}, ` +
      `rendezvous ${launch.masterAddr}:${launch.masterPort}, ${process.env.OMP_NUM_THREADS ?? threads} thread(s) each)\n`,
  );
  const script = process.argv[1] as string;
  const workers: { rank: number; child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }[] = [];
  for (let local = 0; local < launch.nprocPerNode; local++) {
    const rank = launch.nodeRank * launch.nprocPerNode + local;
    const env = {
      ...process.env,
      RANK: String(rank),
      LOCAL_RANK: String(local),
      WORLD_SIZE: String(worldSize),
      LOCAL_WORLD_SIZE: String(launch.nprocPerNode),
      GROUP_RANK: String(launch.nodeRank),
      MASTER_ADDR: launch.masterAddr,
      MASTER_PORT: String(launch.masterPort),
      OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? String(threads),
      OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? String(threads),
      ALPHA_DPO_LAUNCHER_PID: String(process.pid),
    };
    // Rank 0 speaks for the run on this terminal; the others' lines carry their rank.
    const quietRank = rank !== 0;
    const child = spawn(process.execPath, [...process.execArgv, script, 'train', ...trainArgs], {
      env,
      detached: true,
      stdio: ['ignore', quietRank ? 'pipe' : 'inherit', quietRank ? 'pipe' : 'inherit'],
    });
    prefixLines(child.stdout, `[rank ${rank}] `, io.out);
    prefixLines(child.stderr, `[rank ${rank}] `, io.err);
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    workers.push({ rank, child, exit });
  }

  const running = new Set(workers.map((w) => w.rank));
  const signalAll = (signal: NodeJS.Signals) => {
    for (const w of workers) if (running.has(w.rank)) w.child.kill(signal);
  };
  let interrupts = 0;
  const onSignal = (name: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts === 1)
      io.err(`\n${name}: stopping every worker after its current step (rank 0 writes a checkpoint); again to stop at once\n`);
    signalAll(interrupts === 1 ? name : 'SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let firstFailure: { rank: number; code: number } | null = null;
  let graceTimer: NodeJS.Timeout | null = null;
  let killTimer: NodeJS.Timeout | null = null;
  try {
    await Promise.all(
      workers.map(async (w) => {
        const { code, signal } = await w.exit;
        running.delete(w.rank);
        if (code === 0) return;
        const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : signal === 'SIGINT' ? 2 : 1);
        io.err(`worker rank ${w.rank} (pid ${w.child.pid}) ${describeExit(code, signal)}\n`);
        if (firstFailure !== null || interrupts > 0) return;
        firstFailure = { rank: w.rank, code: exitCode };
        if (running.size === 0) return;
        io.err(`waiting up to ${GRACE_SECONDS} s for the other workers to stop (they see rank ${w.rank} gone at their next collective)\n`);
        graceTimer = setTimeout(() => {
          io.err(`stopping the remaining workers (ranks ${[...running].join(', ')})\n`);
          signalAll('SIGTERM');
          killTimer = setTimeout(() => signalAll('SIGKILL'), KILL_AFTER_SECONDS * 1000);
        }, GRACE_SECONDS * 1000);
      }),
    );
  } finally {
    if (graceTimer) clearTimeout(graceTimer);
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const failure = firstFailure as { rank: number; code: number } | null;
  if (failure) return failure.code;
  const codes = await Promise.all(workers.map((w) => w.exit));
  return codes.find((c) => c.code !== 0)?.code ?? 0;
}

/**
 * In a worker started by launchWorkers: exit when the launcher is gone (killed with SIGKILL, say),
 * so no worker is left behind. Checked between steps (the event loop turns there).
 */
export function exitWithLauncher(io: CommandIO): void {
  const launcher = Number(process.env.ALPHA_DPO_LAUNCHER_PID);
  if (!Number.isSafeInteger(launcher) || launcher <= 0) return;
  setInterval(() => {
    if (process.ppid !== launcher) {
      io.err(`the launcher (pid ${launcher}) is gone: exiting\n`);
      process.exit(1);
    }
  }, 1000).unref();
}
