// Creation, dtypes, data in and out, conversion, metadata and display.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DType, torch } from '../src/index.js';

describe('dtype round trips', () => {
  // Values chosen to be exactly representable in each type, so equality must be exact.
  const exact: Record<DType, number[]> = {
    float32: [0, -1.5, 3.25, 2 ** -100, 65504.5, Number.POSITIVE_INFINITY],
    float64: [0, -1.5, Math.PI, 1e-300, 2 ** 60 + 2 ** 8],
    float16: [0, -1.5, 65504, 2 ** -24, 0.0999755859375],
    bfloat16: [0, -1.5, 3.3895313892515355e38, 2 ** -126, 0.099609375],
    int64: [0, -1, 2 ** 40, -(2 ** 53) + 1],
    int32: [0, -1, 2 ** 31 - 1, -(2 ** 31)],
    uint8: [0, 1, 128, 255],
    bool: [0, 1, 1, 0],
  };
  for (const [dtype, values] of Object.entries(exact) as [DType, number[]][]) {
    test(`${dtype}: tensor → toArray is exact`, () => {
      const t = torch.tensor(dtype === 'bool' ? values.map(Boolean) : values, { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual([...t.shape], [values.length]);
      assert.deepEqual(t.toNumbers(), values);
      const arrayType = {
        float32: Float32Array,
        float16: Float32Array,
        bfloat16: Float32Array,
        float64: Float64Array,
        int64: BigInt64Array,
        int32: Int32Array,
        uint8: Uint8Array,
        bool: Uint8Array,
      }[dtype];
      assert.ok(t.toArray() instanceof arrayType, `toArray type for ${dtype}`);
    });
    test(`${dtype}: through float64 and back is exact`, () => {
      const t = torch.tensor(dtype === 'bool' ? values.map(Boolean) : values, { dtype });
      assert.ok(t.to('float64').to(dtype).equal(t));
    });
  }

  test('int64 beyond 2^53 from bigint', () => {
    const big = [2n ** 62n + 1n, -(2n ** 63n)];
    const t = torch.tensor(big);
    assert.equal(t.dtype, 'int64');
    assert.deepEqual([...(t.toArray() as BigInt64Array)], big);
  });

  test('rounding to float16 and bfloat16 follows IEEE round-to-nearest-even', () => {
    // 1 + 2^-11 is halfway between float16 neighbours 1 and 1 + 2^-10: ties to even → 1.
    assert.deepEqual(torch.tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11], { dtype: 'float16' }).toNumbers(), [1, 1 + 2 ** -9]);
    // bfloat16 keeps 8 significant bits: 1 + 2^-8 ties to 1, 1 + 3·2^-8 ties to 1 + 2^-6.
    assert.deepEqual(torch.tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8], { dtype: 'bfloat16' }).toNumbers(), [1, 1 + 2 ** -6]);
  });

  test('TypedArray sources keep their type', () => {
    assert.equal(torch.tensor(new Float64Array([1, 2])).dtype, 'float64');
    assert.equal(torch.tensor(new Int32Array([1, 2])).dtype, 'int32');
    assert.equal(torch.tensor(new BigInt64Array([1n])).dtype, 'int64');
    assert.equal(torch.tensor(new Uint8Array([1])).dtype, 'uint8');
    assert.equal(torch.tensor(new Uint8Array([1, 0]), { dtype: 'bool' }).dtype, 'bool');
  });
});

describe('creation', () => {
  test('nested arrays give their shape; ragged arrays are an error', () => {
    const t = torch.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual([...t.shape], [2, 3]);
    assert.deepEqual(t.tolist(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged/);
    assert.equal(torch.tensor(2.5).ndim, 0);
    assert.equal(torch.tensor(2.5).item(), 2.5);
  });

  test('factories', () => {
    assert.deepEqual(torch.zeros([2, 2]).toNumbers(), [0, 0, 0, 0]);
    assert.deepEqual(torch.ones(3, { dtype: 'int32' }).toNumbers(), [1, 1, 1]);
    assert.deepEqual(torch.full([2], 7.5).toNumbers(), [7.5, 7.5]);
    assert.deepEqual([...torch.empty([4, 0]).shape], [4, 0]);
    assert.deepEqual(torch.arange(4).toNumbers(), [0, 1, 2, 3]);
    assert.equal(torch.arange(4).dtype, 'int64');
    assert.deepEqual(torch.arange(1, 2, 0.25).toNumbers(), [1, 1.25, 1.5, 1.75]);
    assert.equal(torch.arange(1, 2, 0.25).dtype, 'float32');
    assert.deepEqual(torch.eye(2).toNumbers(), [1, 0, 0, 1]);
    const like = torch.zerosLike(torch.ones([2, 3], { dtype: 'float64' }));
    assert.equal(like.dtype, 'float64');
    assert.deepEqual([...like.shape], [2, 3]);
    assert.equal(torch.onesLike(like, { dtype: 'int64' }).dtype, 'int64');
    assert.deepEqual(torch.fullLike(like, 2).toNumbers(), [2, 2, 2, 2, 2, 2]);
  });

  test('random tensors are reproducible under manualSeed and respect their ranges', () => {
    torch.manualSeed(42);
    const a = torch.randn([1000]);
    torch.manualSeed(42);
    const b = torch.randn([1000]);
    assert.ok(a.equal(b));
    const mean = a.mean().item();
    const std = a.std().item();
    assert.ok(Math.abs(mean) < 0.15 && Math.abs(std - 1) < 0.1, `randn mean ${mean} std ${std}`);
    const r = torch.rand([1000]);
    assert.ok(r.min().item() >= 0 && r.max().item() < 1);
    const k = torch.randint(3, 7, [1000]);
    assert.equal(k.dtype, 'int64');
    assert.ok(k.min().item() >= 3 && k.max().item() <= 6);
    assert.equal(torch.randint(5, [2, 2]).max().item() < 5, true);
  });

  test('RNG state can be saved and restored (checkpoints)', () => {
    torch.manualSeed(7);
    const state = torch.getRngState();
    const a = torch.rand([5]).toNumbers();
    torch.rand([3]);
    torch.setRngState(state);
    assert.deepEqual(torch.rand([5]).toNumbers(), a);
  });

  test('multinomial draws only from non-zero weights', () => {
    const draws = torch.tensor([0, 1, 0, 3]).multinomial(200, true).toNumbers();
    assert.ok(draws.every((d) => d === 1 || d === 3));
  });
});

describe('conversion and metadata', () => {
  test('to() converts dtype and is a no-op when nothing changes', () => {
    const t = torch.tensor([1.7, -2.7]);
    assert.deepEqual(t.to('int64').toNumbers(), [1, -2]);
    assert.equal(t.to('cpu').dtype, 'float32');
    const same = t.to({ dtype: 'float32' });
    same.fill_(0); // shares memory, as in PyTorch
    assert.deepEqual(t.toNumbers(), [0, 0]);
    const copy = t.to({ dtype: 'float32', copy: true });
    copy.fill_(1);
    assert.deepEqual(t.toNumbers(), [0, 0]);
  });

  test('cuda reports availability; asking for cuda without it is an error, not a crash', () => {
    if (torch.cuda.isAvailable()) {
      const t = torch.ones([2], { device: 'cuda' });
      assert.equal(t.device, 'cuda:0');
      assert.deepEqual(t.to('cpu').toNumbers(), [1, 1]);
    } else {
      assert.equal(torch.cuda.deviceCount(), 0);
      assert.throws(() => torch.ones([2], { device: 'cuda' }), { name: 'TorchError' });
    }
  });

  test('views, strides and contiguity', () => {
    const t = torch.arange(6).reshape([2, 3]);
    const tt = t.transpose(0, 1);
    assert.deepEqual(tt.strides, [1, 3]);
    assert.equal(tt.isContiguous, false);
    assert.equal(tt.contiguous().isContiguous, true);
    assert.equal(t.size(-1), 3);
    assert.equal(t.numel, 6);
    assert.deepEqual([...t.unsqueeze(0).shape], [1, 2, 3]);
    assert.deepEqual([...t.unsqueeze(0).squeeze(0).shape], [2, 3]);
    assert.deepEqual(t.slice(1, 1, null).toNumbers(), [1, 2, 4, 5]);
  });

  test('in-place ops used by optimisers', () => {
    const p = torch.tensor([1, 2, 3], { dtype: 'float64' });
    const g = torch.tensor([0.5, -1, 2], { dtype: 'float64' });
    p.mul_(2).add_(g, -1); // [1.5, 5, 4]
    assert.deepEqual(p.toNumbers(), [1.5, 5, 4]);
    p.addcmul_(g, g, 2); // + 2 g² = [2, 7, 12]
    assert.deepEqual(p.toNumbers(), [2, 7, 12]);
    p.addcdiv_(g, torch.tensor([1, 2, 4], { dtype: 'float64' }), 4); // + 4 g / d = [4, 5, 14]
    assert.deepEqual(p.toNumbers(), [4, 5, 14]);
    p.lerp_(torch.zerosLike(p), 0.5);
    assert.deepEqual(p.toNumbers(), [2, 2.5, 7]);
    p.clamp_(2.2, 5);
    assert.deepEqual(p.toNumbers(), [2.2, 2.5, 5]);
    p.copy_(g);
    assert.deepEqual(p.toNumbers(), [0.5, -1, 2]);
    p.zero_();
    assert.deepEqual(p.toNumbers(), [0, 0, 0]);
    assert.equal(p.fill_(3), p);
  });

  test('integer scalars keep integer tensors integral; fractional scalars promote', () => {
    const i = torch.tensor([1, 2], { dtype: 'int64' });
    assert.equal(i.mul(3).dtype, 'int64');
    assert.equal(i.mul(0.5).dtype, 'float32');
    assert.equal(torch.tensor([1, 2]).add(1).dtype, 'float32');
  });

  test('toString is readable', () => {
    assert.equal(
      torch
        .tensor([
          [1, -2.5],
          [3, 4],
        ])
        .toString(),
      'tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])',
    );
    assert.equal(torch.tensor([1, 2], { dtype: 'int64' }).toString(), 'tensor([1, 2])');
    assert.equal(
      torch.tensor([1], { dtype: 'float64', requiresGrad: true }).toString(),
      'tensor([1.0000], dtype=float64, requiresGrad=true)',
    );
    assert.equal(torch.tensor([true, false]).toString(), 'tensor([ true, false])');
    assert.match(torch.zeros([2000]).toString(), /^tensor\(\[0\.0000, 0\.0000, 0\.0000, \.\.\., 0\.0000, 0\.0000, 0\.0000\]\)$/);
  });

  test('threads can be set and read', () => {
    const n = torch.getNumThreads();
    torch.setNumThreads(1);
    assert.equal(torch.getNumThreads(), 1);
    torch.setNumThreads(n);
    assert.throws(() => torch.setNumThreads(0), /at least 1/);
  });
});
