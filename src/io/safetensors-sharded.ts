// Hugging Face checkpoint folders: one `model.safetensors`, or shards
// `model-00001-of-0000N.safetensors` plus `model.safetensors.index.json`
// ({ "metadata": { "total_size": bytes }, "weight_map": { tensor name: shard file } }).
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomically, writeFully } from './atomic-write.js';
import {
  assertLittleEndian,
  checkCastDtype,
  checkMetadata,
  collectTensors,
  type LoadedSafetensors,
  type LoadSafetensorsOptions,
  loadSafetensors,
  readSafetensorsHeader,
  type SaveSafetensorsOptions,
  saveSafetensors,
  selectTensors,
  type TensorCollection,
  tensorNbytes,
} from './safetensors-file.js';
import { type ParseHeaderOptions, SafetensorsError, type SafetensorsHeader, type SafetensorsTensorInfo } from './safetensors-format.js';

/** The single-file checkpoint name. */
export const SAFETENSORS_FILE = 'model.safetensors';
/** The index of a sharded checkpoint. */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
/** Default largest shard, in bytes (Hugging Face's "5GB"). */
export const DEFAULT_MAX_SHARD_SIZE = 5e9;

const SHARD_FILE = /^model-\d{5,}-of-\d{5,}\.safetensors$/;

export interface SaveSafetensorsShardedOptions extends SaveSafetensorsOptions {
  /** Largest shard in bytes of tensor data (default 5e9); a bigger tensor gets a shard of its own. */
  maxShardSize?: number;
}

export interface SavedCheckpoint {
  /** The safetensors files written, in shard order (just `model.safetensors` when unsharded). */
  files: string[];
  /** The index file written, or undefined when unsharded. */
  indexFile: string | undefined;
  /** Sum of the tensors' data sizes in bytes (the index's total_size). */
  totalSize: number;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The weight_map of an index file, checked: an object of plain file names in the same folder. */
async function readWeightMap(indexPath: string): Promise<Map<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (cause) {
    throw new SafetensorsError(`index is not valid JSON (${(cause as Error).message})`, { file: indexPath, cause });
  }
  const weightMap = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['weight_map'] : undefined;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new SafetensorsError('index has no "weight_map" object', { file: indexPath });
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard === '' || shard === '.' || shard === '..' || basename(shard) !== shard || shard.includes('\\')) {
      throw new SafetensorsError(`"weight_map" must name a shard file in the same folder, found ${JSON.stringify(shard)}`, {
        file: indexPath,
        tensor: name,
      });
    }
    out.set(name, shard);
  }
  return out;
}

/** Tensor names grouped by the shard file the index puts them in. */
function groupByShard(weightMap: ReadonlyMap<string, string>, names: Iterable<string>): Map<string, string[]> {
  const byShard = new Map<string, string[]>();
  for (const name of names) {
    const shard = weightMap.get(name) as string;
    const list = byShard.get(shard);
    if (list) list.push(name);
    else byShard.set(shard, [name]);
  }
  return byShard;
}

/** The header of each shard, after checking that the shard exists and holds the tensors the index puts there. */
async function readShardHeaders(
  dir: string,
  indexPath: string,
  byShard: ReadonlyMap<string, string[]>,
  options: ParseHeaderOptions,
): Promise<{ path: string; header: SafetensorsHeader; names: string[] }[]> {
  const out: { path: string; header: SafetensorsHeader; names: string[] }[] = [];
  for (const shard of [...byShard.keys()].sort()) {
    const path = join(dir, shard);
    const names = byShard.get(shard) as string[];
    if (!(await isFile(path))) {
      throw new SafetensorsError(`shard file '${shard}' is missing: the index puts ${names.length} tensor(s) there, e.g. '${names[0]}'`, {
        file: indexPath,
      });
    }
    const header = await readSafetensorsHeader(path, options);
    for (const name of names) {
      if (!header.tensors.has(name)) {
        throw new SafetensorsError(`the index (${SAFETENSORS_INDEX_FILE}) puts this tensor in ${shard}, which does not contain it`, {
          file: path,
          tensor: name,
        });
      }
    }
    out.push({ path, header, names });
  }
  return out;
}

/**
 * Every tensor of a checkpoint folder (single file or shards), name -> header entry, read from
 * the headers alone: no tensor data is read and the data layout is not yet checked (loading
 * does that), so a caller can compare the names and shapes with what it expects first.
 */
export async function readSafetensorsDirHeader(dir: string): Promise<ReadonlyMap<string, SafetensorsTensorInfo>> {
  const single = join(dir, SAFETENSORS_FILE);
  if (await isFile(single)) return (await readSafetensorsHeader(single, { checkDataLayout: false })).tensors;
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  if (!(await isFile(indexPath))) {
    throw new SafetensorsError(`no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} in this folder`, { file: dir });
  }
  const weightMap = await readWeightMap(indexPath);
  const out = new Map<string, SafetensorsTensorInfo>();
  for (const { header, names } of await readShardHeaders(dir, indexPath, groupByShard(weightMap, weightMap.keys()), {
    checkDataLayout: false,
  })) {
    for (const name of names) out.set(name, header.tensors.get(name) as SafetensorsTensorInfo);
  }
  return out;
}

/**
 * Loads a Hugging Face checkpoint folder: `model.safetensors` when present (as transformers
 * prefers), else every shard named by `model.safetensors.index.json`. Before reading any data it
 * checks that each shard exists and holds the tensors the index puts there. The metadata returned
 * merges the shards' `__metadata__` (the first shard's value wins on a conflict).
 */
export async function loadSafetensorsDir(dir: string, options: LoadSafetensorsOptions = {}): Promise<LoadedSafetensors> {
  const single = join(dir, SAFETENSORS_FILE);
  if (await isFile(single)) return loadSafetensors(single, options);
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  if (!(await isFile(indexPath))) {
    throw new SafetensorsError(`no ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE} in this folder`, { file: dir });
  }
  assertLittleEndian(indexPath);
  checkCastDtype(options.dtype, indexPath);
  const weightMap = await readWeightMap(indexPath);

  const { names } = options;
  let wanted: string[];
  if (names === undefined) wanted = [...weightMap.keys()];
  else if (typeof names === 'function') wanted = [...weightMap.keys()].filter((name) => names(name));
  else {
    wanted = [...new Set(names)];
    for (const name of wanted) {
      if (!weightMap.has(name)) throw new SafetensorsError('not listed in the index', { file: indexPath, tensor: name });
    }
  }
  const byShard = groupByShard(weightMap, wanted);
  const shards = [...byShard.keys()].sort();
  // Check every shard's header before reading any data.
  for (const shard of await readShardHeaders(dir, indexPath, byShard, {})) selectTensors(shard.header, shard.names, shard.path);

  const tensors = new Map<string, Tensor>();
  const metadata: Record<string, string> = {};
  try {
    for (const shard of shards) {
      const loaded = await loadSafetensors(join(dir, shard), { names: byShard.get(shard) as string[], dtype: options.dtype });
      for (const [name, t] of loaded.tensors) tensors.set(name, t);
      for (const [key, value] of Object.entries(loaded.metadata)) if (!Object.hasOwn(metadata, key)) metadata[key] = value;
    }
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata };
}

const shardName = (i: number, n: number): string => `model-${String(i).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;

/**
 * Saves tensors as a Hugging Face checkpoint folder (created if needed): `model.safetensors` when
 * all fit in one shard of `maxShardSize` bytes, else `model-0000i-of-0000n.safetensors` shards
 * plus `model.safetensors.index.json`. Tensors go to shards in name order, as Hugging Face splits
 * (a tensor bigger than the limit gets its own shard). Each file is written atomically, the index
 * last; then checkpoint files of an earlier save in the folder that this one did not write
 * (`model.safetensors`, the index, `model-*-of-*.safetensors`) are removed. `metadata` goes into
 * every shard.
 */
export async function saveSafetensorsSharded(
  dir: string,
  tensors: TensorCollection,
  options: SaveSafetensorsShardedOptions = {},
): Promise<SavedCheckpoint> {
  assertLittleEndian(dir);
  const maxShardSize = options.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE;
  if (typeof maxShardSize !== 'number' || !(maxShardSize > 0)) {
    throw new SafetensorsError(`maxShardSize must be a positive number of bytes, not ${String(maxShardSize)}`, { file: dir });
  }
  const metadata = checkMetadata(options.metadata, dir);
  const pairs = collectTensors(tensors, dir).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const shards: [string, Tensor][][] = [];
  let current: [string, Tensor][] = [];
  let currentSize = 0;
  let totalSize = 0;
  for (const pair of pairs) {
    const size = tensorNbytes(pair[1]);
    totalSize += size;
    if (size > maxShardSize) {
      shards.push([pair]);
      continue;
    }
    if (current.length > 0 && currentSize + size > maxShardSize) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(pair);
    currentSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  await mkdir(dir, { recursive: true });
  const n = shards.length;
  const files = n === 1 ? [SAFETENSORS_FILE] : shards.map((_, i) => shardName(i + 1, n));
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of shards.entries()) {
    const file = files[i] as string;
    await saveSafetensors(join(dir, file), shard, { metadata });
    for (const [name] of shard) weightMap[name] = file;
  }
  let indexFile: string | undefined;
  if (n > 1) {
    const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const json = `${JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2)}\n`;
    indexFile = SAFETENSORS_INDEX_FILE;
    await writeFileAtomically(join(dir, indexFile), (fh) => writeFully(fh, new TextEncoder().encode(json), 0));
  }

  const written = new Set(indexFile === undefined ? files : [...files, indexFile]);
  for (const entry of await readdir(dir)) {
    const stale = entry === SAFETENSORS_FILE || entry === SAFETENSORS_INDEX_FILE || SHARD_FILE.test(entry);
    if (stale && !written.has(entry)) await rm(join(dir, entry), { force: true });
  }
  return { files, indexFile, totalSize };
}
