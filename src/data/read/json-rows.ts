// A JSON file: an array of rows, or an object of splits ({"train": [...], "test": [...]}). A
// `.json` file that is really JSON Lines (as Hugging Face `datasets` also accepts) reads as such.
// The file is parsed as one JavaScript string, so it may hold at most that many bytes.
import { constants as bufferConstants } from 'node:buffer';
import { DataSourceError, SplitChoiceError } from '../errors.js';
import { decodeUtf8, readFileBytes } from './file-bytes.js';
import { jsonElementLines } from './json-element-lines.js';
import { jsonlRowsFromText } from './jsonl-rows.js';
import type { RawRow } from './raw-row.js';
import { howToChooseSplit } from './split-hint.js';

/** The most bytes a .json file may hold: every byte is at least one character of the string it is parsed from. */
export const MAX_JSON_FILE_BYTES = bufferConstants.MAX_STRING_LENGTH;

function looksLikeJsonLines(text: string): boolean {
  const first = text.split('\n', 1)[0]?.trim() ?? '';
  if (!first.startsWith('{')) return false;
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

function chooseSplit(file: string, root: Record<string, unknown>, split: string | null): string {
  const keys = Object.keys(root);
  const arrays = keys.filter((k) => Array.isArray(root[k]));
  if (arrays.length === 0 || arrays.length !== keys.length) {
    throw new DataSourceError(
      file,
      `expected an array of rows or an object of splits like {"train": [...], "test": [...]}; this object has keys ${keys.join(', ')}` +
        (arrays.length === 0 ? ' and no array (a single row? write it as [ {...} ] or as JSON Lines).' : '.'),
    );
  }
  if (split !== null) {
    if (!arrays.includes(split)) {
      throw new SplitChoiceError(
        file,
        split,
        arrays,
        `has no split '${split}'; its splits are ${arrays.join(', ')}. ${howToChooseSplit(arrays)}`,
      );
    }
    return split;
  }
  if (arrays.length > 1) {
    throw new SplitChoiceError(
      file,
      null,
      arrays,
      `holds several splits (${arrays.join(', ')}) and none was chosen. ${howToChooseSplit(arrays)}`,
    );
  }
  return arrays[0] as string;
}

/**
 * Rows of a JSON file (gzipped or not). `location.line` is the line where the element starts;
 * `location.index` its position in the array. `maxRowBytes` bounds the lines of a file that
 * turns out to be JSON Lines.
 */
export async function* readJsonRows(file: string, split: string | null, maxRowBytes: number): AsyncGenerator<RawRow> {
  const bytes = await readFileBytes(
    file,
    MAX_JSON_FILE_BYTES,
    'a .json file is parsed whole, as one JavaScript string, and cannot be longer. Convert it to JSON Lines ' +
      '(.jsonl, one row per line), which is read as a stream of any length.',
  );
  const text = decodeUtf8(file, bytes);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    if (looksLikeJsonLines(text)) {
      yield* jsonlRowsFromText(file, text, maxRowBytes);
      return;
    }
    throw new DataSourceError(file, `is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  let rows: unknown[];
  let lines: number[];
  const scanned = jsonElementLines(text);
  if (Array.isArray(root)) {
    rows = root;
    lines = scanned.root;
  } else if (root !== null && typeof root === 'object') {
    const key = chooseSplit(file, root as Record<string, unknown>, split);
    rows = (root as Record<string, unknown[]>)[key] as unknown[];
    lines = scanned.byKey.get(key) ?? [];
  } else {
    throw new DataSourceError(file, `expected an array of rows or an object of splits, got ${root === null ? 'null' : typeof root}.`);
  }
  for (let index = 0; index < rows.length; index++) {
    yield { location: { file, index, line: lines[index] ?? null }, value: rows[index] };
  }
}
