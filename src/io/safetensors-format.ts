// The safetensors file format (https://github.com/huggingface/safetensors), without I/O: dtype
// names, parsing and validating a header, and encoding one. Layout of a file:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   UTF-8 JSON: { "__metadata__"?: {string: string}, "<name>": { "dtype", "shape", "data_offsets" }, ... }
//   the rest  the data section: each tensor's bytes (little-endian, row-major) at data_offsets
//             [begin, end) counted from the start of the data section; tensors tile it exactly.
import { AlphaDpoError } from '../errors.js';
import type { DType } from '../tensor/dtype.js';

/** Every error from reading or writing safetensors files. The message names the file and tensor. */
export class SafetensorsError extends AlphaDpoError {
  /** The file concerned, where there is one. */
  readonly file: string | undefined;
  /** The tensor concerned, where there is one. */
  readonly tensor: string | undefined;

  constructor(message: string, where: { file?: string | undefined; tensor?: string | undefined; cause?: unknown } = {}) {
    const file = where.file === undefined ? '' : `${where.file}: `;
    const tensor = where.tensor === undefined ? '' : `tensor '${where.tensor}': `;
    super(`${file}${tensor}${message}`, where.cause === undefined ? undefined : { cause: where.cause });
    this.file = where.file;
    this.tensor = where.tensor;
  }
}

/** The largest header accepted, as in the reference implementation (100 MB). */
export const MAX_HEADER_LENGTH = 100_000_000;

// Bits per element of every dtype the format defines (sub-byte types pack into whole bytes).
const DTYPE_BITS = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
} as const;

/** A dtype name as it appears in safetensors headers. */
export type SafetensorsDType = keyof typeof DTYPE_BITS;

const TO_TORCH: Partial<Record<SafetensorsDType, DType>> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};

/** The safetensors dtype name for each of our dtypes. */
export const SAFETENSORS_DTYPE: Readonly<Record<DType, SafetensorsDType>> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

/** The safetensors dtypes this library can load. */
export const SUPPORTED_DTYPES = Object.keys(TO_TORCH) as SafetensorsDType[];

const isKnownDType = (s: string): s is SafetensorsDType => Object.hasOwn(DTYPE_BITS, s);

/** One tensor's entry in a header. */
export interface SafetensorsTensorInfo {
  readonly name: string;
  /** The dtype as written in the file. */
  readonly dtype: SafetensorsDType;
  /** The matching dtype of ours, or undefined where we cannot load this one (I16, F8_E4M3, ...). */
  readonly torchDtype: DType | undefined;
  readonly shape: readonly number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
  readonly byteLength: number;
}

/** A parsed, validated header. */
export interface SafetensorsHeader {
  /** The `__metadata__` strings (empty when the file has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensors, in the order of their data in the file. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** N, the length of the JSON header in bytes (padding included). */
  readonly headerLength: number;
  /** Where the data section starts in the file: 8 + N. */
  readonly dataStart: number;
  /** Length of the data section in bytes. */
  readonly dataLength: number;
}

/**
 * Checks the 8-byte length prefix against the file size and returns N. `prefix` holds the first
 * min(8, fileSize) bytes.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new SafetensorsError(
      `file is ${fileSize} bytes long, shorter than the 8-byte header length that starts a safetensors file (empty or truncated file?)`,
      { file },
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_LENGTH)) {
    throw new SafetensorsError(`header length ${n} exceeds the ${MAX_HEADER_LENGTH / 1e6} MB limit (not a safetensors file?)`, { file });
  }
  const length = Number(n);
  if (8 + length > fileSize) {
    throw new SafetensorsError(
      `header length ${length} is larger than the file (${fileSize} bytes, ${fileSize - 8} after the length prefix): file truncated or not safetensors`,
      { file },
    );
  }
  return length;
}

const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`"__metadata__" must be an object of strings, found ${describe(value)}`, { file });
  }
  const metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`"__metadata__" value for key '${key}' must be a string, found ${describe(v)}`, { file });
    }
    metadata[key] = v;
  }
  return metadata;
}

/** Element count and byte length of a tensor; throws (via `fail`) when they are not exact integers. */
export function tensorByteLength(shape: readonly number[], bits: number, fail: (message: string) => never): number {
  let numel = 1;
  for (const d of shape) numel *= d;
  const totalBits = numel * bits;
  if (!Number.isSafeInteger(totalBits)) fail(`shape [${shape.join(', ')}] is too large`);
  if (totalBits % 8 !== 0) fail(`shape [${shape.join(', ')}] does not fill whole bytes at ${bits} bits per element`);
  return totalBits / 8;
}

function parseEntry(name: string, value: unknown, file: string): SafetensorsTensorInfo {
  const fail = (message: string): never => {
    throw new SafetensorsError(message, { file, tensor: name });
  };
  if (!isPlainObject(value)) return fail(`header entry must be an object, found ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined) fail('header entry has no "dtype"');
  if (shape === undefined) fail('header entry has no "shape"');
  if (offsets === undefined) fail('header entry has no "data_offsets"');
  if (typeof dtype !== 'string') return fail(`"dtype" must be a string, found ${describe(dtype)}`);
  if (!isKnownDType(dtype)) return fail(`unknown dtype '${dtype}' (safetensors defines ${Object.keys(DTYPE_BITS).join(', ')})`);
  if (!Array.isArray(shape)) return fail(`"shape" must be an array, found ${describe(shape)}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`"shape" must hold non-negative integers, found ${JSON.stringify(shape)}`);
    }
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    return fail(`"data_offsets" must be [begin, end] with integers 0 <= begin <= end, found ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const byteLength = tensorByteLength(shape as number[], DTYPE_BITS[dtype], fail);
  if (end - begin !== byteLength) {
    fail(
      `"data_offsets" [${begin}, ${end}] span ${end - begin} bytes but ${dtype} with shape [${shape.join(', ')}] needs ${byteLength} bytes`,
    );
  }
  return {
    name,
    dtype,
    torchDtype: TO_TORCH[dtype],
    shape: Object.freeze([...(shape as number[])]),
    dataOffsets: Object.freeze([begin, end] as const),
    byteLength,
  };
}

/**
 * Parses and validates the JSON header (the N bytes after the length prefix) of a file of
 * `fileSize` bytes: every entry well-formed, offsets consistent with dtype and shape, and the
 * tensors tiling the data section with no overlap, hole or trailing bytes.
 */
export function parseHeader(json: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const headerLength = json.byteLength;
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so that JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json);
  } catch (cause) {
    throw new SafetensorsError('header is not valid UTF-8', { file, cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(`header is not valid JSON (${(cause as Error).message})`, { file, cause });
  }
  if (!isPlainObject(parsed)) throw new SafetensorsError(`header is not a JSON object but ${describe(parsed)}`, { file });

  let metadata: Record<string, string> = {};
  const entries: SafetensorsTensorInfo[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') metadata = parseMetadata(value, file);
    else entries.push(parseEntry(name, value, file));
  }

  // Truncation first: it is the likeliest fault and explains any later inconsistency.
  for (const e of entries) {
    if (e.dataOffsets[1] > dataLength) {
      throw new SafetensorsError(
        `file is truncated: the tensor's data ends at byte ${e.dataOffsets[1]} of the data section, which has only ${dataLength} bytes (file size ${fileSize})`,
        { file, tensor: e.name },
      );
    }
  }
  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous: SafetensorsTensorInfo | undefined;
  for (const e of entries) {
    const [begin, end] = e.dataOffsets;
    if (begin < covered && previous !== undefined) {
      throw new SafetensorsError(
        `data_offsets [${begin}, ${end}] overlap tensor '${previous.name}' at [${previous.dataOffsets[0]}, ${previous.dataOffsets[1]}]`,
        { file, tensor: e.name },
      );
    }
    if (begin > covered) {
      throw new SafetensorsError(
        `hole in the data section: bytes [${covered}, ${begin}) belong to no tensor (before tensor '${e.name}'); tensors must tile the data section`,
        { file },
      );
    }
    covered = end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      `the data section has ${dataLength - covered} trailing bytes [${covered}, ${dataLength}) that belong to no tensor`,
      { file },
    );
  }
  return {
    metadata: Object.freeze(metadata),
    tensors: new Map(entries.map((e) => [e.name, e])),
    headerLength,
    dataStart,
    dataLength,
  };
}

/** What the writer needs to know of each tensor, in file order. */
export interface TensorLayout {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/** Item size in bytes of a safetensors dtype with whole-byte elements. */
export const dtypeAlignment = (dtype: DType): number => DTYPE_BITS[SAFETENSORS_DTYPE[dtype]] / 8;

/**
 * The order in which the writer lays tensors out: larger item sizes first, then by name (code
 * units), as the reference writer does. With the data section starting at a multiple of 8, every
 * tensor then starts at a multiple of its own item size, which zero-copy (mmap) readers need.
 */
export function compareForLayout(a: TensorLayout, b: TensorLayout): number {
  return dtypeAlignment(b.dtype) - dtypeAlignment(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The length prefix plus the JSON header for tensors laid out in the given order, padded with
 * spaces so the data section starts at a multiple of 8 bytes. `__metadata__` comes first and is
 * left out when empty.
 */
export function encodeHeader(layout: readonly TensorLayout[], metadata: Readonly<Record<string, string>>, file: string): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of layout) {
    header[t.name] = { dtype: SAFETENSORS_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded > MAX_HEADER_LENGTH) {
    throw new SafetensorsError(`header would be ${padded} bytes, over the ${MAX_HEADER_LENGTH / 1e6} MB limit readers accept`, { file });
  }
  const out = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
