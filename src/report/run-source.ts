// One run folder being watched: its metrics.jsonl read incrementally into a RunSeries, with
// what went wrong while reading (unreadable lines, an unfinished last line, an I/O error)
// kept as a status for the page to show.
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { RunSourceError } from './errors.js';
import { MetricsReader } from './metrics-reader.js';
import { type RunInfo, readRunInfo } from './run-info.js';
import { type RunRows, RunSeries } from './run-series.js';

export interface RunStatus {
  /** Unreadable lines skipped so far, and the first one's number. */
  badLines: number;
  firstBadLine: number | null;
  /** Bytes of an unfinished last line, not shown until its newline arrives. */
  pendingBytes: number;
  /** The last read's I/O error, if it failed. */
  error: string | null;
}

/** What one refresh changed: nothing, new rows (from `rows.from` on), or the whole run anew. */
export type RunUpdate = { kind: 'none' } | { kind: 'rows'; reset: boolean; rows: RunRows };

export class RunSource {
  readonly dir: string;
  name: string;
  readonly series = new RunSeries();
  readonly status: RunStatus = { badLines: 0, firstBadLine: null, pendingBytes: 0, error: null };
  private readonly reader: MetricsReader;

  private constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    this.reader = new MetricsReader(join(dir, 'metrics.jsonl'));
  }

  /** A run folder given by the user. It must exist; metrics.jsonl may not yet. */
  static async open(dir: string): Promise<RunSource> {
    const full = resolve(dir);
    let isDir = false;
    try {
      isDir = (await stat(full)).isDirectory();
    } catch {
      throw new RunSourceError(`${dir}: no such folder. Give the output_dir of a training run (the folder holding metrics.jsonl).`);
    }
    if (!isDir) {
      throw new RunSourceError(
        `${dir}: not a folder. Give the output_dir of a training run (the folder holding metrics.jsonl), not a file.`,
      );
    }
    return new RunSource(full, basename(full));
  }

  /** Reads what was appended since the last refresh. */
  async refresh(): Promise<RunUpdate> {
    let read: Awaited<ReturnType<MetricsReader['read']>>;
    try {
      read = await this.reader.read();
      this.status.error = null;
    } catch (e) {
      this.status.error = `cannot read metrics.jsonl: ${(e as Error).message}`;
      return { kind: 'none' };
    }
    if (read.reset) {
      this.series.clear();
      this.status.badLines = 0;
      this.status.firstBadLine = null;
    }
    this.status.badLines += read.badLines.length;
    this.status.firstBadLine ??= read.badLines[0]?.line ?? null;
    const pendingChanged = this.status.pendingBytes !== read.pendingBytes;
    this.status.pendingBytes = read.pendingBytes;
    const before = this.series.rowCount;
    const { purged } = this.series.append(read.records);
    if (read.reset || purged) return { kind: 'rows', reset: true, rows: this.series.rows() };
    if (this.series.rowCount > before || read.badLines.length > 0 || pendingChanged) {
      return { kind: 'rows', reset: false, rows: this.series.rows(before) };
    }
    return { kind: 'none' };
  }

  info(): Promise<RunInfo> {
    return readRunInfo(this.dir);
  }
}

/** Opens run folders, naming each by its folder name, made unique with its parent's where two clash. */
export async function openRuns(dirs: readonly string[]): Promise<RunSource[]> {
  if (dirs.length === 0) throw new RunSourceError('no run folder given: name at least one output_dir.');
  const runs = await Promise.all(dirs.map((d) => RunSource.open(d)));
  for (const run of runs) {
    if (runs.filter((r) => r.name === run.name).length > 1) run.name = `${basename(resolve(run.dir, '..'))}/${run.name}`;
  }
  return runs;
}
