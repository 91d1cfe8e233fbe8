// What a run folder says about itself besides its metrics: the summary `alpha-dpo train`
// writes at the end (train_summary.json), the config and position of its newest checkpoint
// (checkpoint-N/trainer_state.json), and the list of checkpoints. Every file is optional: a run
// still training has no summary, one with save_strategy "no" has no checkpoints. A file that
// exists but cannot be read is reported in `problems`, never thrown.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunInfo {
  /** train_summary.json (null until the run finishes), without its per-step loss list. */
  summary: Record<string, unknown> | null;
  /** The final evaluation metrics (train_summary.json's evalMetrics), when there was one. */
  evaluation: Record<string, unknown> | null;
  /** The config the run was started with, as given (from the newest checkpoint's trainer_state.json). */
  config: Record<string, unknown> | null;
  /** Complete checkpoints (with trainer_state.json), oldest first; the epoch is read for the newest only. */
  checkpoints: { name: string; step: number; epoch: number | null }[];
  /** Files present but unreadable, one line each. */
  problems: string[];
}

const CHECKPOINT = /^checkpoint-(\d+)$/;

async function readJsonObject(path: string, problems: string[]): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${path}: ${(e as Error).message}`);
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    problems.push(`${path}: not a JSON object`);
  } catch (e) {
    problems.push(`${path}: not JSON (${(e as Error).message})`);
  }
  return null;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Reads what is there of a run folder's summary, checkpoints and config. */
export async function readRunInfo(dir: string): Promise<RunInfo> {
  const problems: string[] = [];
  const summaryFile = await readJsonObject(join(dir, 'train_summary.json'), problems);
  let summary: Record<string, unknown> | null = null;
  let evaluation: Record<string, unknown> | null = null;
  if (summaryFile) {
    const { stepLosses: _dropped, evalMetrics, ...rest } = summaryFile;
    summary = rest;
    if (evalMetrics !== null && typeof evalMetrics === 'object') evaluation = evalMetrics as Record<string, unknown>;
  }
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (e) {
    problems.push(`${dir}: ${(e as Error).message}`);
  }
  const checkpoints: RunInfo['checkpoints'] = [];
  let config: Record<string, unknown> | null = null;
  const candidates = names
    .map((name) => ({ name, match: CHECKPOINT.exec(name) }))
    .filter((c) => c.match !== null)
    .map((c) => ({ name: c.name, step: Number((c.match as RegExpExecArray)[1]) }))
    .sort((a, b) => a.step - b.step);
  // Only the newest complete checkpoint's trainer_state.json is parsed (it holds the whole log
  // history, so it can be large, and the dashboard re-reads this every few seconds); the others
  // are checked for completeness only.
  let newestParsed = false;
  for (const { name, step } of candidates.reverse()) {
    const stateFile = join(dir, name, 'trainer_state.json');
    if (newestParsed) {
      if (await isFile(stateFile)) checkpoints.unshift({ name, step, epoch: null });
      continue;
    }
    const state = await readJsonObject(stateFile, problems);
    if (state === null) continue; // an incomplete checkpoint (still being written, or cut short)
    newestParsed = true;
    checkpoints.unshift({ name, step, epoch: typeof state.epoch === 'number' ? state.epoch : null });
    if (state.config !== null && typeof state.config === 'object') config = state.config as Record<string, unknown>;
  }
  return { summary, evaluation, config, checkpoints, problems };
}
