// Logged records: output_dir/metrics.jsonl (one JSON object per line, TRL's metric names), the
// checkpoint's log history, and any extra sinks (TensorBoard). On resume the file is rewound to
// the checkpoint's step, so a resumed run's file reads exactly like an uninterrupted run's.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';

export const METRICS_FILE = 'metrics.jsonl';

export type MetricRecord = Record<string, number | string>;

/** Somewhere else logged records go (e.g. TensorBoard event files). */
export interface MetricSink {
  write(record: MetricRecord): void | Promise<void>;
  close(): void | Promise<void>;
}

/** Averages per-step metrics between two logging points (transformers logs the mean over the window). */
export class MetricWindow {
  #records: Record<string, number>[] = [];

  add(record: Record<string, number>): void {
    this.#records.push(record);
  }

  /** The mean of each metric over the steps that reported it; empties the window. */
  take(): Record<string, number> {
    const sums: Record<string, number> = {};
    const counts: Record<string, number> = {};
    for (const r of this.#records) {
      for (const [k, v] of Object.entries(r)) {
        sums[k] = (sums[k] ?? 0) + v;
        counts[k] = (counts[k] ?? 0) + 1;
      }
    }
    this.#records = [];
    const out: Record<string, number> = {};
    for (const k of Object.keys(sums)) out[k] = (sums[k] as number) / (counts[k] as number);
    return out;
  }
}

export class MetricsLog {
  private constructor(
    private readonly file: string | null,
    private readonly sinks: MetricSink[],
  ) {}

  /**
   * Opens the log of a run in `outputDir` (null: no file). `rewindToStep` (a resumed run's
   * checkpoint step) keeps only the records of steps up to it; torn or unparseable lines go too.
   */
  static async open(outputDir: string | null, options: { rewindToStep: number | null; sinks?: MetricSink[] }): Promise<MetricsLog> {
    const file = outputDir === null ? null : join(outputDir, METRICS_FILE);
    if (file !== null && options.rewindToStep !== null) await rewind(file, options.rewindToStep);
    return new MetricsLog(file, options.sinks ?? []);
  }

  async write(record: MetricRecord): Promise<void> {
    if (this.file !== null) await appendFile(this.file, `${JSON.stringify(record)}\n`);
    for (const sink of this.sinks) await sink.write(record);
  }

  async close(): Promise<void> {
    for (const sink of this.sinks) await sink.close();
  }
}

async function rewind(file: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return; // nothing logged yet
  }
  const kept = text.split('\n').filter((line) => {
    try {
      const record = JSON.parse(line) as { step?: unknown };
      return typeof record.step === 'number' && record.step <= step;
    } catch {
      return false;
    }
  });
  const next = kept.length > 0 ? `${kept.join('\n')}\n` : '';
  if (next !== text) await writeFileAtomically(file, (fh) => writeFully(fh, new TextEncoder().encode(next), 0));
}
