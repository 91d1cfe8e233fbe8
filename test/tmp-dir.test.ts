// The temporary-folder helpers of test/helpers/tmp-dir.ts: folders exist while in use and are
// gone afterwards, also when the function using them throws.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDirsRemovedAfterAll, withTempDir } from './helpers/tmp-dir.js';

describe('withTempDir', () => {
  test('gives an empty folder under the OS temp folder, with the prefix, and removes it with its contents', async () => {
    let seen = '';
    const result = await withTempDir('alpha-dpo-helper-', (dir) => {
      seen = dir;
      assert.equal(dirname(dir), tmpdir());
      assert.match(basename(dir), /^alpha-dpo-helper-.{6}$/);
      assert.deepEqual(readdirSync(dir), []);
      writeFileSync(join(dir, 'file.txt'), 'x');
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(existsSync(seen), false);
  });

  test('removes the folder and rethrows when the function throws', async () => {
    let seen = '';
    const failure = new Error('inside');
    await assert.rejects(
      withTempDir('alpha-dpo-helper-', async (dir) => {
        seen = dir;
        throw failure;
      }),
      (e: unknown) => e === failure,
    );
    assert.ok(seen !== '' && !existsSync(seen));
  });
});

const madeInSuite: string[] = [];
describe('tempDirsRemovedAfterAll', () => {
  const tempDir = tempDirsRemovedAfterAll('alpha-dpo-helper-');
  test('each call makes a new folder, kept until the suite ends', async () => {
    madeInSuite.push(await tempDir(), await tempDir());
    assert.notEqual(madeInSuite[0], madeInSuite[1]);
    assert.ok(madeInSuite.every((d) => existsSync(d)));
  });
});
test('the folders of the suite above are gone once it has ended', () => {
  assert.equal(madeInSuite.length, 2);
  assert.ok(madeInSuite.every((d) => !existsSync(d)));
});
