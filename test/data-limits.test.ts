// Input limits of the readers: a JSON Lines line is split off in linear time and may hold at most
// max_row_bytes (a longer one stops reading at its line, before it fills memory: /dev/zero, a
// gzip bomb); whole-file readers stop at their format's bound; invalid UTF-8 is located by line
// and byte. Expected numbers are the byte counts of the inputs written here.
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  BadRowError,
  DataConfigError,
  DataSourceError,
  loadPreferenceDataset,
  MAX_ROW_BYTES_LIMIT,
  RowTooLargeError,
  resolveDataConfig,
} from '../src/data/index.js';
import { byteLines } from '../src/data/read/byte-lines.js';
import { readFileBytes } from '../src/data/read/file-bytes.js';
import { invalidUtf8Offset } from '../src/data/read/invalid-utf8.js';
import { MAX_JSON_FILE_BYTES } from '../src/data/read/json-rows.js';

const MiB = 2 ** 20;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-limits-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A standard row whose line is exactly `bytes` long (ASCII, so characters are bytes). */
function rowOfBytes(bytes: number): string {
  const frame = JSON.stringify({ prompt: '', chosen: ' yes', rejected: ' no' });
  const line = JSON.stringify({ prompt: 'p'.repeat(bytes - frame.length), chosen: ' yes', rejected: ' no' });
  assert.equal(line.length, bytes);
  return line;
}

const SHORT = JSON.stringify({ prompt: 'a', chosen: ' b', rejected: ' c' }); // 44 bytes

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('max_row_bytes', () => {
  test('the default is 64 MiB; 0 and more than a JavaScript string holds are DataConfigErrors; null means that most', () => {
    assert.equal(resolveDataConfig({}).max_row_bytes, 64 * MiB);
    assert.throws(
      () => resolveDataConfig({ max_row_bytes: 0 }),
      (e: unknown) => e instanceof DataConfigError && e.field === 'max_row_bytes',
    );
    assert.throws(
      () => resolveDataConfig({ max_row_bytes: MAX_ROW_BYTES_LIMIT + 1 }),
      new RegExp(`max_row_bytes: ${MAX_ROW_BYTES_LIMIT + 1} is out of range: it must be ≥ 1 and ≤ ${MAX_ROW_BYTES_LIMIT}`),
    );
    assert.equal(resolveDataConfig({ max_row_bytes: null }).max_row_bytes, null);
  });

  test('a row of exactly max_row_bytes reads; one byte less of limit stops at its line, naming file, line, byte and key', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'rows.jsonl');
      const cap = 200_000; // spans 4 chunks of the 64 KiB file stream
      await writeFile(path, `${SHORT}\n${rowOfBytes(cap)}\n${SHORT}\n`);
      const dataset = await loadPreferenceDataset(path, { max_row_bytes: cap });
      assert.equal(dataset.pairs.length, 3);
      assert.equal(dataset.pairs[1]?.prompt.length, cap - 46); // 46: the row's JSON around an empty prompt
      await assert.rejects(loadPreferenceDataset(path, { max_row_bytes: cap - 1 }), (e: unknown) => {
        assert.ok(e instanceof RowTooLargeError);
        assert.deepEqual(e.location, { file: path, index: 1, line: 2 });
        assert.equal(e.maxRowBytes, cap - 1);
        // Line 2 starts after line 1's 44 bytes and its newline.
        assert.match(
          e.message,
          /rows\.jsonl:2: the line is longer than max_row_bytes \(199999 bytes\); it starts at byte 45 of the file\./,
        );
        assert.match(e.message, /raise max_row_bytes in the data config \(--max_row_bytes N\)/);
        return true;
      });
    });
  });

  test('the last line, without a newline, has the same limit', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'last.jsonl');
      await writeFile(path, `${SHORT}\n${rowOfBytes(1000)}`);
      assert.equal((await loadPreferenceDataset(path, { max_row_bytes: 1000 })).pairs.length, 2);
      await assert.rejects(loadPreferenceDataset(path, { max_row_bytes: 999 }), /last\.jsonl:2: the line is longer than max_row_bytes/);
    });
  });

  test(
    '/dev/zero as a .jsonl file (no newline, no end) stops at line 1 under the default 64 MiB limit',
    {
      skip: existsSync('/dev/zero') ? false : 'no /dev/zero on this system',
    },
    async () => {
      await withDir(async (dir) => {
        const path = join(dir, 'zero.jsonl');
        await symlink('/dev/zero', path);
        await assert.rejects(
          loadPreferenceDataset(path),
          /zero\.jsonl:1: the line is longer than max_row_bytes \(67108864 bytes = 64 MiB\); it starts at byte 0 of the file/,
        );
      });
    },
  );

  test('a gzip bomb of one 16 MiB line (16 KiB compressed) stops at the limit, counted after decompression', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'bomb.jsonl.gz');
      const bomb = gzipSync(Buffer.alloc(16 * MiB, 0x20));
      assert.ok(bomb.length < 32 * 1024, `compressed to ${bomb.length} bytes`);
      await writeFile(path, bomb);
      await assert.rejects(
        loadPreferenceDataset(path, { max_row_bytes: MiB }),
        /bomb\.jsonl\.gz:1: the line is longer than max_row_bytes \(1048576 bytes = 1 MiB\); it starts at byte 0 of the decompressed file/,
      );
    });
  });

  test('a .json file holding JSON Lines has the same row limit', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'lines.json');
      await writeFile(path, `${SHORT}\n${rowOfBytes(500)}\n`);
      assert.equal((await loadPreferenceDataset(path, { max_row_bytes: 500 })).pairs.length, 2);
      await assert.rejects(
        loadPreferenceDataset(path, { max_row_bytes: 499 }),
        /lines\.json:2: the line is longer than max_row_bytes \(499 bytes\); it starts at byte 45/,
      );
    });
  });
});

describe('byteLines: linear splitting with a bound', () => {
  const text = 'ab\n\ncdé\r\nlast €';
  const expected = text.split('\n');

  test('any chunking gives the lines of String.split, with their byte offsets', async () => {
    const bytes = Buffer.from(text);
    for (let size = 1; size <= bytes.length; size++) {
      const chunks = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const lines = (await collect(byteLines(toAsync(chunks), 100, () => new Error('too long')))).flat();
      assert.deepEqual(
        lines.map((l) => l.bytes.toString()),
        expected,
        `chunks of ${size}`,
      );
      // Offsets: 'ab\n' is 3 bytes, '\n' 1, 'cdé\r\n' 6 (é is 2 bytes in UTF-8).
      assert.deepEqual(
        lines.map((l) => [l.line, l.offset]),
        [
          [1, 0],
          [2, 3],
          [3, 4],
          [4, 10],
        ],
      );
    }
  });

  test('an endless stream without newline is read only up to the limit (plus the chunk that passes it)', async () => {
    let read = 0;
    async function* endless() {
      for (;;) {
        read += 4096;
        yield Buffer.alloc(4096, 0x61);
      }
    }
    await assert.rejects(collect(byteLines(endless(), 10_000, (line, offset) => new Error(`line ${line} at ${offset}`))), /line 1 at 0/);
    assert.equal(read, 12_288); // 3 chunks: 8192 ≤ 10000 < 12288
  });
});

async function* toAsync(chunks: Buffer[]) {
  for (const chunk of chunks) yield chunk;
}

describe('whole-file readers are bounded too', () => {
  test('readFileBytes stops a gzip bomb at its bound, counted after decompression', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'bomb.json.gz');
      await writeFile(path, gzipSync(Buffer.alloc(8 * MiB, 0x20)));
      await assert.rejects(
        readFileBytes(path, MiB, 'the reason.'),
        (e: unknown) =>
          e instanceof DataSourceError && /bomb\.json\.gz: holds more than 1048576 bytes once decompressed: the reason\./.test(e.message),
      );
      assert.equal((await readFileBytes(path, 8 * MiB, 'unused')).length, 8 * MiB);
    });
  });

  test(
    'a device without end (/dev/zero named .json) is read only up to the bound',
    {
      skip: existsSync('/dev/zero') ? false : 'no /dev/zero on this system',
    },
    async () => {
      await withDir(async (dir) => {
        const path = join(dir, 'zero.json');
        await symlink('/dev/zero', path);
        // fs.readFile, used before, reads such a file without end.
        await assert.rejects(readFileBytes(path, MiB, 'the reason.'), /zero\.json: holds more than 1048576 bytes: the reason\./);
      });
    },
  );

  test('.json files are bounded by the longest JavaScript string, and the message says to use JSON Lines', async () => {
    assert.equal(MAX_JSON_FILE_BYTES, constants.MAX_STRING_LENGTH);
    await withDir(async (dir) => {
      // A sparse file one byte over the bound: its size alone refuses it, nothing is read.
      const path = join(dir, 'huge.json');
      await writeFile(path, '');
      await truncate(path, MAX_JSON_FILE_BYTES + 1);
      await assert.rejects(
        loadPreferenceDataset(path),
        (e: unknown) =>
          e instanceof DataSourceError &&
          e.message.includes(`huge.json: holds more than ${MAX_JSON_FILE_BYTES} bytes: a .json file is parsed whole`) &&
          /Convert it to JSON Lines/.test(e.message),
      );
    });
  });

  test('a corrupt gzip JSON Lines file is a DataSourceError saying so', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'cut.jsonl.gz');
      await writeFile(path, gzipSync(Buffer.from(`${SHORT}\n${SHORT}\n`)).subarray(0, 20));
      await assert.rejects(loadPreferenceDataset(path), /cut\.jsonl\.gz: not a valid gzip file/);
    });
  });
});

describe('invalid UTF-8 is located', () => {
  test('invalidUtf8Offset: the first byte RFC 3629 forbids, or the start of a sequence cut off at the end', () => {
    assert.equal(invalidUtf8Offset(Buffer.from('a€b')), null);
    assert.equal(invalidUtf8Offset(Buffer.from([0x61, 0xff, 0x62])), 1); // 0xff never occurs
    assert.equal(invalidUtf8Offset(Buffer.from([0x61, 0x62, 0xc0, 0x80])), 2); // overlong encoding of U+0000: 0xc0 never occurs
    assert.equal(invalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80])), 0); // a surrogate: 0xed takes only 0x80..0x9f next
    assert.equal(invalidUtf8Offset(Buffer.from([0x61, 0xe2, 0x82, 0x61])), 1); // € (e2 82 ac) interrupted by 'a'
    assert.equal(invalidUtf8Offset(Buffer.from([0x61, 0x80])), 1); // a continuation byte with no lead
    assert.equal(invalidUtf8Offset(Buffer.from([0x61, 0x62, 0xe2, 0x82])), 2); // € cut off by the end
  });

  test('JSON Lines: a bad row at its line and byte (it used to say "after line 0"); skip reads on', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'latin1.jsonl');
      const bad = Buffer.concat([Buffer.from('{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('", "chosen": " b", "rejected": " c"}')]);
      await writeFile(path, Buffer.concat([Buffer.from(`${SHORT}\n${SHORT}\n`), bad, Buffer.from(`\n${SHORT}\n`)]));
      await assert.rejects(loadPreferenceDataset(path), (e: unknown) => {
        assert.ok(e instanceof BadRowError);
        assert.equal(e.location.line, 3);
        // 0xe9 (Latin-1 'é') leads a 3-byte sequence that '"' breaks: byte 15 of line 3 (after '{"prompt": "caf'),
        // which starts at 2 × 45 = 90 (Python: "can't decode byte 0xe9 in position 15").
        assert.match(e.message, /latin1\.jsonl:3: not valid UTF-8 text \(byte 15 of the line is wrong, byte 105 of the file\)/);
        return true;
      });
      const dataset = await loadPreferenceDataset(path, { on_bad_row: 'skip' });
      assert.equal(dataset.pairs.length, 3);
      assert.deepEqual(
        dataset.report.entry('bad_row')?.examples.map((x) => x.location.line),
        [3],
      );
    });
  });

  test('a byte-order mark is no error; a JSON file is located by line and byte', async () => {
    await withDir(async (dir) => {
      const bom = join(dir, 'bom.jsonl');
      await writeFile(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${SHORT}\n`)]));
      assert.equal((await loadPreferenceDataset(bom)).pairs.length, 1);
      const json = join(dir, 'rows.json');
      await writeFile(json, Buffer.concat([Buffer.from(`[\n${SHORT},\n{"prompt": "`), Buffer.from([0xff]), Buffer.from('"}\n]\n')]));
      // Line 3 starts at 2 + 46 = 48 ('[\n', then SHORT and ',\n'); the bad byte follows '{"prompt": "' (12 bytes).
      await assert.rejects(
        loadPreferenceDataset(json),
        (e: unknown) =>
          e instanceof DataSourceError && /rows\.json: is not valid UTF-8 text: line 3 \(byte 60 of the file\) is wrong/.test(e.message),
      );
    });
  });
});
