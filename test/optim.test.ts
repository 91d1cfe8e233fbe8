// AdamW and gradient clipping against PyTorch's own (test/fixtures/optim.json, written by
// scripts/fixtures/gen_optim.py with torch.optim.AdamW and clip_grad_norm_), and the learning-rate
// schedules against transformers' formulas evaluated by hand.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdamW, clipGradNorm, lrMultiplier, torch, warmupStepsFor } from '../src/index.js';
import { assertClose, readFixture } from './helpers.js';

interface OptimFixture {
  adamw: {
    betas: [number, number];
    eps: number;
    weight_decay: [number, number];
    p0: number[][];
    b0: number[];
    grads: [number[][], number[]][];
    lrs: number[];
    after: { w: number[]; b: number[] }[];
  };
  clip: { a: number[][]; c: number[]; cases: { max_norm: number; total: number; a: number[]; c: number[] }[] };
}
const fx = readFixture<OptimFixture>('optim.json');

describe('AdamW', () => {
  test('five steps with per-step learning rates and two weight-decay groups equal torch.optim.AdamW (float32)', () => {
    const { adamw } = fx;
    const w = torch.tensor(adamw.p0, { requiresGrad: true });
    const b = torch.tensor(adamw.b0, { requiresGrad: true });
    const opt = new AdamW(
      [
        { params: [w], weightDecay: adamw.weight_decay[0] },
        { params: [b], weightDecay: adamw.weight_decay[1] },
      ],
      { lr: adamw.lrs[0] as number, betas: adamw.betas, eps: adamw.eps },
    );
    adamw.grads.forEach(([gw, gb], k) => {
      opt.lr = adamw.lrs[k] as number;
      w.grad = torch.tensor(gw);
      b.grad = torch.tensor(gb);
      opt.step();
      const expected = adamw.after[k] as { w: number[]; b: number[] };
      // Same float32 operations in the same order as PyTorch: agreement to a few ulps.
      assertClose(w, { shape: [2, 3], data: expected.w }, 1e-6, 1e-7, `w after step ${k + 1}`);
      assertClose(b, { shape: [2], data: expected.b }, 1e-6, 1e-7, `b after step ${k + 1}`);
    });
    opt.dispose();
  });

  test('the fixture run with the 2×3 weight updated in slices of 2 elements still equals torch.optim.AdamW', () => {
    const { adamw } = fx;
    const w = torch.tensor(adamw.p0, { requiresGrad: true });
    const opt = new AdamW([{ params: [w], weightDecay: adamw.weight_decay[0] }], {
      lr: adamw.lrs[0] as number,
      betas: adamw.betas,
      eps: adamw.eps,
      chunkElements: 2,
    });
    adamw.grads.forEach(([gw], k) => {
      opt.lr = adamw.lrs[k] as number;
      w.grad = torch.tensor(gw);
      opt.step();
      assertClose(w, { shape: [2, 3], data: (adamw.after[k] as { w: number[] }).w }, 1e-6, 1e-7, `w after step ${k + 1}`);
    });
    opt.dispose();
  });

  test('slicing a large parameter changes no bit: float32, bfloat16 with its master copy, odd sizes, a non-contiguous leaf', () => {
    // The update is elementwise, so the value at each element must not depend on which slice
    // computed it: the same three steps with slices of 1,000 / 4,099 elements and with whole
    // tensors must agree exactly, moments and master weights included.
    const run = (chunkElements: number | undefined) => {
      torch.manualSeed(7);
      const a = torch.randn([1237, 97]).requiresGrad_();
      const b = torch.randn([513, 33], { dtype: 'bfloat16' }).requiresGrad_();
      const c = torch.randn([61, 129]).transpose(0, 1).requiresGrad_(); // a leaf whose strides are transposed
      const params = [a, b, c];
      const opt = new AdamW(
        [
          { params: [a, c], weightDecay: 0.1 },
          { params: [b], weightDecay: 0 },
        ],
        { lr: 0.01, ...(chunkElements ? { chunkElements } : {}) },
      );
      for (let k = 0; k < 3; k++) {
        for (const p of params) p.grad = torch.randn(p.shape, { dtype: p.dtype });
        opt.step();
      }
      return { params, state: opt.stateDict() };
    };
    const whole = run(undefined);
    for (const chunk of [1000, 4099]) {
      const sliced = run(chunk);
      for (const [i, p] of whole.params.entries()) assert.ok(p.equal(sliced.params[i] as typeof p), `parameter ${i}, slices of ${chunk}`);
      for (const [name, t] of whole.state.tensors) {
        assert.ok(t.equal(sliced.state.tensors.get(name) as typeof t), `${name}, slices of ${chunk}`);
      }
      assert.deepEqual(sliced.state.steps, [3, 3, 3]);
    }
  });

  test('state dict round trip continues identically', () => {
    const make = () => torch.tensor([1, -2, 3], { requiresGrad: true });
    const grads = [
      [0.5, 0.1, -1],
      [0.2, -0.3, 0.4],
      [-1, 0.7, 0.05],
    ];
    const a = make();
    const optA = new AdamW([a], { lr: 0.01 });
    for (const g of grads) {
      a.grad = torch.tensor(g);
      optA.step();
    }
    const b = make();
    const optB = new AdamW([b], { lr: 0.01 });
    b.grad = torch.tensor(grads[0] as number[]);
    optB.step();
    const optC = new AdamW([b], { lr: 0.01 });
    optC.loadStateDict(optB.stateDict());
    for (const g of grads.slice(1)) {
      b.grad = torch.tensor(g);
      optC.step();
    }
    assert.ok(a.equal(b), `${a} vs ${b}`);
  });

  test('bad settings are errors', () => {
    const p = torch.zeros([1], { requiresGrad: true });
    assert.throws(() => new AdamW([p], { lr: -1 }), /lr must be/);
    assert.throws(() => new AdamW([p], { lr: 1, betas: [1, 0.9] }), /betas/);
    assert.throws(() => new AdamW([torch.zeros([1])], { lr: 1 }), /require gradients/);
    assert.throws(() => new AdamW([p], { lr: 1, chunkElements: 0 }), /chunkElements must be an integer ≥ 1/);
  });
});

describe('clipGradNorm', () => {
  for (const c of fx.clip.cases) {
    test(`max norm ${c.max_norm} equals clip_grad_norm_`, () => {
      const a = torch.zeros([2, 3], { requiresGrad: true });
      const b = torch.zeros([4], { requiresGrad: true });
      a.grad = torch.tensor(fx.clip.a);
      b.grad = torch.tensor(fx.clip.c);
      const total = clipGradNorm([a, b], c.max_norm);
      // total = √(9+16+1+0.25+4+1 + 1+4+4+0.0625) = √40.3125
      assert.ok(Math.abs(total - Math.sqrt(40.3125)) < 1e-5);
      assert.ok(Math.abs(total - c.total) < 1e-6);
      assertClose(a.grad!, { shape: [2, 3], data: c.a }, 1e-6, 1e-7, 'a.grad');
      assertClose(b.grad!, { shape: [4], data: c.c }, 1e-6, 1e-7, 'b.grad');
    });
  }
});

describe('learning-rate schedules (transformers formulas)', () => {
  test('cosine with warm-up', () => {
    const s = { type: 'cosine' as const, warmupSteps: 10, totalSteps: 110 };
    assert.equal(lrMultiplier(s, 0), 0);
    assert.equal(lrMultiplier(s, 5), 0.5);
    assert.equal(lrMultiplier(s, 10), 1);
    // halfway through the decay: ½(1 + cos(π/2)) = 0.5
    assert.ok(Math.abs(lrMultiplier(s, 60) - 0.5) < 1e-15);
    assert.ok(Math.abs(lrMultiplier(s, 35) - 0.5 * (1 + Math.cos(Math.PI / 4))) < 1e-15);
    assert.ok(lrMultiplier(s, 110) < 1e-15);
  });
  test('linear, constant, constant with warm-up', () => {
    assert.equal(lrMultiplier({ type: 'linear', warmupSteps: 2, totalSteps: 10 }, 1), 0.5);
    assert.equal(lrMultiplier({ type: 'linear', warmupSteps: 2, totalSteps: 10 }, 6), 0.5);
    assert.equal(lrMultiplier({ type: 'linear', warmupSteps: 2, totalSteps: 10 }, 12), 0);
    assert.equal(lrMultiplier({ type: 'constant', warmupSteps: 5, totalSteps: 10 }, 0), 1);
    assert.equal(lrMultiplier({ type: 'constant_with_warmup', warmupSteps: 4, totalSteps: 10 }, 1), 0.25);
    assert.equal(lrMultiplier({ type: 'constant_with_warmup', warmupSteps: 4, totalSteps: 10 }, 9), 1);
  });
  test('warm-up steps: warmup_steps wins, else ceil(ratio × total)', () => {
    assert.equal(warmupStepsFor(95, 0, 0.1), 10);
    assert.equal(warmupStepsFor(95, 3, 0.1), 3);
  });
});
