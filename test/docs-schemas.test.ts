// The config tables of the docs agree with the schemas they restate: every key has a row, every
// row is a key, and each row's default is the schema's (docs/data.md, docs/losses.md,
// docs/training.md). Keys the trainer accepts without effect are named in docs/training.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DATA_CONFIG_SCHEMA } from '../src/data/index.js';
import { CONFIG_SCHEMA } from '../src/losses/config.js';
import { TRAIN_CONFIG_SCHEMA } from '../src/train/train-config.js';
import { keyTableRows, parseDefaultCell, readDoc } from './helpers/doc-tables.js';

type Schema = Record<string, { type: string; default?: unknown }>;

function assertTableMatchesSchema(docName: string, schema: Schema): void {
  const rows = keyTableRows(readDoc(docName));
  const documented = new Map(rows.map((r) => [r.key, r]));
  for (const [key, field] of Object.entries(schema)) {
    if (field.type === 'note') continue;
    const row = documented.get(key);
    assert.ok(row !== undefined, `docs/${docName} has no row for '${key}'`);
    assert.deepEqual(
      parseDefaultCell(row.defaultCell),
      field.default,
      `docs/${docName}:${row.line}: the default of '${key}' is ${JSON.stringify(field.default) ?? 'none'} in the schema, '${row.defaultCell}' in the doc`,
    );
  }
  for (const row of rows) {
    assert.ok(
      row.key in schema && schema[row.key]!.type !== 'note',
      `docs/${docName}:${row.line}: '${row.key}' is not a key of the schema`,
    );
  }
}

describe('config tables in the docs', () => {
  test('the default cell reader: JSON in backticks, quoted strings, "—" for no default', () => {
    assert.equal(parseDefaultCell('`"auto"`'), 'auto');
    assert.equal(parseDefaultCell("`'ema'`"), 'ema');
    assert.equal(parseDefaultCell('1e-6'), 1e-6);
    assert.equal(parseDefaultCell('null (1 each)'), null);
    assert.deepEqual(parseDefaultCell('`["train","test"]`'), ['train', 'test']);
    assert.equal(parseDefaultCell('— (required)'), undefined);
    assert.throws(() => parseDefaultCell('sometimes'), /cannot read the default/);
  });

  test('docs/data.md: DATA_CONFIG_SCHEMA', () => assertTableMatchesSchema('data.md', DATA_CONFIG_SCHEMA));

  test('docs/losses.md: the loss CONFIG_SCHEMA', () => assertTableMatchesSchema('losses.md', CONFIG_SCHEMA));

  test('docs/training.md: TRAIN_CONFIG_SCHEMA, and every key accepted without effect is named', () => {
    assertTableMatchesSchema('training.md', TRAIN_CONFIG_SCHEMA);
    const doc = readDoc('training.md');
    for (const [key, field] of Object.entries(TRAIN_CONFIG_SCHEMA)) {
      if (field.type === 'note') assert.ok(doc.includes(`\`${key}\``), `docs/training.md does not name '${key}', which has no effect`);
    }
  });
});
