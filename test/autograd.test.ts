// Autograd through the binding: a composite function's gradient against (1) the gradient
// PyTorch computed for the same inputs (test/fixtures/ops.json, scripts/fixtures/gen_ops.py)
// and (2) central finite differences in float64 (error O(h²) ≈ 1e-10 for h = 1e-5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Tensor, torch } from '../src/index.js';
import { assertClose, type FixtureTensor, fromFixture, readFixture } from './helpers.js';

const fx = readFixture<{ autograd: { f: number; x: FixtureTensor; w: FixtureTensor; grad_x: FixtureTensor; grad_w: FixtureTensor } }>(
  'ops.json',
).autograd;

// f(x, w) = Σ_rows logsumexp(tanh(x·w) ⊙ σ(x[:, :3])) + mean(gelu_tanh(layerNorm(x)))  — same as gen_ops.py
function f(x: Tensor, w: Tensor): Tensor {
  return torch.tidy(() => {
    const h = x
      .matmul(w)
      .tanh()
      .mul(x.narrow(1, 0, 3).sigmoid());
    return h
      .logsumexp(1)
      .sum()
      .add(x.layerNorm([4], null, null, 1e-5).gelu('tanh').mean());
  });
}

describe('autograd', () => {
  test('composite gradient equals PyTorch', () => {
    const x = fromFixture(fx.x).requiresGrad_();
    const w = fromFixture(fx.w).requiresGrad_();
    const y = f(x, w);
    assert.ok(Math.abs(y.item() - fx.f) <= 1e-12 * Math.abs(fx.f), `f = ${y.item()}, PyTorch ${fx.f}`);
    y.backward();
    assertClose(x.grad!, fx.grad_x, 1e-10, 1e-14, 'grad x');
    assertClose(w.grad!, fx.grad_w, 1e-10, 1e-14, 'grad w');
  });

  test('composite gradient equals central finite differences', () => {
    const x = fromFixture(fx.x).requiresGrad_();
    const w = fromFixture(fx.w).requiresGrad_();
    f(x, w).backward();
    const h = 1e-5;
    for (const [param, other, name] of [
      [x, w, 'x'],
      [w, x, 'w'],
    ] as const) {
      const base = param.toNumbers();
      const grad = param.grad!.toNumbers();
      for (let i = 0; i < base.length; i++) {
        const shifted = (d: number) =>
          torch.tidy(() => {
            const values = [...base];
            values[i] = (values[i] as number) + d;
            const p = torch.tensor(values, { dtype: 'float64' }).reshape(param.shape);
            return name === 'x' ? f(p, other).item() : f(other, p).item();
          });
        const numeric = (shifted(h) - shifted(-h)) / (2 * h);
        assert.ok(Math.abs(numeric - (grad[i] as number)) < 1e-8, `d f/d ${name}[${i}]: autograd ${grad[i]}, finite difference ${numeric}`);
      }
    }
  });

  test('gradients accumulate across backward calls, and a retained graph can be reused', () => {
    const x = torch.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(x).sum(); // dy/dx = 2x
    y.backward(null, true);
    y.backward();
    assert.deepEqual(x.grad!.toNumbers(), [4, 8, 12]);
    assert.throws(() => y.backward(), /backward through the graph a second time/);
    x.grad = null;
    assert.equal(x.grad, null);
  });

  test('backward with an explicit gradient (vector-Jacobian product)', () => {
    const x = torch.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const y = x.exp(); // J = diag(e^x)
    y.backward(torch.tensor([3, -1], { dtype: 'float64' }));
    assertClose(x.grad!, { shape: [2], data: [3 * Math.E, -Math.exp(2)] }, 1e-15);
  });

  test('noGrad records nothing, detach cuts the graph, and gradient mode is restored after a throw', () => {
    const x = torch.tensor([1, 2], { requiresGrad: true });
    const y = torch.noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(x.mul(2).detach().requiresGrad, false);
    assert.throws(() =>
      torch.noGrad(() => {
        throw new Error('boom');
      }),
    );
    assert.equal(torch.isGradEnabled(), true);
    assert.match(x.mul(2).gradFn ?? '', /^MulBackward/);
  });

  test('non-leaf gradients with retainGrad', () => {
    const x = torch.tensor([2], { dtype: 'float64', requiresGrad: true });
    const h = x.mul(3).retainGrad();
    h.square().sum().backward(); // d/dh h² = 2h = 12
    assert.deepEqual(h.grad!.toNumbers(), [12]);
    assert.deepEqual(x.grad!.toNumbers(), [36]);
  });
});
