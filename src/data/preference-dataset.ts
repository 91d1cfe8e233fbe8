// Reading a preference dataset: files → raw rows → one format (forced or detected) → pairs in
// explicit-prompt form, with every dropped or odd row counted by kind. No tokenizer needed.
import { type DataConfig, type DataConfigInput, MAX_ROW_BYTES_LIMIT, resolveDataConfig } from './data-config.js';
import { BadRowError } from './errors.js';
import { type ColumnKeys, type DatasetFormat, detectDatasetFormat, UNPAIRED_FORMATS } from './formats/dataset-format.js';
import { normaliseRow } from './formats/normalise-row.js';
import { normaliseUnpairedRow } from './formats/normalise-unpaired-row.js';
import type { PreferencePair } from './formats/preference-pair.js';
import type { UnpairedExample } from './formats/unpaired-example.js';
import { OddRowReport } from './odd-row-report.js';
import { type DataFilesSource, resolveDataFiles } from './read/data-files.js';
import { readRows } from './read/read-rows.js';
import { formatLocation, type RowLocation } from './row-location.js';

export interface PreferenceDataset {
  /** The files read, in order. */
  files: string[];
  /** The rows' format, or null when no row could be read as any format. */
  format: DatasetFormat | null;
  /** 'config' when dataset_format forced it, else the row it was detected from. */
  formatSource: 'config' | RowLocation | null;
  /** Rows read, bad ones included. */
  rows: number;
  /** The usable pairs, in file order (empty for an unpaired format). */
  pairs: PreferencePair[];
  /** The usable unpaired examples, in file order (empty unless the format is unpaired or unpaired_conversational). */
  examples: UnpairedExample[];
  /** Dropped and odd rows by kind (row-level kinds only; tokenisation adds its own). */
  report: OddRowReport;
  /** Columns present in some row that are neither used nor kept as scalar metadata. */
  ignoredColumns: string[];
}

export interface LoadPreferenceDatasetOptions {
  /** Which split: a key of a `{ split: files }` source, a folder's shards, or a JSON file's `{"train": [...]}` key. */
  split?: string | null;
  /** Where on_bad_row: warn writes (default: stderr). */
  onWarning?: (message: string) => void;
}

/** Reads every row of `source` and normalises it; throws BadRowError at the first bad row under on_bad_row: error. */
export async function loadPreferenceDataset(
  source: DataFilesSource,
  config: DataConfigInput | DataConfig = {},
  options: LoadPreferenceDatasetOptions = {},
): Promise<PreferenceDataset> {
  const resolved = resolveDataConfig(config);
  const split = options.split ?? null;
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const keys: ColumnKeys = {
    prompt: resolved.prompt_key,
    chosen: resolved.chosen_key,
    rejected: resolved.rejected_key,
    completion: resolved.completion_key,
    label: resolved.label_key,
  };
  const files = await resolveDataFiles(source, split);
  const report = new OddRowReport();
  const pairs: PreferencePair[] = [];
  const examples: UnpairedExample[] = [];
  const ignored = new Set<string>();
  let format: DatasetFormat | null = resolved.dataset_format === 'auto' ? null : resolved.dataset_format;
  let formatSource: PreferenceDataset['formatSource'] = format === null ? null : 'config';
  let rows = 0;

  const badRow = (error: BadRowError) => {
    if (resolved.on_bad_row === 'error') throw error;
    report.add('bad_row', error.location, error.reason);
    if (resolved.on_bad_row === 'warn') warn(`skipped ${formatLocation(error.location)}: ${error.reason}`);
  };

  for await (const raw of readRows(files, split, { maxRowBytes: resolved.max_row_bytes ?? MAX_ROW_BYTES_LIMIT })) {
    rows += 1;
    if ('parseError' in raw) {
      badRow(new BadRowError(raw.location, raw.parseError));
      continue;
    }
    if (format === null && raw.value !== null && typeof raw.value === 'object' && !Array.isArray(raw.value)) {
      format = detectDatasetFormat(raw.value as Record<string, unknown>, keys);
      if (format === null) {
        badRow(
          new BadRowError(
            raw.location,
            `its columns fit no known format (expected '${keys.chosen}' and '${keys.rejected}' both strings or both message lists, ` +
              `and '${keys.prompt}' absent, a string or a message list; or, unpaired, '${keys.completion}' and '${keys.label}'; see dataset_format)`,
          ),
        );
        continue;
      }
      formatSource = raw.location;
    }
    try {
      if (format === null) throw new BadRowError(raw.location, 'a row must be a JSON object');
      const unpaired = UNPAIRED_FORMATS.includes(format);
      const row = unpaired
        ? normaliseUnpairedRow(raw.value, format, keys, raw.location)
        : normaliseRow(raw.value, format, keys, raw.location);
      for (const column of row.ignoredColumns) ignored.add(column);
      for (const kind of row.notes) report.add(kind, raw.location);
      if (row.dropped !== null) report.add(row.dropped, raw.location);
      else if ('example' in row && row.example !== null) examples.push(row.example);
      else if ('pair' in row && row.pair !== null) pairs.push(row.pair);
    } catch (e) {
      if (!(e instanceof BadRowError)) throw e;
      badRow(e);
    }
  }
  return { files, format, formatSource, rows, pairs, examples, report, ignoredColumns: [...ignored].sort() };
}
