// libtorch exceptions become JS errors carrying libtorch's message; the process never aborts.
// Each case would abort a process that let a C++ exception cross the N-API boundary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { torch } from '../src/index.js';

const torchError = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof Error, 'an Error instance');
  assert.equal(e.name, 'TorchError');
  assert.match(e.message, pattern);
  assert.doesNotMatch(e.message, /Exception raised from|frame #/, 'no C++ backtrace in the message');
  return true;
};

describe('errors, never crashes', () => {
  test('shape mismatch', () => {
    assert.throws(() => torch.ones([2, 3]).matmul(torch.ones([2, 3])), torchError(/cannot be multiplied \(2x3 and 2x3\)/));
    assert.throws(
      () => torch.ones([2, 3]).add(torch.ones([4])),
      torchError(/size of tensor a \(3\) must match the size of tensor b \(4\)/),
    );
    assert.throws(() => torch.ones([6]).view([4, 2]), torchError(/shape '\[4, 2\]' is invalid for input of size 6/));
  });

  test('dtype mismatch', () => {
    assert.throws(() => torch.ones([2, 2]).matmul(torch.ones([2, 2], { dtype: 'float64' })), torchError(/expected .*(dtype|scalar type)/i));
    assert.throws(() => torch.ones([2], { dtype: 'int64' }).requiresGrad_(true), torchError(/floating point/));
  });

  test('index out of range', () => {
    assert.throws(() => torch.ones([3, 2]).indexSelect(0, torch.tensor([5], { dtype: 'int64' })), torchError(/out of range|index/i));
    assert.throws(() => torch.ones([3]).transpose(0, 3), torchError(/Dimension out of range/));
    assert.throws(() => torch.embedding(torch.ones([4, 2]), torch.tensor([9], { dtype: 'int64' })), torchError(/index out of range/));
  });

  test('use after dispose', () => {
    const t = torch.ones([2]);
    t.dispose();
    t.dispose(); // a second dispose does nothing
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), torchError(/used after dispose/));
    assert.throws(() => torch.ones([2]).add(t), torchError(/used after dispose/));
    assert.equal(t.toString(), 'tensor(<disposed>)');
  });

  test('bad arguments are TypeErrors that name what was expected', () => {
    // @ts-expect-error: wrong type on purpose
    assert.throws(() => torch.ones([2]).reshape('a'), { name: 'TypeError', message: /expected an integer or an array of integers/ });
    assert.throws(() => torch.ones([2]).narrow(0, 0.5, 1), { name: 'TypeError', message: /expected an integer/ });
    // @ts-expect-error: not a tensor
    assert.throws(() => torch.ones([2]).add({}), { name: 'TypeError', message: /expected a Tensor/ });
    assert.throws(() => torch.tensor([1]).to('float8' as never), /unknown dtype 'float8'/);
  });

  test('other libtorch checks', () => {
    assert.throws(() => torch.cat([]), torchError(/expected a non-empty list|non-empty/));
    assert.throws(() => torch.ones([2]).sum().backward(), torchError(/does not require grad/));
    assert.throws(
      () => torch.ones([2], { requiresGrad: true }).backward(),
      torchError(/grad can be implicitly created only for scalar outputs/),
    );
    assert.throws(
      () => torch.ones([2]).crossEntropy(torch.tensor([0], { dtype: 'int64' }), -100, 'avg' as never),
      /reduction must be 'none', 'mean' or 'sum'/,
    );
  });

  test('the process survives a burst of errors (checked in a child process)', () => {
    const script = `
      import { torch } from './src/index.ts';
      let caught = 0;
      for (let i = 0; i < 2000; i++) {
        try { torch.ones([2, 3]).matmul(torch.ones([4, 5])); } catch { caught++; }
        try { torch.ones([1]).indexSelect(0, torch.tensor([7], { dtype: 'int64' })); } catch { caught++; }
      }
      console.log('caught', caught);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /caught 4000/);
  });
});
