// Reading a study folder and writing its report: DIR/study.json (the plan), DIR/runs/*.json (one
// record per finished run), and the outputs report.md, report.html and summary.json (the analysis:
// every number of the report, without per-prompt values or samples; small enough to commit).
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonIfPresent, writeJsonAtomic } from './run-cache.js';
import { PLAN_FILE, RUNS_DIR, type StudyPlan } from './run-study.js';
import { analyseStudy, type StudyAnalysis } from './study-analysis.js';
import { StudyConfigError } from './study-errors.js';
import { studyReportHtml, studyReportMarkdown } from './study-report.js';
import type { RunRecord } from './study-run.js';

export const REPORT_FILES = { markdown: 'report.md', html: 'report.html', summary: 'summary.json' } as const;

export async function readStudyFolder(dir: string): Promise<{ plan: StudyPlan; records: RunRecord[] }> {
  const plan = await readJsonIfPresent<StudyPlan>(join(dir, PLAN_FILE));
  if (!plan) throw new StudyConfigError(`${dir} has no ${PLAN_FILE}: give the folder a study wrote (alpha-dpo study lentrap --out DIR).`);
  let names: string[] = [];
  try {
    names = (await readdir(join(dir, RUNS_DIR))).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const records: RunRecord[] = [];
  for (const name of names) {
    const record = await readJsonIfPresent<RunRecord>(join(dir, RUNS_DIR, name));
    if (record) records.push(record);
  }
  // Runs in the order the study makes them: condition, split, seed, method order.
  const methodOrder = new Map(plan.preset.methods.map((m, i) => [m.name, i]));
  records.sort(
    (a, b) =>
      a.spec.condition.localeCompare(b.spec.condition) ||
      a.spec.split.localeCompare(b.spec.split) ||
      a.spec.seed - b.spec.seed ||
      (methodOrder.get(a.spec.method) ?? 0) - (methodOrder.get(b.spec.method) ?? 0) ||
      a.key.localeCompare(b.key),
  );
  return { plan, records };
}

/** The analysis without per-seed trajectories' duplicates: what summary.json holds. */
export interface StudySummary {
  preset: string;
  world: StudyPlan['world'];
  analysis: StudyAnalysis;
  runs: { key: string; spec: RunRecord['spec']; seconds: number; checkpoints: RunRecord['checkpoints'] }[];
}

export async function writeStudyReport(dir: string, outDir = dir): Promise<{ analysis: StudyAnalysis; files: string[] }> {
  const { plan, records } = await readStudyFolder(dir);
  const analysis = analyseStudy(plan.preset, records);
  const files = [join(outDir, REPORT_FILES.markdown), join(outDir, REPORT_FILES.html), join(outDir, REPORT_FILES.summary)];
  await writeFile(files[0] as string, studyReportMarkdown(plan, analysis));
  await writeFile(files[1] as string, studyReportHtml(plan, analysis));
  const summary: StudySummary = {
    preset: plan.preset.name,
    world: plan.world,
    analysis,
    runs: records.map((r) => ({ key: r.key, spec: r.spec, seconds: r.seconds, checkpoints: r.checkpoints })),
  };
  await writeJsonAtomic(files[2] as string, summary, 1);
  return { analysis, files };
}
