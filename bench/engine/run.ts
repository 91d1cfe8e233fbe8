// Engine benchmark: our TypeScript API against PyTorch from Python on the same libtorch work.
//
//   npm run bench:engine [-- --quick] [-- --json FILE] [-- --only ID,ID] [-- --python PATH]
//
// Both sides run in separate processes that take turns (round by round, alternating which goes
// first), so drifts in machine speed hit both; each reports medians of timed repetitions after
// warm-up. See cases.ts for the cases and repetition counts, ours.ts and peer.py for the twins.

import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { CASE_IDS, type CasePlan, makePlan, type RoundRequest, type RoundResult, SEED } from './cases.js';
import { Peer, type PeerHello } from './peer.js';
import { addRound, checkDifference, emptySamples, type Row, resultsTable, rowsFor, type SideSamples, table } from './report.js';

// OpenMP reads its settings when libgomp loads, i.e. when the engine's addon loads, so this must
// run before the engine is imported: none of the modules above loads it, ours.js is imported
// dynamically in main(). The Python child inherits process.env, so both sides run under the same
// policy. (The binding applies the same default, but only as it loads.)
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

const ENV_KEYS = ['OMP_WAIT_POLICY', 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'] as const;
const DEFAULT_PYTHON = '/usr/bin/python3';
// Relative difference above which the two sides' check sums count as different computations.
// Same libtorch, seed and thread count should agree to the last bit; the slack is for BLAS
// builds whose reduction order depends on memory alignment.
const CHECK_TOLERANCE = 1e-4;

const USAGE = `usage: npm run bench:engine -- [--quick] [--json FILE] [--only ID[,ID...]] [--python PATH]
  --quick        fewer rounds and repetitions (about a third of the full run's time)
  --json FILE    also write every number (raw samples included) to FILE
  --only IDS     run only these cases: ${CASE_IDS.join(', ')}
  --python PATH  the Python with PyTorch to compare against (default ${DEFAULT_PYTHON})`;

interface CaseOutcome {
  plan: CasePlan;
  ours: SideSamples & { leakedTensors: number; rssMiBAfterRound: number[] };
  pytorch: SideSamples | null;
  checkDifference: number | null;
}

function parseCli(): { quick: boolean; json: string | null; only: string[] | null; python: string } {
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
  const unknown = only?.filter((id) => !CASE_IDS.includes(id)) ?? [];
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

function envText(value: string | null | undefined): string {
  return value === undefined || value === null ? '(unset)' : value;
}

async function main(): Promise<void> {
  const cli = parseCli();
  const plan = makePlan(cli.quick, cli.only);
  const wallStart = performance.now();

  const ours = await import('./ours.js');
  const engine = ours.engineInfo();

  const started = await Peer.start(cli.python, process.env);
  let peer: Peer | null = null;
  let peerThreads: { defaultThreads: number; threads: number } | null = null;
  let peerHello: PeerHello | null = null;
  let peerUnavailable: string | null = null;
  if (started.ok) {
    peer = started.peer;
    peerHello = peer.hello;
    peerThreads = await peer.init(engine.threads);
  } else {
    peerUnavailable = started.reason;
    console.log(
      `\nPyTorch comparison unavailable: ${started.reason}.\n` +
        'Install PyTorch for that Python with `apt-get install python3-torch` and rerun; our own numbers follow.\n',
    );
  }

  progress(`engine benchmark (${plan.mode}): ${plan.rounds} rounds${peer === null ? ' (ours only)' : ', ours and PyTorch alternating'}`);
  const outcomes: CaseOutcome[] = [];
  try {
    for (const casePlan of plan.cases) {
      const { spec } = casePlan;
      const outcome: CaseOutcome = {
        plan: casePlan,
        ours: { ...emptySamples(), leakedTensors: 0, rssMiBAfterRound: [] },
        pytorch: peer === null ? null : emptySamples(),
        checkDifference: null,
      };
      for (let round = 0; round < plan.rounds; round++) {
        const req: RoundRequest = { spec, warmup: casePlan.warmup, samples: casePlan.samples, seed: SEED };
        const runOurs = (): RoundResult => {
          const r = ours.runRound(req);
          outcome.ours.leakedTensors += r.leakedTensors;
          outcome.ours.rssMiBAfterRound.push(rssMiB());
          return r;
        };
        // Odd rounds let PyTorch go first, so neither side always follows the other.
        let mine: RoundResult;
        let theirs: RoundResult | null = null;
        if (peer !== null && round % 2 === 1) {
          theirs = await peer.round(req);
          mine = runOurs();
        } else {
          mine = runOurs();
          if (peer !== null) theirs = await peer.round(req);
        }
        addRound(outcome.ours, mine);
        const theirSamples = theirs === null ? null : { ...emptySamples(), seconds: theirs.seconds };
        const [first] = rowsFor(spec, { ...emptySamples(), seconds: mine.seconds }, theirSamples);
        if (first !== undefined) {
          const vs = first.pytorch === null ? '' : `, PyTorch ${first.pytorch.toPrecision(4)}`;
          progress(`  ${spec.id} round ${round + 1}/${plan.rounds}: ours ${first.ours.toPrecision(4)}${vs} ${first.unit}`);
        }
        if (theirs !== null && outcome.pytorch !== null) addRound(outcome.pytorch, theirs);
      }
      if (outcome.pytorch?.check && outcome.ours.check)
        outcome.checkDifference = checkDifference(outcome.ours.check, outcome.pytorch.check);
      outcomes.push(outcome);
    }
  } finally {
    await peer?.close();
  }
  const wallSeconds = (performance.now() - wallStart) / 1e3;

  const rows: Row[] = outcomes.flatMap((o) => rowsFor(o.plan.spec, o.ours, o.pytorch));
  printReport({ cli, plan, engine, peerHello, peerThreads, peerUnavailable, outcomes, rows, wallSeconds });

  if (cli.json !== null) {
    const json = {
      date: new Date().toISOString(),
      mode: plan.mode,
      rounds: plan.rounds,
      seed: SEED,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, node: process.version, platform: process.platform },
      ours: {
        torchVersion: engine.torchVersion,
        threads: engine.threads,
        env: Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k] ?? null])),
      },
      pytorch:
        peerHello === null || peerThreads === null
          ? { unavailable: peerUnavailable }
          : { torchVersion: peerHello.torchVersion, python: peerHello.python, ...peerThreads, env: peerHello.env },
      rows,
      cases: outcomes.map((o) => ({
        spec: o.plan.spec,
        warmupPerRound: o.plan.warmup,
        samplesPerRound: o.plan.samples,
        ours: o.ours,
        pytorch: o.pytorch,
        checkDifference: o.checkDifference,
      })),
      wallSeconds,
    };
    writeFileSync(cli.json, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\nwrote ${cli.json}`);
  }
}

function printReport(r: {
  cli: ReturnType<typeof parseCli>;
  plan: ReturnType<typeof makePlan>;
  engine: { torchVersion: string; threads: number };
  peerHello: PeerHello | null;
  peerThreads: { defaultThreads: number; threads: number } | null;
  peerUnavailable: string | null;
  outcomes: CaseOutcome[];
  rows: Row[];
  wallSeconds: number;
}): void {
  const py = (f: (h: PeerHello) => string): string => (r.peerHello === null ? 'n/a' : f(r.peerHello));
  const threadsPy =
    r.peerThreads === null
      ? 'n/a'
      : r.peerThreads.threads === r.peerThreads.defaultThreads
        ? String(r.peerThreads.threads)
        : `${r.peerThreads.threads} (set; its default was ${r.peerThreads.defaultThreads})`;
  const settings = [
    ['setting', 'ours (node)', `PyTorch (${r.cli.python})`],
    ['libtorch', r.engine.torchVersion, py((h) => `${h.torchVersion} (Python ${h.python})`)],
    [
      'intra-op threads',
      `${r.engine.threads} (torch.getNumThreads())`,
      r.peerThreads === null ? 'n/a' : `${threadsPy} (torch.get_num_threads())`,
    ],
    ...ENV_KEYS.map((k) => [k, envText(process.env[k]), py((h) => envText(h.env[k]))]),
  ];
  const cpu = cpus();
  console.log(`\n== engine benchmark: ours vs PyTorch (${r.plan.mode} run: ${r.plan.rounds} alternating rounds per case) ==`);
  console.log(`machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), node ${process.version}\n`);
  console.log(table(settings, new Set()));
  console.log('');
  console.log(resultsTable(r.rows));
  console.log('\nratio > 1 means ours is better in every row: ours/PyTorch for throughput (GFLOP/s, tokens/s),');
  console.log('PyTorch/ours for times (us/op, ms). Values are medians of all timed repetitions.');
  if (r.peerUnavailable !== null) console.log(`PyTorch column: n/a (${r.peerUnavailable}; apt-get install python3-torch).`);

  const reps = r.outcomes.map((o) => `${o.plan.spec.id} ${o.plan.warmup}+${o.plan.samples}`).join(', ');
  console.log(`repetitions per side and round (warm-up + timed): ${reps}`);
  const checks = r.outcomes
    .filter((o) => o.checkDifference !== null)
    .map((o) => {
      const d = o.checkDifference as number;
      return `${o.plan.spec.id} ${d === 0 ? 'identical' : d <= CHECK_TOLERANCE ? `agree (${d.toExponential(1)})` : `DIFFER (${d.toExponential(1)})`}`;
    });
  if (checks.length > 0) console.log(`same results as PyTorch (sums of outputs / gradients): ${checks.join(', ')}`);
  const leaked = r.outcomes.reduce((n, o) => n + o.ours.leakedTensors, 0);
  const rss = r.outcomes.map((o) => `${o.plan.spec.id} ${o.ours.rssMiBAfterRound.join('/')}`).join(', ');
  console.log(`memory (ours): ${leaked} tensors left alive after rounds; RSS MiB after each round: ${rss}`);
  console.log(`wall time: ${r.wallSeconds.toFixed(0)} s`);
}

await main();
