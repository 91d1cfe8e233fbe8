// Engine benchmark: our TypeScript API against PyTorch from Python on the same libtorch work.
//
//   npm run bench:engine [-- --quick] [-- --json FILE] [-- --only ID,ID] [-- --python PATH]
//
// The two sides run in separate processes that take turns, round by round, alternating which
// goes first, so drifts in machine speed hit both; each reports medians of timed samples after
// warm-up. cases.ts holds the cases and the repetition plan, ours.ts and peer.py the twins.

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CASES, type CaseSpec, makePlan, type Plan, type RoundRequest, type RoundResult, repetitions, SEED } from './cases.js';
import { CpuMeter, type Disturbance } from './machine.js';
import { Peer, type PeerHello } from './peer.js';
import { checkDifference, collect, emptySamples, type Row, resultsTable, rowsFor, type SideSamples, table } from './report.js';

// OpenMP reads its settings when libgomp loads, i.e. when the engine's addon loads, so this must
// run before the engine is imported: none of the modules above loads it, ours.js is imported
// dynamically in main(). The Python child inherits process.env, so both sides run under the same
// policy. (The binding applies the same default, but only as it loads.)
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

// Always shown; any other variable with these prefixes is shown when either side has it set.
const ENV_SHOWN = ['OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS'];
const ENV_PREFIXES = ['OMP_', 'GOMP_', 'KMP_', 'OPENBLAS_', 'GOTO_', 'MKL_'];
const DEFAULT_PYTHON = '/usr/bin/python3';
// Relative difference above which the two sides' check sums count as different computations.
// Same libtorch, seed and thread count agree to the last bit here; the slack is for BLAS builds
// whose reduction order depends on memory alignment.
const CHECK_TOLERANCE = 1e-4;
// Pause before each side's turn. OpenBLAS's worker threads spin for ~0.1 s after a process's
// last matmul (measured: one core busy for 105 ms), which would take a core from the side that
// runs next; the pause lets them go to sleep first.
const SETTLE_MS = 300;
// A turn during which other processes took more than this share of the machine's CPU time is
// run again, up to MAX_RERUNS times (then kept, and counted in the report); no reruns start after
// RERUN_DEADLINE_S into the run, so a machine that stays busy cannot stretch it much past 3 minutes.
const DISTURBED_SHARE = 0.1;
const MAX_RERUNS = 2;
const RERUN_DEADLINE_S = 120;

const USAGE = `usage: npm run bench:engine -- [--quick] [--json FILE] [--only ID[,ID...]] [--python PATH]
  --quick        fewer rounds and shorter samples (about a fifth of the full run's time)
  --json FILE    also write every number (raw samples included) to FILE
  --only IDS     run only these cases: ${CASES.map((c) => c.id).join(', ')}
  --python PATH  the Python with PyTorch to compare against (default ${DEFAULT_PYTHON})`;

type Ours = typeof import('./ours.js');

interface Cli {
  quick: boolean;
  json: string | null;
  only: string[] | null;
  python: string;
}

interface CaseOutcome {
  spec: CaseSpec;
  /** Our seconds per unit, measured to size the samples; both sides then use the same counts. */
  calibrationSeconds: number;
  warmup: number;
  samples: number;
  inner: number;
  ours: SideSamples & { leakedTensors: number; rssMiBAfterTurn: number[] };
  pytorch: SideSamples | null;
  checkDifference: number | null;
  /** Turns run again because other processes took the CPU, and disturbed turns kept anyway. */
  reruns: number;
  disturbedKept: number;
}

interface PeerState {
  python: string;
  hello: PeerHello | null;
  threads: { defaultThreads: number; threads: number } | null;
  unavailable: string | null;
}

function parseCli(): Cli {
  let values: { quick?: boolean; json?: string; only?: string; python?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        json: { type: 'string' },
        only: { type: 'string' },
        python: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only === undefined ? null : values.only.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !CASES.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown case ${unknown.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return { quick: values.quick ?? false, json: values.json ?? null, only, python: values.python ?? DEFAULT_PYTHON };
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

function relevantEnv(env: NodeJS.ProcessEnv | Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string' && ENV_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  return out;
}

/** The last two components of a library's path (e.g. openblas-pthread/libblas.so.3): enough to tell which BLAS. */
function shortPath(path: string | null): string {
  return path === null ? 'unknown' : path.split('/').slice(-2).join('/');
}

/** Our seconds per unit of work, timeit-style: batch units until a sample lasts >= 20 ms. */
function calibrate(ours: Ours, spec: CaseSpec): number {
  const base = { spec, seed: SEED, check: false };
  const first = ours.runRound({ ...base, warmup: 1, samples: 1, inner: 1 }).seconds[0] as number;
  if (first >= 0.02) return first;
  const inner = Math.ceil(0.02 / first);
  return ours.runRound({ ...base, warmup: 0, samples: 1, inner }).seconds[0] as number;
}

async function runCase(ours: Ours, peer: Peer | null, plan: Plan, spec: CaseSpec, rerunDeadline: number): Promise<CaseOutcome> {
  const calibrationSeconds = calibrate(ours, spec);
  const { inner, samples } = repetitions(plan, calibrationSeconds);
  const outcome: CaseOutcome = {
    spec,
    calibrationSeconds,
    warmup: plan.warmup,
    samples,
    inner,
    ours: { ...emptySamples(), leakedTensors: 0, rssMiBAfterTurn: [] },
    pytorch: peer === null ? null : emptySamples(),
    checkDifference: null,
    reruns: 0,
    disturbedKept: 0,
  };
  // One side's turn: settle, run, and run again while other processes took the machine.
  const turn = async (side: string, round: number, run: () => Promise<RoundResult>): Promise<RoundResult> => {
    for (let attempt = 0; ; attempt++) {
      await sleep(SETTLE_MS);
      const meter = new CpuMeter();
      const result = await run();
      const load = meter.read(result.cpuSeconds ?? 0);
      if (load === null || load.share <= DISTURBED_SHARE) return result;
      const taken = `${spec.id} round ${round + 1}, ${side}: other processes took ${(load.share * 100).toFixed(0)}% of the machine`;
      if (attempt === MAX_RERUNS || performance.now() > rerunDeadline) {
        outcome.disturbedKept++;
        progress(`    ${taken}; keeping it (${attempt} reruns)`);
        return result;
      }
      outcome.reruns++;
      progress(`    ${taken}; running it again`);
    }
  };
  for (let round = 0; round < plan.rounds; round++) {
    const req: RoundRequest = { spec, warmup: plan.warmup, samples, inner, seed: SEED, check: round === 0 };
    const runOurs = (): Promise<RoundResult> =>
      turn('ours', round, async () => {
        const r = ours.runRound(req);
        outcome.ours.leakedTensors += r.leakedTensors;
        outcome.ours.rssMiBAfterTurn.push(rssMiB());
        return r;
      });
    const runPeer = (p: Peer): Promise<RoundResult> => turn('PyTorch', round, () => p.round(req));
    // Odd rounds let PyTorch go first, so neither side always follows the other.
    let mine: RoundResult;
    let theirs: RoundResult | null = null;
    if (peer !== null && round % 2 === 1) {
      theirs = await runPeer(peer);
      mine = await runOurs();
    } else {
      mine = await runOurs();
      if (peer !== null) theirs = await runPeer(peer);
    }
    collect(outcome.ours, mine);
    if (theirs !== null && outcome.pytorch !== null) collect(outcome.pytorch, theirs);

    const now = rowsFor(
      spec,
      { ...emptySamples(), seconds: mine.seconds },
      theirs === null ? null : { ...emptySamples(), seconds: theirs.seconds },
    );
    const first = now[0];
    if (first !== undefined) {
      const vs = first.pytorch === null ? '' : `, PyTorch ${first.pytorch.toPrecision(4)}`;
      progress(`  ${spec.id} round ${round + 1}/${plan.rounds}: ours ${first.ours.toPrecision(4)}${vs} ${first.unit}`);
    }
  }
  if (outcome.pytorch?.check && outcome.ours.check) outcome.checkDifference = checkDifference(outcome.ours.check, outcome.pytorch.check);
  return outcome;
}

async function startPeer(python: string, threads: number): Promise<{ peer: Peer | null; state: PeerState }> {
  const started = await Peer.start(python, process.env);
  if (!started.ok) {
    console.log(
      `\nPyTorch comparison unavailable: ${started.reason}.\n` +
        'Install PyTorch for that Python with `apt-get install python3-torch` and rerun; our own numbers follow.\n',
    );
    return { peer: null, state: { python, hello: null, threads: null, unavailable: started.reason } };
  }
  const peer = started.peer;
  return { peer, state: { python, hello: peer.hello, threads: await peer.init(threads), unavailable: null } };
}

async function main(): Promise<void> {
  const cli = parseCli();
  const plan = makePlan(cli.quick, cli.only);
  const ours: Ours = await import('./ours.js');
  const engine = ours.engineInfo();

  const wallStart = performance.now();
  const meter = new CpuMeter();
  const { peer, state } = await startPeer(cli.python, engine.threads);

  progress(`engine benchmark (${plan.mode}): ${plan.rounds} rounds${peer === null ? ' (ours only)' : ', ours and PyTorch alternating'}`);
  const outcomes: CaseOutcome[] = [];
  let peerCpuSeconds = 0;
  try {
    for (const spec of plan.cases) outcomes.push(await runCase(ours, peer, plan, spec, wallStart + RERUN_DEADLINE_S * 1e3));
    peerCpuSeconds = (await peer?.cpuSeconds()) ?? 0;
  } finally {
    await peer?.close();
  }
  const wallSeconds = (performance.now() - wallStart) / 1e3;
  const disturbed = meter.read(peerCpuSeconds);

  const rows: Row[] = outcomes.flatMap((o) => rowsFor(o.spec, o.ours, o.pytorch));
  printReport(plan, engine, state, outcomes, rows, wallSeconds, disturbed);

  if (cli.json !== null) {
    const json = {
      date: new Date().toISOString(),
      plan: { ...plan, cases: plan.cases.map((c) => c.id) },
      seed: SEED,
      settleMs: SETTLE_MS,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? null, node: process.version, disturbance: disturbed },
      ours: { ...engine, env: relevantEnv(process.env) },
      pytorch:
        state.hello === null
          ? { python: state.python, unavailable: state.unavailable }
          : { ...state.hello, pythonVersion: state.hello.python, python: state.python, ...state.threads },
      rows,
      cases: outcomes,
      wallSeconds,
    };
    writeFileSync(cli.json, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\nwrote ${cli.json}`);
  }
}

function printReport(
  plan: Plan,
  engine: ReturnType<Ours['engineInfo']>,
  peer: PeerState,
  outcomes: readonly CaseOutcome[],
  rows: readonly Row[],
  wallSeconds: number,
  disturbed: Disturbance | null,
): void {
  const hello = peer.hello;
  const py = (f: (h: PeerHello) => string): string => (hello === null ? 'n/a' : f(hello));
  const threadsPy =
    peer.threads === null
      ? 'n/a'
      : peer.threads.threads === peer.threads.defaultThreads
        ? `${peer.threads.threads} (torch.get_num_threads())`
        : `${peer.threads.threads} (set to ours; its default was ${peer.threads.defaultThreads})`;
  const oursEnv = relevantEnv(process.env);
  const peerEnv = hello === null ? {} : relevantEnv(hello.env);
  const envKeys = [...new Set([...ENV_SHOWN, ...Object.keys(oursEnv).sort(), ...Object.keys(peerEnv).sort()])];
  const settings = [
    ['setting', 'ours (node)', `PyTorch (${peer.python})`],
    ['libtorch', engine.torchVersion, py((h) => `${h.torchVersion} (Python ${h.python})`)],
    ['intra-op threads', `${engine.threads} (torch.getNumThreads())`, threadsPy],
    ['BLAS library', shortPath(engine.blas), py((h) => shortPath(h.blas))],
    ...envKeys.map((k) => [k, oursEnv[k] ?? '(unset)', py(() => peerEnv[k] ?? '(unset)')]),
  ];
  const cpu = cpus();
  console.log(`\n== engine benchmark: ours vs PyTorch (${plan.mode} run: ${plan.rounds} alternating rounds per case) ==`);
  console.log(`machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), node ${process.version}\n`);
  console.log(table(settings, new Set()));
  console.log('');
  console.log(resultsTable(rows));
  console.log('\nratio > 1 means ours is better in every row: ours/PyTorch for throughput (GFLOP/s, tokens/s),');
  console.log('PyTorch/ours for times (us/op, ms). Values are medians of all timed samples of each side.');
  if (peer.unavailable !== null) console.log(`PyTorch column: n/a (${peer.unavailable}; apt-get install python3-torch).`);

  const reps = outcomes.map((o) => `${o.spec.id} ${o.warmup}+${o.samples} x ${o.inner}`).join(', ');
  console.log(`samples per side and round (warm-up + timed, x units per sample): ${reps}`);
  const checks = outcomes
    .filter((o) => o.checkDifference !== null)
    .map((o) => {
      const d = o.checkDifference as number;
      return `${o.spec.id} ${d === 0 ? 'identical' : d <= CHECK_TOLERANCE ? `agree (${d.toExponential(1)})` : `DIFFER (${d.toExponential(1)})`}`;
    });
  if (checks.length > 0) console.log(`same results as PyTorch (sums of outputs / gradients): ${checks.join(', ')}`);
  const leaked = outcomes.reduce((n, o) => n + o.ours.leakedTensors, 0);
  const rss = outcomes.map((o) => `${o.spec.id} ${o.ours.rssMiBAfterTurn.join('/')}`).join(', ');
  console.log(`memory (ours): ${leaked} tensors left alive after its turns; RSS MiB after each turn: ${rss}`);
  const reruns = outcomes.reduce((n, o) => n + o.reruns, 0);
  const kept = outcomes.reduce((n, o) => n + o.disturbedKept, 0);
  if (disturbed !== null) {
    const { otherCpuSeconds: other, stealSeconds: steal, share } = disturbed;
    console.log(
      `other load: ${other.toFixed(1)} CPU-s by other processes and ${steal.toFixed(1)} s stolen by the hypervisor ` +
        `(${(share * 100).toFixed(1)}% of the machine); ${reruns} disturbed turns run again` +
        (kept > 0 ? `, ${kept} disturbed turns kept: those numbers may be off` : ''),
    );
  }
  console.log(`wall time: ${wallSeconds.toFixed(0)} s`);
}

await main();
