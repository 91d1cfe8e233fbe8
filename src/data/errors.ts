// Typed errors a user of the data layer can cause: a bad config value, a missing or unreadable
// file, a structurally invalid row, a cursor from another dataset. Each says what to do.
import { ConfigError } from '../config/config-error.js';
import { AlphaDpoError } from '../errors.js';
import { formatLocation, type RowLocation } from './row-location.js';

/** Base class of every data-layer error; DataConfigError is a ConfigError and counts as a DataError too. */
export class DataError extends AlphaDpoError {
  static [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof (a subclass inherits this method).
    // biome-ignore lint/complexity/noThisInStatic: the subclass, not DataError, must be tested
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === DataError && value instanceof DataConfigError);
  }
}

/** A data config value that is unknown, of the wrong type, out of range, or inconsistent with another. */
export class DataConfigError extends ConfigError {
  /** The config key at fault (e.g. `max_prompt_length`), the same as `key`. */
  get field(): string {
    return this.key;
  }
}

/** A data source that cannot be read: missing path, unknown extension, corrupt gzip, unsupported Parquet codec, ambiguous split. */
export class DataSourceError extends DataError {
  readonly path: string;

  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** A structurally invalid row (missing field, non-string content, unknown role, not an object). */
export class BadRowError extends DataError {
  readonly location: RowLocation;
  readonly reason: string;

  constructor(location: RowLocation, reason: string) {
    super(
      `${formatLocation(location)}: ${reason}. Fix the row, or set on_bad_row: skip (or warn) to drop such rows; every dropped row is counted in the report.`,
    );
    this.location = location;
    this.reason = reason;
  }
}

/** A row that is valid data but that the tokenizer cannot render (e.g. messages and no chat template). */
export class RenderError extends DataError {}

/** A saved data cursor that does not belong to this dataset or these batch settings. */
export class DataCursorError extends DataError {}
