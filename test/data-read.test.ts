// Reading rows: JSONL, JSON (array or splits), Parquet, each plain or gzipped; folders of shards,
// lists, split maps; bad rows located by file and line. Fixtures: test/fixtures/data/ (the
// binary ones from scripts/fixtures/gen_data_fixtures.py).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BadRowError, DataSourceError, loadPreferenceDataset, resolveDataFiles, SplitChoiceError } from '../src/data/index.js';
import { readRows } from '../src/data/read/read-rows.js';
import { withTempDir } from './helpers/tmp-dir.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);

/** The two rows of standard.jsonl, as every other standard fixture also holds them. */
const STANDARD_ROWS = [
  { prompt: 'a b c', chosen: ' d e', rejected: ' f' },
  { prompt: 'g h', chosen: ' i j', rejected: ' k l m' },
];

async function rowsOf(file: string, split: string | null = null) {
  const out = [];
  for await (const row of readRows([file], split, { maxRowBytes: 1 << 20 })) out.push(row);
  return out;
}

describe('readers', () => {
  for (const name of [
    'standard.jsonl',
    'standard.jsonl.gz',
    'standard.json',
    'standard.json.gz',
    'standard.parquet',
    'standard.parquet.gz',
  ]) {
    test(`${name} holds the 2 rows of standard.jsonl`, async () => {
      const rows = await rowsOf(fixture(name));
      assert.deepEqual(
        rows.map((r) => ('value' in r ? r.value : r.parseError)),
        STANDARD_ROWS,
      );
      assert.deepEqual(
        rows.map((r) => r.location.index),
        [0, 1],
      );
    });
  }

  test('locations: JSONL physical lines 1 and 2; JSON element start lines 2 and 7; Parquet lines null (rows across 2 row groups)', async () => {
    assert.deepEqual(
      (await rowsOf(fixture('standard.jsonl'))).map((r) => r.location.line),
      [1, 2],
    );
    // standard.json: "[" on line 1, the first element's "{" on line 2, the second on line 7.
    assert.deepEqual(
      (await rowsOf(fixture('standard.json.gz'))).map((r) => r.location.line),
      [2, 7],
    );
    assert.deepEqual(
      (await rowsOf(fixture('standard.parquet'))).map((r) => r.location.line),
      [null, null],
    );
  });

  test('a JSON object of splits: split picks the key; the element lines are those of that array', async () => {
    const train = await rowsOf(fixture('splits.json'), 'train');
    assert.deepEqual(
      train.map((r) => ('value' in r ? r.value : null)),
      STANDARD_ROWS,
    );
    assert.deepEqual(
      train.map((r) => r.location.line),
      [3, 4],
    );
    const testRows = await rowsOf(fixture('splits.json'), 'test');
    assert.equal(testRows.length, 1);
    assert.equal(testRows[0]?.location.line, 7); // splits.json line 6 opens "test": [, line 7 holds its element
    await assert.rejects(
      rowsOf(fixture('splits.json')),
      (e: unknown) => e instanceof DataSourceError && /several splits \(train, test\)/.test(e.message),
    );
    await assert.rejects(rowsOf(fixture('splits.json'), 'validation'), /has no split 'validation'; its splits are train, test/);
  });

  test('a .json file holding JSON Lines reads as JSON Lines', async () => {
    await withTempDir('alpha-dpo-data-', async (dir) => {
      const path = join(dir, 'lines.json');
      await writeFile(path, '{"a": 1}\n\n{"a": 2}\n');
      const rows = await rowsOf(path);
      assert.deepEqual(
        rows.map((r) => [r.location.line, 'value' in r ? r.value : null]),
        [
          [1, { a: 1 }],
          [3, { a: 2 }],
        ],
      );
    });
  });

  test('CRLF line ends, a byte-order mark and a last line without newline', async () => {
    await withTempDir('alpha-dpo-data-', async (dir) => {
      const path = join(dir, 'crlf.jsonl');
      await writeFile(path, '\ufeff{"a": 1}\r\n\r\n{"a": 2}');
      const rows = await rowsOf(path);
      assert.deepEqual(
        rows.map((r) => [r.location.line, 'value' in r ? r.value : null]),
        [
          [1, { a: 1 }],
          [3, { a: 2 }],
        ],
      );
    });
  });

  test('Parquet: nested message lists, GZIP-compressed pages, a null double', async () => {
    const rows = await rowsOf(fixture('ultrafeedback.parquet'));
    assert.equal(rows.length, 3);
    const second = rows[1];
    assert.ok(second !== undefined && 'value' in second);
    assert.deepEqual(second.value, {
      prompt: 'Hi',
      prompt_id: 'p2',
      chosen: [
        { content: 'Hi', role: 'user' },
        { content: 'Bye', role: 'assistant' },
      ],
      rejected: [
        { content: 'Hi', role: 'user' },
        { content: 'Hello', role: 'assistant' },
      ],
      messages: [
        { content: 'Hi', role: 'user' },
        { content: 'Bye', role: 'assistant' },
      ],
      score_chosen: 7,
      score_rejected: null,
    });
  });

  test('a corrupt gzip file and a file that is not Parquet are DataSourceErrors naming the file', async () => {
    await withTempDir('alpha-dpo-data-', async (dir) => {
      const gz = join(dir, 'broken.json.gz');
      await writeFile(gz, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
      await assert.rejects(rowsOf(gz), (e: unknown) => e instanceof DataSourceError && e.message.includes('not a valid gzip file'));
      const pq = join(dir, 'fake.parquet');
      await writeFile(pq, 'not parquet at all');
      await assert.rejects(
        rowsOf(pq),
        (e: unknown) => e instanceof DataSourceError && e.message.startsWith(pq) && /not a readable Parquet file/.test(e.message),
      );
    });
  });
});

describe('data files', () => {
  const shards = fixture('shards');

  test('a folder with train and test shards needs a split; train gives its 2 shards in name order', async () => {
    await assert.rejects(
      resolveDataFiles(shards),
      (e: unknown) => e instanceof DataSourceError && /several splits \(test, train\)/.test(e.message),
    );
    assert.deepEqual(await resolveDataFiles(shards, 'train'), [
      join(shards, 'train-00000-of-00002.jsonl'),
      join(shards, 'train-00001-of-00002.jsonl'),
    ]);
    await assert.rejects(resolveDataFiles(shards, 'validation'), /no file belongs to split 'validation'.*Splits seen: test, train/);
  });

  test('a list of files keeps its order; a split map picks its key', async () => {
    const list = [fixture('standard.parquet'), fixture('standard.jsonl')];
    assert.deepEqual(await resolveDataFiles(list), list);
    assert.deepEqual(await resolveDataFiles({ train: fixture('standard.jsonl'), test: [fixture('splits.json')] }, 'test'), [
      fixture('splits.json'),
    ]);
    await assert.rejects(
      resolveDataFiles({ train: 'a.jsonl', test: 'b.jsonl' }),
      /several splits \(train, test\) and none was chosen\. Choose one with dataset_splits: \[train, test\]/,
    );
    await assert.rejects(
      resolveDataFiles({ prefs: 'a.jsonl', held_out: 'b.jsonl' }, 'train'),
      /no split 'train'; splits given: prefs, held_out\. Choose one with dataset_splits: \[prefs, held_out\] .*--split prefs/,
    );
  });

  test('a missing path and an unknown extension are DataSourceErrors', async () => {
    await assert.rejects(resolveDataFiles(fixture('nope.jsonl')), /nope.jsonl: no such file or folder/);
    await assert.rejects(resolveDataFiles(fixture('fake-tokenizer.ts')), /unknown data file type/);
  });

  test('loading the train shards gives the 2 standard pairs, in shard order', async () => {
    const dataset = await loadPreferenceDataset(shards, {}, { split: 'train' });
    assert.equal(dataset.rows, 2);
    assert.deepEqual(
      dataset.pairs.map((p) => [p.prompt, p.source.file.endsWith('train-00000-of-00002.jsonl')]),
      [
        ['a b c', true],
        ['g h', false],
      ],
    );
  });
});

describe('split errors say which splits exist and how to choose one', () => {
  test('a folder of test and validation shards: no train split, and none chosen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-data-'));
    try {
      await writeFile(join(dir, 'test-00000.jsonl'), '{"prompt": "a", "chosen": " b", "rejected": " c"}\n');
      await writeFile(join(dir, 'validation-00000.jsonl'), '{"prompt": "a", "chosen": " b", "rejected": " c"}\n');
      // What `alpha-dpo train` shows: it asks for dataset_splits[0] ('train' by default), then for the whole folder.
      await assert.rejects(
        loadPreferenceDataset(dir, {}, { split: 'train' }),
        (e: unknown) =>
          e instanceof SplitChoiceError &&
          e.split === 'train' &&
          e.splits.join() === 'test,validation' &&
          /no file belongs to split 'train'/.test(e.message) &&
          /Splits seen: test, validation\. Choose one with dataset_splits: \[test, validation\] in a training config/.test(e.message) &&
          /--split test for alpha-dpo data commands/.test(e.message),
      );
      await assert.rejects(
        resolveDataFiles(dir),
        (e: unknown) =>
          e instanceof SplitChoiceError &&
          e.split === null &&
          /holds several splits \(test, validation\) and none was chosen/.test(e.message) &&
          /dataset_splits: \[test, validation\]/.test(e.message) &&
          /\{ train: files, test: files \}/.test(e.message),
      );
      assert.equal((await loadPreferenceDataset(dir, {}, { split: 'validation' })).pairs.length, 1);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  test('a JSON object of splits without the one asked for', async () => {
    await assert.rejects(
      rowsOf(fixture('splits.json'), 'validation'),
      (e: unknown) =>
        e instanceof SplitChoiceError &&
        e.splits.join() === 'train,test' &&
        /has no split 'validation'; its splits are train, test\. Choose one with dataset_splits: \[train, test\]/.test(e.message),
    );
  });
});

describe('symbolic links in a dataset folder are followed', () => {
  const row = (prompt: string) => `${JSON.stringify({ prompt, chosen: ' yes', rejected: ' no' })}\n`;

  /** store/ holds the real data; ds/ is the dataset folder, made of links into it. */
  async function linkedDataset(): Promise<{ root: string; ds: string }> {
    const root = await mkdtemp(join(tmpdir(), 'alpha-dpo-data-'));
    await mkdir(join(root, 'store', 'shards'), { recursive: true });
    await writeFile(join(root, 'store', 'shards', 'train-00000.jsonl'), row('in a linked folder'));
    await writeFile(join(root, 'store', 'blob'), row('a linked file'));
    const ds = join(root, 'ds');
    await mkdir(ds);
    await symlink(join(root, 'store', 'shards'), join(ds, 'part-a'));
    await symlink(join(root, 'store', 'blob'), join(ds, 'part-b.jsonl'));
    await writeFile(join(ds, 'part-c.jsonl'), row('a plain file'));
    return { root, ds };
  }

  test('a linked folder and a linked file read as if they were there, in name order', async () => {
    const { root, ds } = await linkedDataset();
    try {
      // part-a (a link to a folder) used to be skipped without a word: 2 files, not 3.
      assert.deepEqual(await resolveDataFiles(ds), [
        join(ds, 'part-a', 'train-00000.jsonl'),
        join(ds, 'part-b.jsonl'),
        join(ds, 'part-c.jsonl'),
      ]);
      const dataset = await loadPreferenceDataset(ds);
      assert.deepEqual(
        dataset.pairs.map((p) => p.prompt),
        ['in a linked folder', 'a linked file', 'a plain file'],
      );
      // A linked folder names a split by the link's name, as a folder does by its own.
      assert.deepEqual(await resolveDataFiles(ds, 'part-a'), [join(ds, 'part-a', 'train-00000.jsonl')]);
    } finally {
      await rm(root, { recursive: true });
    }
  });

  test('a link to a folder that contains it is an error naming the link, not an endless walk', async () => {
    const { root, ds } = await linkedDataset();
    try {
      await mkdir(join(ds, 'deeper'));
      await symlink(ds, join(ds, 'deeper', 'back-up'));
      await assert.rejects(
        resolveDataFiles(ds),
        (e: unknown) =>
          e instanceof DataSourceError &&
          e.path === join(ds, 'deeper', 'back-up') &&
          /is a symbolic link to .*, a folder that contains it/.test(e.message),
      );
      // Two links to one folder that is not above them are no loop: it is read once per link.
      await rm(join(ds, 'deeper', 'back-up'));
      await symlink(join(root, 'store', 'shards'), join(ds, 'deeper', 'again'));
      assert.equal((await loadPreferenceDataset(ds)).pairs.length, 4);
    } finally {
      await rm(root, { recursive: true });
    }
  });

  test('a broken link is an error naming it', async () => {
    const { root, ds } = await linkedDataset();
    try {
      await symlink(join(root, 'nowhere'), join(ds, 'gone'));
      await assert.rejects(
        resolveDataFiles(ds),
        (e: unknown) => e instanceof DataSourceError && /gone: is a broken symbolic link/.test(e.message),
      );
    } finally {
      await rm(root, { recursive: true });
    }
  });
});

describe('bad rows', () => {
  // bad-rows.jsonl: line 1 good, 2 blank, 3 no 'rejected', 4 not JSON, 5 a list, 6 'chosen' a number, 7 good.
  test('on_bad_row: error (the default) stops at line 3 with file, line and reason', async () => {
    await assert.rejects(loadPreferenceDataset(fixture('bad-rows.jsonl')), (e: unknown) => {
      assert.ok(e instanceof BadRowError);
      assert.equal(e.location.line, 3);
      assert.equal(e.location.index, 1);
      assert.match(e.message, /bad-rows\.jsonl:3: missing the 'rejected' column that format standard needs/);
      assert.match(e.message, /set on_bad_row: skip \(or warn\)/);
      return true;
    });
  });

  test('on_bad_row: skip keeps the 2 good pairs and counts the 4 bad rows at lines 3, 4, 5, 6', async () => {
    const dataset = await loadPreferenceDataset(fixture('bad-rows.jsonl'), { on_bad_row: 'skip' });
    assert.equal(dataset.rows, 6); // the blank line 2 is no row
    assert.equal(dataset.pairs.length, 2);
    const bad = dataset.report.entry('bad_row');
    assert.equal(bad?.count, 4);
    assert.deepEqual(
      bad?.examples.map((e) => e.location.line),
      [3, 4, 5, 6],
    );
    assert.match(bad?.examples[1]?.detail ?? '', /^not valid JSON/);
    assert.equal(bad?.examples[2]?.detail, 'a row must be a JSON object, got a list');
    assert.equal(bad?.examples[3]?.detail, "'chosen' must be a string in format standard, got a number");
  });

  test('on_bad_row: warn also reports each skipped row once', async () => {
    const warnings: string[] = [];
    const dataset = await loadPreferenceDataset(fixture('bad-rows.jsonl'), { on_bad_row: 'warn' }, { onWarning: (m) => warnings.push(m) });
    assert.equal(dataset.pairs.length, 2);
    assert.equal(warnings.length, 4);
    assert.match(warnings[0] as string, /^skipped .*bad-rows\.jsonl:3: missing the 'rejected' column/);
  });

  test('messages: unknown role, non-string content, an extra key, a message that is not an object (lines 2-5)', async () => {
    await assert.rejects(
      loadPreferenceDataset(fixture('bad-messages.jsonl')),
      /bad-messages\.jsonl:2: 'chosen'\[0\]\.role 'robot' is not a known role/,
    );
    const dataset = await loadPreferenceDataset(fixture('bad-messages.jsonl'), { on_bad_row: 'skip' });
    assert.equal(dataset.pairs.length, 1);
    assert.deepEqual(
      dataset.report.entry('bad_row')?.examples.map((e) => [e.location.line, e.detail]),
      [
        [2, "'chosen'[0].role 'robot' is not a known role (system, developer, user, assistant, tool)"],
        [3, "'chosen'[0].content must be a string, got a number"],
        [4, "'prompt'[0] has key 'name' besides role and content, which cannot be rendered through the chat template"],
        [5, '\'prompt\'[0] must be a message object {"role": ..., "content": ...}, got a string'],
      ],
    );
  });

  test('JSON arrays report the line where the element starts: element 1 of bad-rows.json starts on line 3', async () => {
    await assert.rejects(loadPreferenceDataset(fixture('bad-rows.json')), /bad-rows\.json:3: missing the 'rejected' column/);
    const dataset = await loadPreferenceDataset(fixture('bad-rows.json'), { on_bad_row: 'skip' });
    assert.deepEqual(
      dataset.report.entry('bad_row')?.examples.map((e) => [e.location.line, e.location.index]),
      [
        [3, 1],
        [5, 2],
      ],
    );
  });

  test('Parquet rows are reported by 1-based row number: ultrafeedback.parquet row 3 has role robot', async () => {
    await assert.rejects(
      loadPreferenceDataset(fixture('ultrafeedback.parquet')),
      /ultrafeedback\.parquet row 3: 'chosen'\[1\]\.role 'robot' is not a known role/,
    );
  });
});
