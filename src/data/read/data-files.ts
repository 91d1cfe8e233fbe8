// Which files a data source names, in which order: a file, a folder of shards, a list of files,
// or a map from split name to files. Shards are read in name order so the row order (and so a
// seeded shuffle) is the same on every machine.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { DataSourceError } from '../errors.js';

/** A path (file or folder), a list of paths, or `{ train: paths, test: paths }`. */
export type DataFilesSource = string | readonly string[] | Readonly<Record<string, string | readonly string[]>>;

export type DataFileFormat = 'jsonl' | 'json' | 'parquet';

const EXTENSION = /\.(jsonl|ndjson|json|parquet)(\.gz)?$/i;
const SPLIT_LIKE = /^(train|test|valid|validation|dev|eval)/i;

/** The reader a file needs, from its extension (`.gz` allowed after any of them); null if none. */
export function dataFileFormat(path: string): DataFileFormat | null {
  const match = EXTENSION.exec(path);
  if (match === null) return null;
  const ext = (match[1] as string).toLowerCase();
  return ext === 'ndjson' ? 'jsonl' : (ext as DataFileFormat);
}

async function listFolder(folder: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await listFolder(path)));
    else if (dataFileFormat(entry.name) !== null) out.push(path);
  }
  return out;
}

/** A shard's split name: its first sub-folder under the root, else its file name up to the first '-' or '.'. */
function splitToken(root: string, file: string): string {
  const parts = relative(root, file).split(sep);
  if (parts.length > 1) return parts[0] as string;
  return basename(file).split(/[-.]/)[0] as string;
}

function matchesSplit(root: string, file: string, split: string): boolean {
  const parts = relative(root, file).split(sep);
  const name = parts[parts.length - 1] as string;
  return parts.slice(0, -1).includes(split) || name.startsWith(`${split}-`) || name.startsWith(`${split}.`);
}

async function expandFolder(folder: string, split: string | null): Promise<string[]> {
  const files = await listFolder(folder);
  if (files.length === 0) throw new DataSourceError(folder, 'the folder holds no .jsonl, .json or .parquet file (optionally .gz).');
  const tokens = [...new Set(files.map((f) => splitToken(folder, f)))];
  if (split !== null) {
    const chosen = files.filter((f) => matchesSplit(folder, f, split));
    if (chosen.length === 0) {
      throw new DataSourceError(
        folder,
        `no file belongs to split '${split}' (a file named '${split}-…' or '${split}.…', or under a folder '${split}'). Splits seen: ${tokens.join(', ')}.`,
      );
    }
    return chosen;
  }
  if (tokens.length > 1 && tokens.some((t) => SPLIT_LIKE.test(t))) {
    throw new DataSourceError(
      folder,
      `the folder holds several splits (${tokens.join(', ')}); name one with split, so that test data is never read as training data.`,
    );
  }
  return files;
}

async function expandPath(path: string, split: string | null): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new DataSourceError(path, 'no such file or folder.');
  }
  if (info.isDirectory()) return expandFolder(path, split);
  if (dataFileFormat(path) === null) {
    throw new DataSourceError(
      path,
      'unknown data file type: expected .jsonl, .ndjson, .json or .parquet, each optionally followed by .gz.',
    );
  }
  return [path];
}

/**
 * The files of `source`, in reading order. `split` picks a key of a `{ split: files }` map, or the
 * shards of one split in a folder; a folder holding several splits without `split` is an error.
 */
export async function resolveDataFiles(source: DataFilesSource, split: string | null = null): Promise<string[]> {
  let paths: readonly string[];
  if (typeof source === 'string') paths = [source];
  else if (Array.isArray(source)) paths = source as readonly string[];
  else {
    const map = source as Readonly<Record<string, string | readonly string[]>>;
    const keys = Object.keys(map);
    const key = split ?? (keys.length === 1 ? (keys[0] as string) : null);
    if (key === null || !(key in map)) {
      throw new DataSourceError(
        'data_files',
        split === null
          ? `several splits (${keys.join(', ')}): name one with split.`
          : `no split '${split}'; splits given: ${keys.join(', ')}.`,
      );
    }
    const value = map[key] as string | readonly string[];
    paths = typeof value === 'string' ? [value] : value;
    split = null;
  }
  if (paths.length === 0) throw new DataSourceError('data_files', 'the list of files is empty.');
  const out: string[] = [];
  for (const path of paths) out.push(...(await expandPath(path, split)));
  return out;
}
