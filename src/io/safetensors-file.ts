// Reading and writing one safetensors file. Tensor data moves between the file and the tensor's
// own memory (Tensor.dataView) with positioned reads and writes: one copy by the kernel, none in JS.
import { type FileHandle, open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { type DType, ITEM_SIZE, isFloatingPoint } from '../tensor/dtype.js';
import { empty } from '../tensor/functions.generated.js';
import { Tensor } from '../tensor/tensor.js';
import { MAX_IO_CHUNK, writeFileAtomically, writeFully } from './atomic-write.js';
import {
  compareForLayout,
  encodeHeader,
  type ParseHeaderOptions,
  parseHeader,
  parseHeaderLength,
  SafetensorsError,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
  SUPPORTED_DTYPES,
  type TensorLayout,
} from './safetensors-format.js';

/** Tensors to save: a Map, an iterable of [name, tensor] pairs, or a plain object. */
export type TensorCollection = ReadonlyMap<string, Tensor> | Iterable<readonly [string, Tensor]> | Readonly<Record<string, Tensor>>;

export interface LoadSafetensorsOptions {
  /** Which tensors to load: a list of names (each must exist) or a predicate. Default: all. */
  names?: readonly string[] | ((name: string) => boolean);
  /** Cast floating-point tensors to this floating-point dtype; other tensors keep theirs. */
  dtype?: DType;
}

export interface LoadedSafetensors {
  /** The loaded tensors (contiguous, on the CPU), in the order of their data in the file. The caller owns them. */
  tensors: Map<string, Tensor>;
  /** The file's `__metadata__` (empty when it has none). */
  metadata: Record<string, string>;
}

export interface SaveSafetensorsOptions {
  /** String key/value pairs stored as `__metadata__` (Hugging Face writes { format: 'pt' }). */
  metadata?: Readonly<Record<string, string>>;
}

/** safetensors data is little-endian and we move it as raw bytes, so big-endian hosts are refused. */
export function assertLittleEndian(file: string): void {
  if (endianness() !== 'LE') {
    throw new SafetensorsError('safetensors data is little-endian and this host is big-endian, which is not supported', { file });
  }
}

/** Fills `target` from the file at `position`, looping over short reads; end of file means truncation. */
async function readFully(fh: FileHandle, target: Uint8Array, position: number, file: string, what: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await fh.read(target, done, Math.min(target.byteLength - done, MAX_IO_CHUNK), position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(`file is truncated: end of file at byte ${position + done} while reading ${what}`, { file });
    }
    done += bytesRead;
  }
}

async function readHeaderFrom(fh: FileHandle, file: string, options: ParseHeaderOptions = {}): Promise<SafetensorsHeader> {
  const { size } = await fh.stat();
  const prefix = new Uint8Array(Math.min(size, 8));
  await readFully(fh, prefix, 0, file, 'the header length');
  const length = parseHeaderLength(prefix, size, file);
  const json = new Uint8Array(length);
  await readFully(fh, json, 8, file, 'the header');
  return parseHeader(json, size, file, options);
}

/** The parsed, validated header of a safetensors file, without reading any tensor data. */
export async function readSafetensorsHeader(path: string, options: ParseHeaderOptions = {}): Promise<SafetensorsHeader> {
  const fh = await open(path, 'r');
  try {
    return await readHeaderFrom(fh, path, options);
  } finally {
    await fh.close();
  }
}

/** The header entries `names` selects, after checking that each can be loaded. */
export function selectTensors(header: SafetensorsHeader, names: LoadSafetensorsOptions['names'], file: string): SafetensorsTensorInfo[] {
  let selected: SafetensorsTensorInfo[];
  if (names === undefined) selected = [...header.tensors.values()];
  else if (typeof names === 'function') selected = [...header.tensors.values()].filter((info) => names(info.name));
  else {
    const wanted = new Set(names);
    for (const name of wanted) {
      if (!header.tensors.has(name)) throw new SafetensorsError('not found in the file', { file, tensor: name });
    }
    selected = [...header.tensors.values()].filter((info) => wanted.has(info.name));
  }
  for (const info of selected) {
    if (info.torchDtype === undefined) {
      throw new SafetensorsError(`dtype ${info.dtype} is not supported (supported: ${SUPPORTED_DTYPES.join(', ')})`, {
        file,
        tensor: info.name,
      });
    }
  }
  return selected;
}

/** Checks the dtype option of a load: it casts floating-point tensors, so it must be floating-point. */
export function checkCastDtype(dtype: DType | undefined, file: string): void {
  if (dtype !== undefined && !isFloatingPoint(dtype)) {
    throw new SafetensorsError(`the dtype option casts floating-point tensors and must be a floating-point dtype, not '${dtype}'`, {
      file,
    });
  }
}

// Reads one tensor straight into a fresh tensor's memory, then casts it if asked.
async function loadTensor(
  fh: FileHandle,
  header: SafetensorsHeader,
  info: SafetensorsTensorInfo,
  cast: DType | undefined,
  file: string,
): Promise<Tensor> {
  const dtype = info.torchDtype as DType;
  let t = empty(info.shape, { dtype });
  try {
    const bytes = new Uint8Array(t.dataView());
    if (bytes.byteLength !== info.byteLength) {
      throw new SafetensorsError(`internal error: a ${dtype} tensor of shape [${info.shape.join(', ')}] has ${bytes.byteLength} bytes`, {
        file,
        tensor: info.name,
      });
    }
    await readFully(fh, bytes, header.dataStart + info.dataOffsets[0], file, `tensor '${info.name}'`);
    if (dtype === 'bool') {
      const bad = bytes.findIndex((b) => b > 1);
      if (bad >= 0) {
        throw new SafetensorsError(`BOOL element ${bad} is the byte ${bytes[bad]}; BOOL bytes must be 0 or 1`, { file, tensor: info.name });
      }
    }
    if (cast !== undefined && cast !== dtype && isFloatingPoint(dtype)) {
      const wide = t.to(cast);
      t.dispose();
      t = wide;
    }
    return t;
  } catch (error) {
    t.dispose();
    throw error;
  }
}

/**
 * Loads tensors from a safetensors file into new CPU tensors, reading each one's bytes straight
 * into its memory. Throws SafetensorsError for a malformed file, a missing name or an
 * unsupported dtype among the selected tensors.
 */
export async function loadSafetensors(path: string, options: LoadSafetensorsOptions = {}): Promise<LoadedSafetensors> {
  assertLittleEndian(path);
  checkCastDtype(options.dtype, path);
  const tensors = new Map<string, Tensor>();
  const fh = await open(path, 'r');
  try {
    const header = await readHeaderFrom(fh, path);
    for (const info of selectTensors(header, options.names, path)) {
      tensors.set(info.name, await loadTensor(fh, header, info, options.dtype, path));
    }
    return { tensors, metadata: { ...header.metadata } };
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  } finally {
    await fh.close();
  }
}

/**
 * The [name, tensor] pairs of a collection, checked: names unique and not starting with '__'
 * (reserved by the format), values live Tensors.
 */
export function collectTensors(tensors: TensorCollection, file: string): [string, Tensor][] {
  const pairs: Iterable<readonly [string, Tensor]> =
    Symbol.iterator in tensors ? (tensors as Iterable<readonly [string, Tensor]>) : Object.entries(tensors as Record<string, Tensor>);
  const seen = new Set<string>();
  const out: [string, Tensor][] = [];
  for (const [name, t] of pairs) {
    if (typeof name !== 'string') throw new SafetensorsError(`tensor names must be strings, found ${typeof name}`, { file });
    if (seen.has(name)) throw new SafetensorsError('duplicate tensor name', { file, tensor: name });
    if (name.startsWith('__')) throw new SafetensorsError("names starting with '__' are reserved by the format", { file, tensor: name });
    if (!(t instanceof Tensor)) throw new SafetensorsError(`not a Tensor but ${t === null ? 'null' : typeof t}`, { file, tensor: name });
    if (t.isDisposed) throw new SafetensorsError('the tensor has been disposed', { file, tensor: name });
    seen.add(name);
    out.push([name, t]);
  }
  return out;
}

/** A copy of the metadata after checking that every value is a string. */
export function checkMetadata(metadata: Readonly<Record<string, string>> | undefined, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata === undefined) return out;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new SafetensorsError(`metadata must be an object of strings, found ${Array.isArray(metadata) ? 'an array' : typeof metadata}`, {
      file,
    });
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(`metadata value for key '${key}' must be a string, found ${value === null ? 'null' : typeof value}`, {
        file,
      });
    }
    out[key] = value;
  }
  return out;
}

/** Byte length of a tensor's data. */
export const tensorNbytes = (t: Tensor): number => t.numel * ITEM_SIZE[t.dtype];

// Writes one tensor's bytes at `position`, from its own memory when it is a contiguous CPU
// tensor, else from a contiguous CPU copy made (and freed) just for this write.
async function writeTensor(fh: FileHandle, name: string, t: Tensor, expected: number, position: number, file: string): Promise<void> {
  const owned: Tensor[] = [];
  try {
    let source = t;
    if (source.device !== 'cpu' || !source.isContiguous) {
      source = source.detach();
      owned.push(source);
      if (source.device !== 'cpu') owned.push((source = source.to('cpu')));
      if (!source.isContiguous) owned.push((source = source.contiguous()));
    }
    const bytes = new Uint8Array(source.dataView());
    if (bytes.byteLength !== expected) {
      throw new SafetensorsError(`internal error: expected ${expected} bytes of data, the tensor has ${bytes.byteLength}`, {
        file,
        tensor: name,
      });
    }
    await writeFully(fh, bytes, position);
  } finally {
    for (const o of owned) o.dispose();
  }
}

/**
 * Writes tensors to a safetensors file, atomically (a temporary file in the same folder, fsync,
 * rename). Tensors are laid out by item size then name; each is written from its own memory (GPU
 * or non-contiguous tensors through a temporary contiguous CPU copy, one at a time). Do not modify
 * the tensors until the returned promise settles.
 */
export async function saveSafetensors(path: string, tensors: TensorCollection, options: SaveSafetensorsOptions = {}): Promise<void> {
  assertLittleEndian(path);
  const metadata = checkMetadata(options.metadata, path);
  const pairs = collectTensors(tensors, path);
  const byName = new Map(pairs);
  const layout: TensorLayout[] = pairs
    .map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape], byteLength: tensorNbytes(t) }))
    .sort(compareForLayout);
  const header = encodeHeader(layout, metadata, path);
  await writeFileAtomically(path, async (fh) => {
    await writeFully(fh, header, 0);
    let position = header.byteLength;
    for (const entry of layout) {
      await writeTensor(fh, entry.name, byName.get(entry.name) as Tensor, entry.byteLength, position, path);
      position += entry.byteLength;
    }
  });
}
