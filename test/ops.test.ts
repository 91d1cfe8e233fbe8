// Every operation below is compared with PyTorch's own result for the same float64 inputs
// (test/fixtures/ops.json, written by scripts/fixtures/gen_ops.py). Relative tolerance 1e-12:
// the same ATen kernels run on both sides, so the results should agree to rounding.
import { describe, test } from 'node:test';
import { type Tensor, torch } from '../src/index.js';
import { assertClose, type FixtureTensor, fromFixture, readFixture } from './helpers.js';

interface OpsFixture {
  inputs: Record<'X' | 'Y' | 'P', FixtureTensor>;
  cases: Record<string, { out: FixtureTensor | FixtureTensor[] }>;
}

const fx = readFixture<OpsFixture>('ops.json');
const i64 = (data: number[] | number[][]) => torch.tensor(data, { dtype: 'int64' });
const f64 = (data: number[]) => torch.tensor(data, { dtype: 'float64' });

const ops: Record<string, (X: Tensor, Y: Tensor, P: Tensor) => Tensor | Tensor[]> = {
  exp: (X) => X.exp(),
  log: (_X, _Y, P) => P.log(),
  log1p: (_X, _Y, P) => P.log1p(),
  sqrt: (_X, _Y, P) => P.sqrt(),
  rsqrt: (_X, _Y, P) => P.rsqrt(),
  pow_scalar: (X) => X.pow(3),
  pow_tensor: (_X, Y, P) => P.pow(Y),
  abs: (X) => X.abs(),
  neg: (X) => X.neg(),
  tanh: (X) => X.tanh(),
  sigmoid: (X) => X.sigmoid(),
  logSigmoid: (X) => X.logSigmoid(),
  softplus: (X) => X.softplus(2, 20),
  relu: (X) => X.relu(),
  gelu: (X) => X.gelu(),
  gelu_tanh: (X) => X.gelu('tanh'),
  silu: (X) => X.silu(),
  clamp: (X) => X.clamp(-1, 1.5),
  sign: (X) => X.sign(),
  add: (X, Y) => X.add(Y),
  add_alpha: (X, Y) => torch.add(X, Y, 2.5),
  sub_scalar: (X) => X.sub(0.5),
  mul: (X, Y) => X.mul(Y),
  div: (X, _Y, P) => X.div(P),
  sum: (X) => X.sum(),
  sum_dim: (X) => X.sum(1, true),
  mean_dims: (X) => X.mean([0, 1]),
  max_dim: (X) => X.max(1),
  min_all: (X) => X.min(),
  argmax: (X) => X.argmax(1),
  std_unbiased: (X) => X.std(1),
  std_biased: (X) => X.std(1, false),
  var: (X) => X.var(0),
  logsumexp: (X) => X.logsumexp(1),
  norm: (X) => X.norm(2, 1),
  cumsum: (X) => X.cumsum(1),
  matmul: (X, Y) => X.matmul(Y.transpose(0, 1)),
  linear: (X, Y) => X.linear(Y, f64([0.1, -0.2, 0.3])),
  softmax: (X) => X.softmax(-1),
  logSoftmax: (X) => X.logSoftmax(0),
  layerNorm: (X) => X.layerNorm([4], f64([1, 0.5, -1, 2]), f64([0, 0.1, 0.2, 0.3]), 1e-5),
  embedding: (X) => torch.embedding(X, i64([2, 0, 2])),
  crossEntropy_ignore: (X) => X.crossEntropy(i64([3, -100, 1]), -100),
  crossEntropy_none: (X) => X.crossEntropy(i64([3, 0, 1]), -100, 'none'),
  topk: (X) => X.topk(2, 1),
  sort: (X) => X.sort(1, true),
  tril: (X) => X.tril(),
  triu: (X) => X.triu(1),
  gather: (X) =>
    X.gather(
      1,
      i64([
        [0, 3],
        [1, 1],
        [2, 0],
      ]),
    ),
  scatterAdd: (_X, Y) =>
    torch.zeros([3, 4], { dtype: 'float64' }).scatterAdd(
      1,
      i64([
        [0, 0],
        [3, 1],
        [2, 2],
      ]),
      Y.narrow(1, 0, 2),
    ),
  maskedFill: (X) => X.maskedFill(X.gt(0.6), -1e9),
  where: (X, Y) => torch.where(X.gt(0), X, Y),
  cat: (X, Y) => torch.cat([X, Y], 0),
  stack: (X, Y) => torch.stack([X, Y], 1),
  transpose: (X) => X.transpose(0, 1).contiguous(),
  permute: (X, Y) => torch.stack([X, Y]).permute([2, 0, 1]).contiguous(),
  flip: (X) => X.flip(1),
  narrow: (X) => X.narrow(1, 1, 2).contiguous(),
  indexSelect: (X) => X.indexSelect(0, i64([2, 0])),
  expand: () => f64([1, 2, 3]).reshape([3, 1]).expand([3, 4]).contiguous(),
  chunk: (X) => X.chunk(2, 1),
  split_sizes: (X) => X.split([1, 3], 1),
};

describe('operations match PyTorch (float64)', () => {
  const X = fromFixture(fx.inputs.X);
  const Y = fromFixture(fx.inputs.Y);
  const P = fromFixture(fx.inputs.P);

  test('every fixture case has an implementation here, and every implementation a case', () => {
    const missing = Object.keys(fx.cases).filter((k) => !(k in ops));
    const extra = Object.keys(ops).filter((k) => !(k in fx.cases));
    if (missing.length || extra.length) throw new Error(`missing: ${missing.join(', ')}; extra: ${extra.join(', ')}`);
  });

  for (const [name, { out }] of Object.entries(fx.cases)) {
    test(name, () => {
      torch.tidy(() => {
        const fn = ops[name];
        if (!fn) throw new Error(`no implementation for ${name}`);
        const got = fn(X, Y, P);
        const expected = Array.isArray(out) ? out : [out];
        const results = Array.isArray(got) ? got : [got];
        if (results.length !== expected.length) throw new Error(`${name}: ${results.length} results, expected ${expected.length}`);
        results.forEach((r, k) => {
          const e = expected[k] as FixtureTensor;
          if (e.dtype !== r.dtype) throw new Error(`${name}[${k}]: dtype ${r.dtype}, PyTorch gave ${e.dtype}`);
          assertClose(r, e, 1e-12, 1e-300, `${name}[${k}]`);
        });
      });
    });
  }
});
