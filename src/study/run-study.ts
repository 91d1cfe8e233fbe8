// A whole LenTrap study: the shared world (study-world.ts), then for each judge condition the
// tuning runs (every grid configuration on the validation prompts, seed `tuningSeed`; methods in
// order, so a `baseFrom` grid starts at its base method's selected configuration), then the
// confirmation runs (each method's judge-selected configuration, and its oracle-selected one when
// that differs, × every seed, on the test prompts). A run whose record is in DIR/runs is read,
// not rerun, so an interrupted study resumes; progress reports runs done / planned and the time
// left at the session's mean seconds per run.
import { join } from 'node:path';
import { type EvalSet, type ScoredSamples, sampleAndScore } from './evaluate-checkpoint.js';
import { cacheKey, readJsonIfPresent, writeJsonAtomic } from './run-cache.js';
import { selectConfig } from './study-analysis.js';
import { StudyConfigError } from './study-errors.js';
import { type EvalSplit, evalSamplingSeed, type RunRecord, type RunSpec, runStudyRun } from './study-run.js';
import { checkMethods, gridConfigs, type JudgeCondition, type MethodConfig, type StudyMethod, type StudyPreset } from './study-settings.js';
import { buildStudyWorld, judgeFor, type StudyWorld } from './study-world.js';
import { promptTokens } from './teacher-language.js';

/** DIR/study.json: what the study is, for `study report` and for resuming. */
export interface StudyPlan {
  preset: StudyPreset;
  world: {
    sftKey: string;
    sftLoss: { first: number; last: number };
    calibration: StudyWorld['calibration'];
    pairStats: StudyWorld['pairStats'];
    tau: number;
    vocabSize: number;
    parameters: number;
    seconds: Record<string, number>;
  };
}

export const PLAN_FILE = 'study.json';
export const RUNS_DIR = 'runs';

export interface StudyProgress {
  done: number;
  planned: number;
  /** Seconds left at this session's mean seconds per computed run; null before the first. */
  secondsLeft: number | null;
}

export interface RunStudyOptions {
  preset: StudyPreset;
  outDir: string;
  log?: (line: string) => void;
  onProgress?: (progress: StudyProgress) => void;
  /** Stop after this many newly computed runs (tests, time-boxed sessions). */
  maxNewRuns?: number;
}

function runKey(world: StudyWorld, preset: StudyPreset, spec: RunSpec): string {
  return cacheKey({
    stage: 'run',
    sft: world.sftKey,
    judge: judgeFor(world.calibration, spec.condition),
    trainPrompts: preset.trainPrompts,
    samplesPerPrompt: preset.samplesPerPrompt,
    evalPrompts: spec.split === 'test' ? preset.testPrompts : preset.validationPrompts,
    evalSamplesPerPrompt: preset.evalSamplesPerPrompt,
    batchSize: preset.batchSize,
    checkpoints: preset.checkpoints,
    lossType: spec.lossType,
    config: spec.config,
    seed: spec.seed,
    split: spec.split,
    condition: spec.condition,
  });
}

/** Planned number of runs (tuning grids with their size as listed, confirmations at one configuration each). */
export function plannedRuns(preset: StudyPreset): number {
  const tuning = preset.tune ? preset.methods.reduce((a, m) => a + gridConfigs(m.grid).length, 0) : 0;
  const confirming = preset.methods.reduce((a, m) => a + (preset.tune ? 1 : gridConfigs(m.grid).length), 0) * preset.seeds.length;
  return (tuning + confirming) * preset.conditions.length;
}

export async function runStudy(options: RunStudyOptions): Promise<{ records: RunRecord[]; stopped: boolean }> {
  const { preset, outDir } = options;
  const log = options.log ?? (() => {});
  checkMethods(preset.methods);
  await checkSameStudy(outDir, preset);
  const world = await buildStudyWorld(outDir, preset, log);
  const sftDir = join(outDir, 'cache', `sft-${world.sftKey}`);
  const plan: StudyPlan = {
    preset,
    world: {
      sftKey: world.sftKey,
      sftLoss: world.sftLoss,
      calibration: world.calibration,
      pairStats: world.pairStats,
      tau: world.tau,
      vocabSize: world.world.vocabSize,
      parameters: world.sft.numParameters,
      seconds: world.seconds,
    },
  };
  await writeJsonAtomic(join(outDir, PLAN_FILE), plan, 1);
  const records: RunRecord[] = [];
  const planned = plannedRuns(preset);
  let computed = 0;
  let computeSeconds = 0;
  let stopped = false;
  const baselines = new Map<string, { set: EvalSet; baseline: ScoredSamples }>();
  const evalSetFor = (condition: JudgeCondition, split: EvalSplit, seed: number) => {
    const id = `${condition}/${split}/${seed}`;
    const found = baselines.get(id);
    if (found) return found;
    const prompts = world.prompts[split];
    const set: EvalSet = {
      world: world.world,
      tau: world.tau,
      judge: judgeFor(world.calibration, condition),
      prompts,
      promptIds: prompts.map((p) => promptTokens(world.world, p)),
      samplesPerPrompt: preset.evalSamplesPerPrompt,
      seed: evalSamplingSeed(seed, split),
    };
    const entry = { set, baseline: sampleAndScore(world.sft, set) };
    baselines.set(id, entry);
    return entry;
  };
  const report = () =>
    options.onProgress?.({
      done: records.length,
      planned,
      secondsLeft: computed === 0 ? null : (computeSeconds / computed) * (planned - records.length),
    });

  const run = async (spec: RunSpec): Promise<RunRecord | null> => {
    const key = runKey(world, preset, spec);
    const path = join(outDir, RUNS_DIR, `${key}.json`);
    const cached = await readJsonIfPresent<RunRecord>(path);
    if (cached) {
      records.push(cached);
      report();
      return cached;
    }
    if (options.maxNewRuns !== undefined && computed >= options.maxNewRuns) {
      stopped = true;
      return null;
    }
    log(
      `run ${records.length + 1}/${planned}: ${spec.method} ${JSON.stringify(spec.config)} seed ${spec.seed} (${spec.condition}, ${spec.split})`,
    );
    const { set, baseline } = evalSetFor(spec.condition, spec.split, spec.seed);
    const record = await runStudyRun({
      spec,
      key,
      sftDir,
      sft: world.sft,
      pairs: world.pairs[spec.condition],
      batchSize: preset.batchSize,
      checkpoints: preset.checkpoints,
      evalSet: set,
      baseline,
      log,
    });
    await writeJsonAtomic(join(outDir, RUNS_DIR, `${key}.json`), record);
    computed += 1;
    computeSeconds += record.seconds;
    records.push(record);
    report();
    return record;
  };

  try {
    for (const condition of preset.conditions) {
      const chosen = new Map<string, { judge: MethodConfig; oracle: MethodConfig }>();
      for (const method of preset.methods) {
        const base = method.baseFrom === undefined ? {} : (chosen.get(method.baseFrom)?.judge ?? null);
        if (base === null) break; // its base method's tuning did not finish
        const configs = gridConfigs(method.grid, base);
        if (!preset.tune) {
          for (const config of configs) chosen.set(method.name, { judge: config, oracle: config });
          continue;
        }
        const tuned: RunRecord[] = [];
        for (const config of configs) {
          const record = await run(specFor(method, condition, config, preset.tuningSeed, 'validation'));
          if (record === null) return { records, stopped };
          tuned.push(record);
        }
        chosen.set(method.name, { judge: selectConfig(tuned, 'judge'), oracle: selectConfig(tuned, 'oracle') });
      }
      for (const seed of preset.seeds) {
        for (const method of preset.methods) {
          const picked = chosen.get(method.name);
          if (!picked) continue;
          const configs = preset.tune
            ? [picked.judge, ...(cacheKey(picked.oracle) === cacheKey(picked.judge) ? [] : [picked.oracle])]
            : gridConfigs(method.grid);
          for (const config of configs) {
            if ((await run(specFor(method, condition, config, seed, 'test'))) === null) return { records, stopped };
          }
        }
      }
    }
    return { records, stopped };
  } finally {
    world.sft.dispose();
  }
}

/** A folder holds one study: the same preset apart from its methods (methods may be added or changed; their runs are keyed apart). */
async function checkSameStudy(outDir: string, preset: StudyPreset): Promise<void> {
  const existing = await readJsonIfPresent<StudyPlan>(join(outDir, PLAN_FILE));
  if (!existing) return;
  const { methods: _a, ...before } = existing.preset;
  const { methods: _b, ...now } = preset;
  if (cacheKey(before) !== cacheKey(now)) {
    throw new StudyConfigError(
      `${outDir} already holds a study with other settings (preset '${existing.preset.name}'): resume it with the same preset, or give another --out folder.`,
    );
  }
}

function specFor(method: StudyMethod, condition: JudgeCondition, config: MethodConfig, seed: number, split: EvalSplit): RunSpec {
  return { condition, method: method.name, lossType: method.lossType, config, seed, split };
}
