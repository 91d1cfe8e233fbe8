// Parquet files (as Hugging Face datasets ship them), read with hyparquet one row group at a
// time. SNAPPY is built into hyparquet; GZIP and BROTLI come from node:zlib, ZSTD too where this
// Node has it (22.15+). Rows are located by their 1-based row number, since Parquet has no lines.
// The file is read whole, so it may hold at most as much as Node reads into one buffer (2 GiB).
import * as zlib from 'node:zlib';
import { type Compressors, parquetMetadata, parquetReadObjects } from 'hyparquet';
import { DataSourceError } from '../errors.js';
import { readFileBytes } from './file-bytes.js';
import type { RawRow } from './raw-row.js';

/** The most bytes a Parquet file may hold (after gzip, if any): Node's limit for reading a file into one buffer. */
export const MAX_PARQUET_FILE_BYTES = 2 ** 31 - 1;

type Decompress = (input: Uint8Array, outputLength: number) => Uint8Array;

function parquetCompressors(): Compressors {
  const compressors: Compressors = {
    GZIP: (input) => zlib.gunzipSync(input),
    BROTLI: (input) => zlib.brotliDecompressSync(input),
  };
  const zstd = (zlib as unknown as { zstdDecompressSync?: (input: Uint8Array) => Uint8Array }).zstdDecompressSync;
  if (zstd !== undefined) compressors.ZSTD = ((input) => zstd(input)) as Decompress;
  return compressors;
}

function readError(file: string, e: unknown): DataSourceError {
  const message = e instanceof Error ? e.message : String(e);
  const codec = /unsupported compression codec: (\w+)/.exec(message)?.[1];
  if (codec !== undefined) {
    return new DataSourceError(
      file,
      `uses the ${codec} compression codec, which this reader cannot decode (it reads SNAPPY, GZIP and BROTLI` +
        `${'zstdDecompressSync' in zlib ? ', ZSTD' : '; ZSTD needs Node 22.15 or later'}). ` +
        "Re-save it with another codec (pyarrow: pq.write_table(table, path, compression='snappy')).",
    );
  }
  return new DataSourceError(file, `is not a readable Parquet file (${message}).`);
}

/** Rows of a Parquet file (gzipped or not), as objects keyed by top-level column name. */
export async function* readParquetRows(file: string): AsyncGenerator<RawRow> {
  const bytes = await readFileBytes(
    file,
    MAX_PARQUET_FILE_BYTES,
    'a Parquet file is read whole into memory. Write it as several shards (a folder of them reads as one dataset); ' +
      'a gzipped Parquet file counts decompressed, and Parquet compresses its pages itself, so it needs no gzip.',
  );
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(buffer);
  } catch (e) {
    throw readError(file, e);
  }
  const compressors = parquetCompressors();
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: buffer, metadata, compressors, rowStart, rowEnd });
    } catch (e) {
      throw readError(file, e);
    }
    for (let i = 0; i < rows.length; i++) yield { location: { file, index: rowStart + i, line: null }, value: rows[i] };
    rowStart = rowEnd;
  }
}
