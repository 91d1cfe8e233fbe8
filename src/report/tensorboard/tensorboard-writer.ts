// `report_to: tensorboard`: training metrics as TensorBoard event files, so a run shows up in
// TensorBoard beside others. A file `events.out.tfevents.<seconds>.<host>.<pid>.<n>` in the run's
// logging folder (transformers' default: output_dir/runs/<Mon DD_HH-MM-SS>_<host>) receives one
// Event per logged step, with the same tag names transformers' TensorBoardCallback writes
// (`train/loss`, `train/rewards/chosen`, `eval/rewards/accuracies`, ...).
//
// Records are buffered and written by flush() (call it after each log, as transformers does) or
// close(); writes are synchronous appends of a few hundred bytes, cheap beside a training step.
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileVersionEvent, scalarsEvent } from './event-proto.js';
import { tfRecord } from './tfrecord.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const AUTO_FLUSH_BYTES = 1 << 20;
let filesOpened = 0;

/** transformers' default logging_dir: output_dir/runs/<%b%d_%H-%M-%S>_<hostname> (local time). */
export function defaultLoggingDir(outputDir: string, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${MONTHS[now.getMonth()]}${two(now.getDate())}_${two(now.getHours())}-${two(now.getMinutes())}-${two(now.getSeconds())}`;
  return join(outputDir, 'runs', `${stamp}_${hostname()}`);
}

/**
 * A trainer log record as TensorBoard tags, as transformers' rewrite_logs does: `eval_x` →
 * `eval/x`, `test_x` → `test/x`, anything else → `train/x`. `step` is the event's step, not a
 * tag; non-numbers are left out.
 */
export function tensorBoardTags(record: Record<string, unknown>): [string, number][] {
  const tags: [string, number][] = [];
  for (const [name, value] of Object.entries(record)) {
    if (name === 'step' || typeof value !== 'number') continue;
    if (name.startsWith('eval_')) tags.push([`eval/${name.slice(5)}`, value]);
    else if (name.startsWith('test_')) tags.push([`test/${name.slice(5)}`, value]);
    else tags.push([`train/${name}`, value]);
  }
  return tags;
}

export class TensorBoardWriter {
  /** The event file being written. */
  readonly path: string;
  private fd: number | null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Creates `logDir` and a new event file in it, starting with the file-version record. */
  static async open(logDir: string, now = Date.now()): Promise<TensorBoardWriter> {
    await mkdir(logDir, { recursive: true });
    filesOpened += 1;
    const name = `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}.${filesOpened}`;
    const path = join(logDir, name);
    const writer = new TensorBoardWriter(path, openSync(path, 'wx'));
    writer.push(fileVersionEvent(now / 1000));
    writer.flush();
    return writer;
  }

  /** One event at `step` with a scalar per entry (tags as given). wallTime in ms since the epoch (default now). */
  addScalars(step: number, scalars: Record<string, number>, wallTime = Date.now()): void {
    if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`TensorBoard step must be a whole number ≥ 0, got ${step}`);
    const entries = Object.entries(scalars).filter(([, v]) => typeof v === 'number');
    if (entries.length === 0) return;
    this.push(scalarsEvent(wallTime / 1000, step, entries));
  }

  /** A trainer log record (metrics.jsonl line, with its `step`) under transformers' tag names. */
  addLogRecord(record: Record<string, unknown>, wallTime = Date.now()): void {
    const step = record.step;
    if (typeof step !== 'number') throw new RangeError('a log record needs a numeric step');
    this.addScalars(step, Object.fromEntries(tensorBoardTags(record)), wallTime);
  }

  /** Writes buffered events to the file. */
  flush(): void {
    if (this.fd === null) throw new Error(`TensorBoard event file ${this.path} is closed`);
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending);
    for (let done = 0; done < data.length; ) done += writeSync(this.fd, data, done, data.length - done);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Flushes and closes the file; later calls do nothing. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  private push(event: Buffer): void {
    if (this.fd === null) throw new Error(`TensorBoard event file ${this.path} is closed`);
    const record = tfRecord(event);
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (this.pendingBytes >= AUTO_FLUSH_BYTES) this.flush();
  }
}
