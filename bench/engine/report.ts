// Turning raw timings into the reported rows: medians, units, ratios and targets.
import type { CaseSpec, RoundResult } from './cases.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** All timed samples of one side for one case, gathered over the rounds. */
export interface SideSamples {
  seconds: number[];
  forwardSeconds: number[];
  check: number[] | null;
}

export function emptySamples(): SideSamples {
  return { seconds: [], forwardSeconds: [], check: null };
}

export function collect(into: SideSamples, r: RoundResult): void {
  into.seconds.push(...r.seconds);
  into.forwardSeconds.push(...(r.forwardSeconds ?? []));
  if (r.check !== undefined) into.check = r.check;
}

/** Ratio target (ours against PyTorch, oriented so that >1 is better) or a limit on our own value. */
export type Target = { kind: 'ratio'; min: number } | { kind: 'max'; value: number };

export interface Row {
  caseId: string;
  label: string;
  unit: string;
  /** Direction in which the measured value is better. */
  better: 'higher' | 'lower';
  ours: number;
  pytorch: number | null;
  /** Oriented so that >1 means ours is better: ours/PyTorch for throughput, PyTorch/ours for times. */
  ratio: number | null;
  target: Target | null;
  /** Whether the target is met; null without a target, or for a ratio target without PyTorch. */
  met: boolean | null;
}

function row(
  spec: CaseSpec,
  label: string,
  unit: string,
  better: Row['better'],
  ours: number,
  pytorch: number | null,
  target: Target | null,
): Row {
  const ratio = pytorch === null ? null : better === 'higher' ? ours / pytorch : pytorch / ours;
  let met: boolean | null = null;
  if (target?.kind === 'ratio' && ratio !== null) met = ratio >= target.min;
  if (target?.kind === 'max') met = ours <= target.value;
  return { caseId: spec.id, label, unit, better, ours, pytorch, ratio, target, met };
}

/** The rows of one case from the medians of both sides (PyTorch's null when it did not run). */
export function rowsFor(spec: CaseSpec, ours: SideSamples, pytorch: SideSamples | null): Row[] {
  const o = median(ours.seconds);
  const p = pytorch === null ? null : median(pytorch.seconds);
  const map = (f: (t: number) => number): [number, number | null] => [f(o), p === null ? null : f(p)];
  switch (spec.kind) {
    case 'matmul': {
      const gflop = (2 * spec.m * spec.k * spec.n) / 1e9;
      const label = `matmul ${spec.m}x${spec.k} @ ${spec.k}x${spec.n}`;
      return [row(spec, label, 'GFLOP/s', 'higher', ...map((t) => gflop / t), { kind: 'ratio', min: 0.95 })];
    }
    case 'add':
      return [row(spec, `add, ${spec.numel} x float32 (+dispose)`, 'us/op', 'lower', ...map((t) => t * 1e6), { kind: 'max', value: 5 })];
    case 'block': {
      const tokens = spec.batch * spec.seq;
      const shape = `${spec.batch}x${spec.seq}x${spec.dModel}, ${spec.heads} heads`;
      const fo = median(ours.forwardSeconds);
      const fp = pytorch === null ? null : median(pytorch.forwardSeconds);
      return [
        row(spec, `GPT-2 block fwd+bwd (${shape})`, 'ms', 'lower', ...map((t) => t * 1e3), null),
        row(spec, 'GPT-2 block fwd+bwd throughput', 'tokens/s', 'higher', ...map((t) => tokens / t), { kind: 'ratio', min: 0.95 }),
        row(spec, '  of which forward', 'ms', 'lower', fo * 1e3, fp === null ? null : fp * 1e3, null),
      ];
    }
  }
}

/** Largest relative difference between the two sides' check sums (0 when identical). */
export function checkDifference(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (const [i, x] of a.entries()) {
    const y = b[i] as number;
    const d = x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-30);
    worst = Math.max(worst, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
  }
  return worst;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function targetText(t: Target | null, unit: string): string {
  if (t === null) return '';
  return t.kind === 'ratio' ? `>= ${t.min}x` : `<= ${t.value} ${unit}`;
}

/** Pads the columns of `rows` (first row = header) to a plain-text table. */
export function table(rows: readonly string[][], rightAligned: ReadonlySet<number>): string {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const [header, ...body] = rows;
  return [line(header ?? []), rule, ...body.map(line)].join('\n');
}

export function resultsTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.label,
    r.unit,
    fmt(r.ours),
    r.pytorch === null ? 'n/a' : fmt(r.pytorch),
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`,
    targetText(r.target, r.unit),
    r.met === null ? '' : r.met ? 'ok' : 'MISSED',
  ]);
  return table([['case', 'unit', 'ours', 'PyTorch', 'ratio', 'target', 'status'], ...cells], new Set([2, 3, 4]));
}
