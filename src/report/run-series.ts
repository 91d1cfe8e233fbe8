// The metrics of one run as columns, the shape the dashboard page and the report draw from.
// Row r is the r-th record of metrics.jsonl (a training log line or an evaluation line); each
// metric is a column over all rows. A cell is a number, null where the record has no such key
// (the chart skips it), or "NaN" / "Infinity" / "-Infinity" where the value is not finite (the
// chart leaves a gap). The trainer writes NaN as JSON null, so a null in the file is "NaN" here.
//
// A resumed run appends records whose steps go back (it restarts from its last checkpoint):
// as TensorBoard does on a restart, rows at or after the new step are dropped first, so every
// column stays ordered by step.
import type { MetricsRecord } from './metrics-line.js';

export type MetricCell = number | null | 'NaN' | 'Infinity' | '-Infinity';

/** Rows [from, from + step.length) of a run, as sent to the page. */
export interface RunRows {
  from: number;
  /** Optimiser step of each row (the record's `step`; the previous row's step + 1 when absent). */
  step: number[];
  /** Tokens trained on so far (TRL's `num_tokens`), or null where the record does not say. */
  tokens: (number | null)[];
  /** Metric name → one cell per row. A metric first seen later is null for the rows before. */
  columns: Record<string, MetricCell[]>;
}

/** Significant digits kept for display: a chart cannot show more, and it makes the page's data 2× smaller. */
const DISPLAY_DIGITS = 7;

function cellOf(value: number | null): MetricCell {
  if (value === null || Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return Number(value.toPrecision(DISPLAY_DIGITS));
}

export class RunSeries {
  private steps: number[] = [];
  private tokens: (number | null)[] = [];
  private columns = new Map<string, MetricCell[]>();

  get rowCount(): number {
    return this.steps.length;
  }

  /** Metric names in order of first appearance. */
  get metricNames(): string[] {
    return [...this.columns.keys()];
  }

  clear(): void {
    this.steps = [];
    this.tokens = [];
    this.columns.clear();
  }

  /**
   * Adds records as rows. Returns `purged: true` when a step went back and earlier rows were
   * dropped (rows already handed out are then stale: send the whole run again).
   */
  append(records: readonly MetricsRecord[]): { purged: boolean } {
    let purged = false;
    for (const record of records) {
      const last = this.steps[this.steps.length - 1];
      const given = record.step;
      const step = typeof given === 'number' && Number.isFinite(given) ? given : (last ?? 0) + 1;
      if (last !== undefined && step < last) {
        this.truncate(this.steps.findIndex((s) => s >= step));
        purged = true;
      }
      const row = this.steps.length;
      this.steps.push(step);
      const tokens = record.num_tokens;
      this.tokens.push(typeof tokens === 'number' && Number.isFinite(tokens) ? tokens : null);
      for (const [name, value] of Object.entries(record)) {
        if (name === 'step') continue;
        let column = this.columns.get(name);
        if (column === undefined) {
          column = [];
          for (let r = 0; r < row; r++) column.push(null); // not new Array(row): V8 makes large ones slow dictionaries
          this.columns.set(name, column);
        }
        column.push(cellOf(value));
      }
      for (const column of this.columns.values()) if (column.length === row) column.push(null);
    }
    return { purged };
  }

  /** Rows from `from` on (all rows by default). */
  rows(from = 0): RunRows {
    const columns: Record<string, MetricCell[]> = {};
    for (const [name, column] of this.columns) {
      const part = column.slice(from);
      if (part.some((c) => c !== null)) columns[name] = part;
    }
    return { from, step: this.steps.slice(from), tokens: this.tokens.slice(from), columns };
  }

  private truncate(rows: number): void {
    this.steps.length = rows;
    this.tokens.length = rows;
    for (const [name, column] of this.columns) {
      column.length = rows;
      if (!column.some((c) => c !== null)) this.columns.delete(name);
    }
  }
}
