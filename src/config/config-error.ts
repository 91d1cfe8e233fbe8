// One error type for every config mistake (training, loss, data and model configs): the key at
// fault, where it came from, and what to do. Several mistakes found at once travel together in
// one error, so a config is fixed in one run rather than one key per run.
import { AlphaDpoError } from '../errors.js';

/**
 * A config value that is unknown, of the wrong type, out of range, or inconsistent with another.
 * `problems` lists every mistake found in the same pass (this error alone when there was one);
 * the message lists them all. Subclasses name the config: TrainConfigError, LossConfigError,
 * DataConfigError, ModelConfigError.
 */
export class ConfigError extends AlphaDpoError {
  /** The key at fault (for several problems: the first one's). */
  readonly key: string;
  /** Where the value came from: a file, a command-line flag, a config's name; null when it came from code. */
  readonly where: string | null;
  /** The message without the where/key prefix. */
  readonly detail: string;
  /** Every problem found in the same pass, each with its own key. */
  readonly problems: readonly ConfigError[];

  constructor(key: string, detail: string, where: string | null = null, problems: readonly ConfigError[] = []) {
    const kind = new.target as typeof ConfigError;
    super(
      problems.length > 1
        ? `${problems.length} config problems (all of them are listed; fix them together):\n${problems
            .map((p) => `  - ${p.where ? `${p.where}: ` : ''}${kind.keyLabel(p.key)}: ${p.detail.replaceAll('\n', '\n    ')}`)
            .join('\n')}`
        : `${where ? `${where}: ` : ''}${kind.keyLabel(key)}: ${detail}`,
    );
    this.key = key;
    this.where = where;
    this.detail = detail;
    this.problems = problems.length > 0 ? problems : [this];
  }

  /** How the message names a key. */
  static keyLabel(key: string): string {
    return key;
  }
}

/** A ConfigError subclass whose constructor takes ConfigError's arguments. */
export type ConfigErrorClass = (new (
  key: string,
  detail: string,
  where?: string | null,
  problems?: readonly ConfigError[],
) => ConfigError) &
  typeof ConfigError;

/**
 * Throws nothing for no problems; a single problem of class `kind` as it is; otherwise one `kind`
 * error listing them all (its key, where and detail are the first problem's).
 */
export function throwIfProblems(kind: ConfigErrorClass, problems: readonly ConfigError[]): void {
  const first = problems[0];
  if (first === undefined) return;
  if (problems.length === 1 && first instanceof kind) throw first;
  throw new kind(first.key, first.detail, first.where, problems);
}
