// Opening a data file whether or not it is gzipped: gzip is recognised by its magic bytes
// (1f 8b, RFC 1952), so a `.gz` suffix is not required and a misnamed file still reads.
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { DataSourceError } from '../errors.js';

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

/** The whole file, decompressed when gzipped (for JSON and Parquet, which need it all at once). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataSourceError(
      path,
      `not a valid gzip file (${e instanceof Error ? e.message : String(e)}); re-download or re-compress it.`,
    );
  }
}

/** A byte stream of the file, decompressed when gzipped (for JSONL, read line by line). */
export async function openByteStream(path: string): Promise<Readable> {
  const raw = createReadStream(path);
  if (!(await isGzipped(path))) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

/** UTF-8 text of `bytes` without a leading byte-order mark; invalid UTF-8 is an error naming the file. */
export function decodeUtf8(path: string, bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataSourceError(path, 'is not valid UTF-8 text; re-save it as UTF-8.');
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
