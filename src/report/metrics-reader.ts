// Reads a metrics.jsonl that may still be growing: each read() returns the records added since
// the last one. A trainer appends whole lines, but a reader can catch a line half-written, and
// a run that crashed can leave a truncated last line for good; such a tail is held back until
// its newline arrives (and reported as pending meanwhile), unless it is already a whole JSON
// object (a file whose writer never ends the last line). A file that shrinks was replaced
// (a new run in the same folder): the reader starts over and says so.
import { open } from 'node:fs/promises';
import { type MetricsRecord, parseMetricsLine } from './metrics-line.js';

export interface MetricsRead {
  /** True when the file was replaced or truncated: drop what was read before, these records start afresh. */
  reset: boolean;
  records: MetricsRecord[];
  /** Lines that are not JSON objects, with their 1-based line numbers. */
  badLines: { line: number; reason: string }[];
  /** Bytes after the last newline that do not parse yet (a line being written, or cut short). */
  pendingBytes: number;
}

const CHUNK = 1 << 20;

export class MetricsReader {
  readonly path: string;
  private offset = 0; // bytes consumed (always just after a newline)
  private lineNumber = 0; // lines consumed
  private pending: Buffer = Buffer.alloc(0);
  // The last read took an unterminated last line as a record; its newline, when it comes, ends nothing.
  private tookUnterminated = false;

  constructor(path: string) {
    this.path = path;
  }

  /** Records appended since the previous call. A missing file reads as empty (the run has not started). */
  async read(): Promise<MetricsRead> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.restartIfShrunk(0);
      throw e;
    }
    try {
      const { size } = await fh.stat();
      const result = this.restartIfShrunk(size);
      const start = this.offset + this.pending.length;
      const fresh: Buffer[] = [this.pending];
      for (let position = start; position < size; ) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - position));
        const { bytesRead } = await fh.read(buf, 0, buf.length, position);
        if (bytesRead === 0) break;
        fresh.push(buf.subarray(0, bytesRead));
        position += bytesRead;
      }
      const bytes = Buffer.concat(fresh);
      const lastNewline = bytes.lastIndexOf(0x0a);
      const complete = lastNewline < 0 ? Buffer.alloc(0) : bytes.subarray(0, lastNewline + 1);
      this.pending = Buffer.from(bytes.subarray(lastNewline + 1));
      this.offset += complete.length;
      const lines = complete.toString('utf8').split('\n').slice(0, -1);
      if (this.tookUnterminated && lines[0] === '') lines.shift();
      if (lines.length > 0 || this.pending.length > 0) this.tookUnterminated = false;
      for (const line of lines) this.take(line, result);
      if (this.pending.length > 0) {
        const tail = parseMetricsLine(this.pending.toString('utf8'));
        if (tail.ok) {
          result.records.push(tail.record);
          this.lineNumber += 1;
          this.offset += this.pending.length;
          this.pending = Buffer.alloc(0);
          this.tookUnterminated = true;
        }
      }
      result.pendingBytes = this.pending.length;
      return result;
    } finally {
      await fh.close();
    }
  }

  private restartIfShrunk(size: number): MetricsRead {
    const reset = size < this.offset + this.pending.length;
    if (reset) {
      this.offset = 0;
      this.tookUnterminated = false;
      this.lineNumber = 0;
      this.pending = Buffer.alloc(0);
    }
    return { reset, records: [], badLines: [], pendingBytes: this.pending.length };
  }

  private take(line: string, into: MetricsRead): void {
    this.lineNumber += 1;
    if (line.trim() === '') return;
    const parsed = parseMetricsLine(line);
    if (parsed.ok) into.records.push(parsed.record);
    else into.badLines.push({ line: this.lineNumber, reason: parsed.reason });
  }
}
