// Which files a data source names, in which order: a file, a folder of shards, a list of files,
// or a map from split name to files. Shards are read in name order so the row order (and so a
// seeded shuffle) is the same on every machine. Symbolic links in a folder are followed, as if
// their target were there (a Hugging Face cache snapshot is all links); a link to a folder that
// contains it would never end and is an error, as is a broken link.
import type { Dirent, Stats } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { DataSourceError, SplitChoiceError } from '../errors.js';
import { howToChooseSplit } from './split-hint.js';

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

/** A folder's identity on disk, the same whichever path (link or not) reaches it. */
const folderId = (info: Stats) => `${info.dev}:${info.ino}`;

/** Where a symbolic link leads, for an error message. */
async function linkTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return readlink(path).catch(() => '?');
  }
}

/** What `entry` is once symbolic links are followed: a folder, or something else (a file, a device). */
async function isFolder(entry: Dirent, path: string, above: ReadonlySet<string>): Promise<boolean> {
  if (!entry.isSymbolicLink()) return entry.isDirectory();
  let target: Stats;
  try {
    target = await stat(path);
  } catch {
    throw new DataSourceError(
      path,
      `is a broken symbolic link (to ${await readlink(path).catch(() => '?')}); fix or remove it, or name the files to read instead of the folder.`,
    );
  }
  if (target.isDirectory() && above.has(folderId(target))) {
    throw new DataSourceError(
      path,
      `is a symbolic link to ${await linkTarget(path)}, a folder that contains it, so the folder would be read without end. ` +
        'Remove the link, or name the files to read instead of the folder.',
    );
  }
  return target.isDirectory();
}

/** The data files under `folder`, in name order; `above` holds the identities of `folder` and the folders above it. */
async function listFolder(folder: string, above: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (e) {
    throw new DataSourceError(folder, `could not be listed (${e instanceof Error ? e.message : String(e)}).`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (await isFolder(entry, path, above)) out.push(...(await listFolder(path, new Set([...above, folderId(await stat(path))]))));
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

async function expandFolder(folder: string, info: Stats, split: string | null): Promise<string[]> {
  const files = await listFolder(folder, new Set([folderId(info)]));
  if (files.length === 0) throw new DataSourceError(folder, 'the folder holds no .jsonl, .json or .parquet file (optionally .gz).');
  const tokens = [...new Set(files.map((f) => splitToken(folder, f)))];
  if (split !== null) {
    const chosen = files.filter((f) => matchesSplit(folder, f, split));
    if (chosen.length === 0) {
      throw new SplitChoiceError(
        folder,
        split,
        tokens,
        `no file belongs to split '${split}' (a file named '${split}-…' or '${split}.…', or under a folder '${split}'). Splits seen: ${tokens.join(', ')}. ${howToChooseSplit(tokens)}`,
      );
    }
    return chosen;
  }
  if (tokens.length > 1 && tokens.some((t) => SPLIT_LIKE.test(t))) {
    throw new SplitChoiceError(
      folder,
      null,
      tokens,
      `the folder holds several splits (${tokens.join(', ')}) and none was chosen; reading them all would train on test data. ${howToChooseSplit(tokens)}`,
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
  if (info.isDirectory()) return expandFolder(path, info, split);
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
      throw new SplitChoiceError(
        'data_files',
        split,
        keys,
        split === null
          ? `several splits (${keys.join(', ')}) and none was chosen. ${howToChooseSplit(keys, true)}`
          : `no split '${split}'; splits given: ${keys.join(', ')}. ${howToChooseSplit(keys, true)}`,
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
