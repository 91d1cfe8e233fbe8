// Opening a data file whether or not it is gzipped: gzip is recognised by its magic bytes
// (1f 8b, RFC 1952), so a `.gz` suffix is not required and a misnamed file still reads. Every
// read is bounded in what it holds: whole-file readers stop at their format's limit, counted
// after decompression, so a gzip bomb or an endless device fails instead of filling memory.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import { DataError, DataSourceError } from '../errors.js';
import { invalidUtf8Offset } from './invalid-utf8.js';

export async function isGzipped(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** A byte stream of the file, decompressed when gzipped; destroying it closes the file. */
export async function openByteStream(path: string): Promise<{ stream: Readable; gzipped: boolean }> {
  const gzipped = await isGzipped(path);
  const raw = createReadStream(path);
  if (!gzipped) return { stream: raw, gzipped };
  // pipeline() passes a read error on to the gunzip stream, and closes the file when that is destroyed.
  return { stream: pipeline(raw, createGunzip(), () => {}), gzipped };
}

/** The DataSourceError for a failure while reading `path`: zlib's errors (codes Z_…) mean a corrupt gzip file. */
export function readFailure(path: string, gzipped: boolean, e: unknown): DataError {
  if (e instanceof DataError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (gzipped && typeof code === 'string' && code.startsWith('Z_')) {
    return new DataSourceError(path, `not a valid gzip file (${message}); re-download or re-compress it.`);
  }
  return new DataSourceError(path, `could not be read (${message}).`);
}

const gunzipBounded = promisify(gunzip);

/**
 * The whole file, decompressed when gzipped (for JSON and Parquet, which need it all at once).
 * More than `maxBytes` after decompression is an error whose message ends with `whyLimit`.
 */
export async function readFileBytes(path: string, maxBytes: number, whyLimit: string): Promise<Buffer> {
  const gzipped = await isGzipped(path);
  const tooLarge = () => new DataSourceError(path, `holds more than ${maxBytes} bytes${gzipped ? ' once decompressed' : ''}: ${whyLimit}`);
  const info = await stat(path);
  if (!info.isFile()) return readStreamBytes(path, gzipped, maxBytes, tooLarge);
  // A regular file: its size is known, and one read into one buffer is several times faster than a stream.
  if (info.size > maxBytes) throw tooLarge();
  try {
    const bytes = await readFile(path);
    return gzipped ? await gunzipBounded(bytes, { maxOutputLength: maxBytes }) : bytes;
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw readFailure(path, gzipped, e);
  }
}

/** A device or pipe (no size known in advance), read to its end or to `maxBytes`. */
async function readStreamBytes(path: string, gzipped: boolean, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const { stream } = await openByteStream(path);
  const pieces: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge();
      pieces.push(chunk);
    }
  } catch (e) {
    throw readFailure(path, gzipped, e);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(pieces, total);
}

/** UTF-8 text of `bytes` without a leading byte-order mark; invalid UTF-8 is an error naming the file, line and byte. */
export function decodeUtf8(path: string, bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    const at = invalidUtf8Offset(bytes);
    if (at === null) throw e;
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line += 1;
    throw new DataSourceError(path, `is not valid UTF-8 text: line ${line} (byte ${at} of the file) is wrong; re-save it as UTF-8.`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
