// Deterministic release: tidy() disposes what its function created and did not return.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Tensor, torch } from '../src/index.js';

describe('tidy and keep', () => {
  test('intermediates are disposed, the result survives', () => {
    const before = torch.liveTensorCount();
    let inner: Tensor | undefined;
    const out = torch.tidy(() => {
      inner = torch.ones([3]).mul(2);
      return inner.add(1);
    });
    assert.equal(inner?.isDisposed, true);
    assert.deepEqual(out.toNumbers(), [3, 3, 3]);
    assert.equal(torch.liveTensorCount(), before + 1);
    out.dispose();
    assert.equal(torch.liveTensorCount(), before);
  });

  test('results inside arrays, objects and Maps survive; nested scopes hand results outward', () => {
    const before = torch.liveTensorCount();
    const result = torch.tidy(() => {
      const a = torch.ones([1]);
      const nested = torch.tidy(() => ({ b: torch.zeros([1]), tmp: undefined as Tensor | undefined }));
      const m = new Map([['c', torch.full([1], 5)]]);
      torch.ones([10]); // dropped
      return { list: [a], nested, m };
    });
    assert.equal(result.list[0]?.isDisposed, false);
    assert.equal(result.nested.b.isDisposed, false);
    assert.deepEqual(result.m.get('c')?.toNumbers(), [5]);
    assert.equal(torch.liveTensorCount(), before + 3);
    for (const t of [result.list[0], result.nested.b, result.m.get('c')]) t?.dispose();
  });

  test('keep() lets a tensor outlive its scope; a throw still releases everything else', () => {
    const before = torch.liveTensorCount();
    let kept: Tensor | undefined;
    assert.throws(() =>
      torch.tidy(() => {
        kept = torch.keep(torch.ones([2]));
        torch.zeros([2]);
        throw new Error('fail');
      }),
    );
    assert.equal(kept?.isDisposed, false);
    assert.equal(torch.liveTensorCount(), before + 1);
    kept?.dispose();
    assert.equal(torch.scopeDepth(), 0);
  });

  test('async functions are refused', () => {
    assert.throws(() => torch.tidy(async () => torch.ones([1])), /synchronous/);
  });

  test('using-declaration disposal via Symbol.dispose', () => {
    const t = torch.ones([1]);
    t[Symbol.dispose]();
    assert.equal(t.isDisposed, true);
  });
});
