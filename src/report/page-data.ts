// What the page draws from: every run's rows, details and reading status, and the metric
// sections over all runs. The dashboard sends it as its first event; the report embeds it.
import { groupMetrics, type MetricGroup } from './metric-groups.js';
import type { RunInfo } from './run-info.js';
import type { RunRows } from './run-series.js';
import type { RunSource, RunStatus } from './run-source.js';

export interface PageRun {
  name: string;
  dir: string;
  rows: RunRows;
  info: RunInfo | null;
  status: RunStatus;
}

export interface PageData {
  runs: PageRun[];
  groups: MetricGroup[];
}

/** Sections over the metrics of all runs, in the order runs first show them. */
export function groupsOf(runs: readonly RunSource[]): MetricGroup[] {
  const names = new Set<string>();
  for (const run of runs) for (const name of run.series.metricNames) names.add(name);
  return groupMetrics(names);
}

export function pageData(runs: readonly RunSource[], infos: readonly (RunInfo | null)[]): PageData {
  return {
    runs: runs.map((run, i) => ({
      name: run.name,
      dir: run.dir,
      rows: run.series.rows(),
      info: infos[i] ?? null,
      status: { ...run.status },
    })),
    groups: groupsOf(runs),
  };
}
