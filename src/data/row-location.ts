// Where a row came from, so every error and report entry can point a user at the exact line.

/**
 * A row's place in its file. `line` is the 1-based physical line where the row starts (JSONL:
 * its line; JSON: the line of the element's first character); Parquet has no lines, so there
 * `line` is null and `index` (0-based row number in the file) locates it.
 */
export interface RowLocation {
  file: string;
  /** 0-based position of the row in its file (JSON: in its array; Parquet: across row groups). */
  index: number;
  /** 1-based physical line of the row's first character, or null for Parquet. */
  line: number | null;
}

/** `file:line` for text formats, `file row N` (1-based) for Parquet. */
export function formatLocation(location: RowLocation): string {
  return location.line === null ? `${location.file} row ${location.index + 1}` : `${location.file}:${location.line}`;
}
