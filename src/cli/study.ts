// `alpha-dpo study lentrap --preset quick|full|tiny --out DIR [--methods FILE.json] [--max-runs N]`
// and `alpha-dpo study report DIR`: the LenTrap study of src/study/ (docs/study.md). Every run is
// cached in DIR, so running the same command again resumes; `report` reports what has finished.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { LossType } from '../losses/registry.js';
import {
  checkMethods,
  PRESETS,
  type PresetName,
  REPORT_FILES,
  runStudy,
  StudyConfigError,
  type StudyMethod,
  writeStudyReport,
} from '../study/index.js';
import { type CommandIO, UsageError } from './command.js';

export const STUDY_HELP = `alpha-dpo study: the LenTrap benchmark (does α-DPO beat SimPO and DPO?), with a report

Usage: alpha-dpo study lentrap --preset quick|full|tiny --out DIR [--methods FILE.json] [--max-runs N]
       alpha-dpo study report DIR

lentrap   trains an SFT model on a synthetic teacher language with a known gold reward, builds
          best/worst-of-4 on-policy pairs labelled by a length-biased judge, trains each method
          through the trainer for each seed, evaluates every run (gold win rate, LC win rate,
          exact KL, length, ...) and writes DIR/report.md, DIR/report.html and DIR/summary.json.
          Each run is cached in DIR under a key of its full configuration: the same command
          again resumes where it stopped.
  --preset P      tiny (about a minute; for tests), quick (one configuration per method × 3 seeds),
                  full (grids tuned by the judge, 10 seeds, and the λ = 0 control; hours)
  --out DIR       the study folder (created; reused to resume)
  --methods FILE  a JSON list of extra methods, any loss of the registry with its own grid:
                  [{"name": "IPO", "loss_type": "ipo", "grid": {"beta": [0.1, 0.5], "learning_rate": [1e-4]}}]
                  (a name already in the preset replaces that method; "base_from": NAME starts the
                  grid from that method's selected configuration)
  --max-runs N    stop after N newly trained runs (the report covers what has finished)
report    rewrites DIR/report.md, report.html and summary.json from the runs finished so far.

docs/study.md explains the task, every metric and the measured results.
`;

interface MethodFileEntry {
  name?: unknown;
  loss_type?: unknown;
  grid?: unknown;
  base_from?: unknown;
}

async function readMethods(path: string): Promise<StudyMethod[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new StudyConfigError(`cannot read the methods file ${path}: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new StudyConfigError(`${path} must hold a JSON list of methods.`);
  return parsed.map((entry: MethodFileEntry, i) => {
    if (typeof entry?.name !== 'string' || typeof entry.loss_type !== 'string' || typeof entry.grid !== 'object' || entry.grid === null) {
      throw new StudyConfigError(`${path}: method ${i + 1} needs "name", "loss_type" and "grid" (an object of value lists).`);
    }
    return {
      name: entry.name,
      lossType: entry.loss_type as LossType,
      grid: entry.grid as StudyMethod['grid'],
      ...(typeof entry.base_from === 'string' ? { baseFrom: entry.base_from } : {}),
    };
  });
}

const duration = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

export async function runStudyCommand(argv: string[], io: CommandIO): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        preset: { type: 'string' },
        out: { type: 'string' },
        methods: { type: 'string' },
        'max-runs': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Run alpha-dpo study --help.`);
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values['help'] || sub === undefined) {
    io.out(STUDY_HELP);
    return sub === undefined && !values['help'] ? 2 : 0;
  }
  if (sub === 'report') {
    const dir = rest[0] ?? (values['out'] as string | undefined);
    if (dir === undefined) throw new UsageError('study report needs the study folder: alpha-dpo study report DIR');
    const { analysis, files } = await writeStudyReport(dir);
    io.err(`${analysis.runsDone} finished runs reported: ${files.join(', ')}\n`);
    return 0;
  }
  if (sub !== 'lentrap')
    throw new UsageError(`unknown study '${sub}': the studies are 'lentrap' and 'report'. Run alpha-dpo study --help.`);
  const presetName = (values['preset'] as string | undefined) ?? 'quick';
  if (!(presetName in PRESETS)) throw new UsageError(`--preset must be tiny, quick or full, got '${presetName}'`);
  const out = values['out'] as string | undefined;
  if (out === undefined) throw new UsageError('study lentrap needs --out DIR (the study folder; reuse it to resume)');
  let maxNewRuns: number | undefined;
  if (values['max-runs'] !== undefined) {
    maxNewRuns = Number(values['max-runs']);
    if (!Number.isSafeInteger(maxNewRuns) || maxNewRuns < 0)
      throw new UsageError(`--max-runs expects a whole number ≥ 0, got '${values['max-runs']}'`);
  }
  const preset = { ...PRESETS[presetName as PresetName] };
  if (values['methods'] !== undefined) {
    const extra = await readMethods(values['methods'] as string);
    const names = new Set(extra.map((m) => m.name));
    preset.methods = [...preset.methods.filter((m) => !names.has(m.name)), ...extra];
    checkMethods(preset.methods);
  }
  const started = performance.now();
  const stamp = () => `[${duration((performance.now() - started) / 1000)}]`;
  const { stopped } = await runStudy({
    preset,
    outDir: out,
    ...(maxNewRuns === undefined ? {} : { maxNewRuns }),
    log: (line) => io.err(`${stamp()} ${line}\n`),
    onProgress: (p) =>
      io.err(`${stamp()} runs ${p.done}/${p.planned}${p.secondsLeft === null ? '' : `, about ${duration(p.secondsLeft)} left`}\n`),
  });
  const { analysis } = await writeStudyReport(out);
  io.err(
    `${stamp()} ${stopped ? 'stopped at --max-runs; run the same command again to resume. ' : ''}${analysis.runsDone} runs reported in ${out}/${REPORT_FILES.html}\n`,
  );
  io.out(`${out}/${REPORT_FILES.markdown}\n`);
  return 0;
}
