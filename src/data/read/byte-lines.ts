// Splitting a byte stream into '\n'-ended lines in time linear in its length: each chunk is
// scanned once for newlines, and a line spread over several chunks is kept as a list of pieces
// joined once when its newline arrives. A line longer than the limit stops the stream as soon as
// it passes the limit, so a stream without newlines (/dev/zero, a gzip bomb) holds at most
// `maxLineBytes` in memory before it fails.

/** One line's bytes without its '\n', its 1-based line number and the stream offset of its first byte. */
export interface ByteLine {
  bytes: Buffer;
  line: number;
  offset: number;
}

/**
 * The lines of `chunks`, yielded as the lines each chunk completes (one await per chunk, not per
 * line); the last line comes even without a final '\n' (and none when the stream ends with '\n').
 * `tooLong(line, offset)` makes the error thrown when a line's bytes (the '\n' not counted)
 * would exceed `maxLineBytes`.
 */
export async function* byteLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
  tooLong: (line: number, offset: number) => Error,
): AsyncGenerator<ByteLine[]> {
  let pieces: Buffer[] = [];
  let pending = 0; // bytes of the current line held in `pieces`
  let line = 1;
  let offset = 0; // stream offset where the current line starts
  for await (const chunk of chunks) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: ByteLine[] = [];
    let start = 0;
    for (let end = buffer.indexOf(0x0a, start); end !== -1; end = buffer.indexOf(0x0a, start)) {
      const length = pending + end - start;
      if (length > maxLineBytes) throw tooLong(line, offset);
      const last = buffer.subarray(start, end);
      lines.push({ bytes: pieces.length === 0 ? last : Buffer.concat([...pieces, last], length), line, offset });
      pieces = [];
      pending = 0;
      line += 1;
      offset += length + 1;
      start = end + 1;
    }
    if (start < buffer.length) {
      pending += buffer.length - start;
      if (pending > maxLineBytes) throw tooLong(line, offset);
      pieces.push(buffer.subarray(start));
    }
    if (lines.length > 0) yield lines;
  }
  if (pending > 0) yield [{ bytes: Buffer.concat(pieces, pending), line, offset }];
}
