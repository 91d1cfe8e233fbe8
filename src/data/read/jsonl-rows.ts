// JSON Lines: one JSON value per physical line, read as a stream so a file larger than a
// JavaScript string can hold still reads. Line numbers are 1-based physical lines ('\n'-ended,
// a trailing '\r' dropped); blank lines hold no row but still count.
import { DataSourceError } from '../errors.js';
import { openByteStream } from './file-bytes.js';
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

/** Rows of a JSONL text already in memory (a `.json` file that turned out to be JSON Lines). */
export function* jsonlRowsFromText(file: string, text: string): Generator<RawRow> {
  const lines = text.split('\n');
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const row = parseJsonlLine(file, lines[i] as string, i + 1, index);
    if (row === null) continue;
    index += 1;
    yield row;
  }
}

/** Rows of a JSONL file (gzipped or not), streamed. */
export async function* readJsonlRows(file: string): AsyncGenerator<RawRow> {
  const stream = await openByteStream(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let carry = '';
  let line = 0;
  let index = 0;
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      throw new DataSourceError(file, `is not valid UTF-8 text (after line ${line}); re-save it as UTF-8.`);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) {
      carry += decode(chunk);
      if (line === 0 && carry.charCodeAt(0) === 0xfeff) carry = carry.slice(1);
      let start = 0;
      for (let end = carry.indexOf('\n'); end !== -1; end = carry.indexOf('\n', start)) {
        line += 1;
        const row = parseJsonlLine(file, carry.slice(start, end), line, index);
        start = end + 1;
        if (row === null) continue;
        index += 1;
        yield row;
      }
      carry = carry.slice(start);
    }
  } catch (e) {
    if (e instanceof DataSourceError) throw e;
    throw new DataSourceError(file, `could not be read (${e instanceof Error ? e.message : String(e)}).`);
  } finally {
    stream.destroy();
  }
  carry += decode();
  const last = parseJsonlLine(file, carry, line + 1, index);
  if (last !== null) yield last;
}
