// The data config schema: defaults, validation with useful messages, and docs/data.md agreeing
// with the odd-row kinds table (its settings table is checked in docs-schemas.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataConfigError, ODD_ROW_KINDS, resolveDataConfig } from '../src/data/index.js';

const DOC = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'data.md'), 'utf8');

describe('data config', () => {
  test('defaults are those of the α-DPO/SimPO runs: max_length 2048, max_prompt_length 1800, keep_end; on_bad_row error', () => {
    const config = resolveDataConfig({});
    assert.equal(config.max_length, 2048);
    assert.equal(config.max_prompt_length, 1800);
    assert.equal(config.truncation_mode, 'keep_end');
    assert.equal(config.on_bad_row, 'error');
    assert.equal(config.dataset_format, 'auto');
    assert.equal(config.pad_to_multiple_of, null);
  });

  test('unknown keys, wrong types, ranges and the cross-field rule are DataConfigErrors naming the key', () => {
    assert.throws(
      () => resolveDataConfig({ max_lenght: 10 }),
      (e: unknown) => e instanceof DataConfigError && e.field === 'max_lenght' && /Did you mean 'max_length'/.test(e.message),
    );
    assert.throws(() => resolveDataConfig({ truncation_mode: 'keep_left' }), /expected one of 'keep_end', 'keep_start'/);
    assert.throws(() => resolveDataConfig({ max_length: 1.5 }), /max_length: expected a whole number or null, got 1.5/);
    assert.throws(() => resolveDataConfig({ pad_to_multiple_of: 0 }), /pad_to_multiple_of: 0 is out of range: it must be ≥ 1/);
    assert.throws(() => resolveDataConfig({ max_length: 512 }), /max_prompt_length: 1800 must be below max_length \(512\)/);
    assert.throws(() => resolveDataConfig({ shuffle: 'yes' }), /shuffle: expected true or false/);
    assert.equal(resolveDataConfig({ max_length: 512, max_prompt_length: null }).max_prompt_length, null);
  });

  test('docs/data.md lists every odd-row kind with its action', () => {
    for (const [kind, spec] of Object.entries(ODD_ROW_KINDS)) {
      assert.ok(DOC.includes(`| \`${kind}\` | ${spec.action} |`), `docs/data.md's row for ${kind}`);
    }
  });
});
