// Training output: on a terminal, one progress line redrawn in place (step, loss, reward
// accuracy, tokens/s, ETA) with logged records printed above it; otherwise plain lines for the
// logged records only, so logs and CI output stay readable.

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

/** Off a terminal, a plain progress line at most this often. */
const PLAIN_EVERY_MS = 30_000;

export class ProgressReporter {
  readonly #total: number;
  readonly #log: (line: string) => void;
  readonly #quiet: boolean;
  readonly #tty: boolean;
  readonly #startStep: number;
  readonly #started = performance.now();
  #drawn = false;
  #lastPlain = performance.now();
  readonly #plainEveryMs: number;

  constructor(options: { totalSteps: number; log: (line: string) => void; quiet: boolean; startStep: number; plainEveryMs?: number }) {
    this.#plainEveryMs = options.plainEveryMs ?? PLAIN_EVERY_MS;
    this.#total = options.totalSteps;
    this.#log = options.log;
    this.#quiet = options.quiet;
    this.#startStep = options.startStep;
    this.#tty = !options.quiet && process.stderr.isTTY === true;
  }

  /**
   * Reports step `step`: redraws the progress line on a terminal; elsewhere (logs, CI, clusters)
   * prints a plain line every PLAIN_EVERY_MS, so a long run shows it is alive between logging steps.
   */
  step(step: number, s: { loss: number; accuracy: number; tokensPerSecond: number }): void {
    if (this.#quiet) return;
    const elapsed = (performance.now() - this.#started) / 1000;
    const done = step - this.#startStep;
    const eta = done > 0 ? (elapsed / done) * (this.#total - step) : Number.NaN;
    const acc = Number.isNaN(s.accuracy) ? '' : ` acc ${s.accuracy.toFixed(2)}`;
    const facts = `loss ${s.loss.toFixed(4)}${acc} ${s.tokensPerSecond.toFixed(0)} tok/s ETA ${duration(eta)}`;
    if (!this.#tty) {
      if (performance.now() - this.#lastPlain < this.#plainEveryMs) return;
      this.#lastPlain = performance.now();
      this.#log(`progress: step ${step}/${this.#total} (${((100 * step) / this.#total).toFixed(0)}%) ${facts}`);
      return;
    }
    const width = 24;
    const filled = Math.round((step / this.#total) * width);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
    process.stderr.write(`\r\x1b[Kstep ${step}/${this.#total} [${bar}] ${facts}`);
    this.#drawn = true;
  }

  /** Reports a phase other than training steps (evaluation, precompute): `what done/total`, at most every PLAIN_EVERY_MS off a terminal. */
  phase(what: string, done: number, total: number): void {
    if (this.#quiet) return;
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K${what} ${done}/${total}`);
      this.#drawn = true;
      return;
    }
    if (performance.now() - this.#lastPlain < this.#plainEveryMs && done < total) return;
    this.#lastPlain = performance.now();
    this.#log(`progress: ${what} ${done}/${total}`);
  }

  /** Prints a logged record (training or evaluation metrics). */
  logRecord(record: Record<string, number | string>): void {
    if (this.#quiet) return;
    if (this.#drawn) {
      process.stderr.write('\r\x1b[K');
      this.#drawn = false;
    }
    this.#log(
      Object.entries(record)
        .map(([k, v]) => `${k} ${formatValue(v)}`)
        .join('  '),
    );
  }

  done(): void {
    if (this.#drawn) process.stderr.write('\n');
    this.#drawn = false;
  }
}
