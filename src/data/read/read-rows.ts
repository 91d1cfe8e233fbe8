// Every raw row of a list of files, in order, each through the reader its extension names.
import { DataSourceError } from '../errors.js';
import { dataFileFormat } from './data-files.js';
import { readJsonRows } from './json-rows.js';
import { readJsonlRows } from './jsonl-rows.js';
import { readParquetRows } from './parquet-rows.js';
import type { RawRow } from './raw-row.js';

export interface ReadRowsOptions {
  /** Longest JSON Lines row in bytes (the data config's max_row_bytes). */
  maxRowBytes: number;
}

/** `split` selects a key of a JSON file's `{"train": [...], ...}` object; other readers ignore it. */
export async function* readRows(files: readonly string[], split: string | null, options: ReadRowsOptions): AsyncGenerator<RawRow> {
  for (const file of files) {
    const format = dataFileFormat(file);
    if (format === 'jsonl') yield* readJsonlRows(file, options.maxRowBytes);
    else if (format === 'json') yield* readJsonRows(file, split, options.maxRowBytes);
    else if (format === 'parquet') yield* readParquetRows(file);
    else
      throw new DataSourceError(
        file,
        'unknown data file type: expected .jsonl, .ndjson, .json or .parquet, each optionally followed by .gz.',
      );
  }
}
