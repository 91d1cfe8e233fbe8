// One line of metrics.jsonl → one record. The trainer writes JSON.stringify output (NaN and
// ±Infinity become null), but files written by Python's json module (TRL, transformers'
// log_history dumps) carry the bare tokens NaN, Infinity and -Infinity, which JSON.parse
// rejects; they are read here as the numbers they stand for.

/** A metric value as read: a number (possibly NaN or ±Infinity) or null (JSON null). */
export type MetricValue = number | null;

/** One parsed line: its numeric fields; strings and nested values are not metrics and are dropped. */
export type MetricsRecord = Record<string, MetricValue>;

export type ParsedLine = { ok: true; record: MetricsRecord } | { ok: false; reason: string };

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const SENTINEL = '\u0000nonfinite:';

// Replaces bare NaN / Infinity / -Infinity outside strings with sentinel strings, so JSON.parse
// accepts the line; the sentinels are turned back into numbers afterwards.
function quoteNonFinite(line: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += line[i + 1] ?? '';
        i += 1;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => line.startsWith(t, i));
    if (token !== undefined) {
      out += JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Parses one metrics.jsonl line. Blank lines are not records (the caller skips them). */
export function parseMetricsLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    try {
      value = JSON.parse(quoteNonFinite(line));
    } catch (e) {
      return { ok: false, reason: `not JSON (${(e as Error).message})` };
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const record: MetricsRecord = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'number' || v === null) record[key] = v;
    else if (typeof v === 'string' && v.startsWith(SENTINEL)) record[key] = NON_FINITE[v.slice(SENTINEL.length)] as number;
  }
  return { ok: true, record };
}
