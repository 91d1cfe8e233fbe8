// JSON Lines: one JSON value per physical line, read as a stream so a file larger than a
// JavaScript string can hold still reads. Line numbers are 1-based physical lines ('\n'-ended,
// a trailing '\r' dropped); blank lines hold no row but still count. Each line is split off as
// bytes (byte-lines.ts: linear time, at most max_row_bytes per line) and decoded on its own,
// which is exact because '\n' never occurs inside a multi-byte UTF-8 sequence: invalid UTF-8 is
// then a bad row at its own line, not an error about the whole file.
import { isUtf8 } from 'node:buffer';
import { RowTooLargeError } from '../errors.js';
import { byteLines } from './byte-lines.js';
import { openByteStream, readFailure } from './file-bytes.js';
import { invalidUtf8Offset } from './invalid-utf8.js';
import type { RawRow } from './raw-row.js';

/** The row on one line, or why its text is not JSON; null for a blank line. */
export function parseJsonlLine(file: string, text: string, line: number, index: number): RawRow | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const location = { file, index, line };
  try {
    return { location, value: JSON.parse(trimmed) };
  } catch (e) {
    return { location, parseError: `not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
}

/** Rows of a JSONL text already in memory (a `.json` file that turned out to be JSON Lines); lines over `maxRowBytes` stop it. */
export function* jsonlRowsFromText(file: string, text: string, maxRowBytes: number): Generator<RawRow> {
  const lines = text.split('\n');
  let index = 0;
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineText = lines[i] as string;
    const bytes = Buffer.byteLength(lineText);
    if (bytes > maxRowBytes) throw new RowTooLargeError({ file, index, line: i + 1 }, maxRowBytes, `it starts at byte ${offset}`);
    offset += bytes + 1;
    const row = parseJsonlLine(file, lineText, i + 1, index);
    if (row === null) continue;
    index += 1;
    yield row;
  }
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** Rows of a JSONL file (gzipped or not), streamed; a line longer than `maxRowBytes` stops reading with a RowTooLargeError. */
export async function* readJsonlRows(file: string, maxRowBytes: number): AsyncGenerator<RawRow> {
  const { stream, gzipped } = await openByteStream(file);
  const ofFile = gzipped ? 'of the decompressed file' : 'of the file';
  let index = 0;
  const tooLong = (line: number, offset: number) =>
    new RowTooLargeError({ file, index, line }, maxRowBytes, `it starts at byte ${offset} ${ofFile}`);
  try {
    for await (const lines of byteLines(stream as AsyncIterable<Uint8Array>, maxRowBytes, tooLong)) {
      for (const { bytes, line, offset } of lines) {
        const text = line === 1 && UTF8_BOM.every((b, i) => bytes[i] === b) ? bytes.subarray(UTF8_BOM.length) : bytes;
        // isUtf8 then toString is several times faster than a fatal TextDecoder on short lines.
        if (!isUtf8(text)) {
          const at = (invalidUtf8Offset(text) ?? 0) + bytes.length - text.length;
          yield {
            location: { file, index, line },
            parseError: `not valid UTF-8 text (byte ${at} of the line is wrong, byte ${offset + at} ${ofFile}); re-save the file as UTF-8`,
          };
          index += 1;
          continue;
        }
        const row = parseJsonlLine(file, text.toString('utf8'), line, index);
        if (row === null) continue;
        index += 1;
        yield row;
      }
    }
  } catch (e) {
    throw readFailure(file, gzipped, e);
  } finally {
    stream.destroy();
  }
}
