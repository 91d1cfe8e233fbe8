// Chunked attention (the native chunkedAttention op: blocks of queries, a hand-written backward
// that recomputes each block) against eager attention (matmul, mask, softmax, matmul as tensor
// operations differentiated by autograd; the path test/models-hf*.test.ts check against
// transformers). Same arithmetic, so forward and gradients agree to round-off: 1e-12 relative in
// float64, 1e-5 in float32, and bfloat16 autocast within bfloat16's resolution.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRESETS, randomInit, torch } from '../src/index.js';
import { type AttentionOptions, defaultAttentionImplementation, scaledDotProductAttention } from '../src/nn/attention.js';
import { blockedAttention } from '../src/nn/attention-mask.js';
import type { Tensor } from '../src/tensor/tensor.js';

/** max |a − b| / max |b|. */
function relativeError(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.to('float64').sub(b.to('float64')).abs().max().item() / Math.max(b.abs().max().item(), 1e-30));
}

interface Case {
  batch: number;
  heads: number;
  kvHeads: number;
  queries: number;
  keys: number;
  dim: number;
  dtype: 'float64' | 'float32';
  blocked: Tensor;
  options: Omit<AttentionOptions, 'blocked' | 'implementation'>;
}

/** Output and the gradients of Σ out ⊙ w with respect to q, k and v, by one implementation. */
function run(c: Case, implementation: 'chunked' | 'eager', seed: number, blockBytes?: number) {
  torch.manualSeed(seed);
  const q = torch.randn([c.batch, c.heads, c.queries, c.dim], { dtype: c.dtype }).requiresGrad_();
  const k = torch.randn([c.batch, c.kvHeads, c.keys, c.dim], { dtype: c.dtype }).requiresGrad_();
  const v = torch.randn([c.batch, c.kvHeads, c.keys, c.dim], { dtype: c.dtype }).requiresGrad_();
  const w = torch.randn([c.batch, c.heads, c.queries, c.dim], { dtype: c.dtype });
  const out =
    blockBytes === undefined
      ? scaledDotProductAttention(q, k, v, { ...c.options, blocked: c.blocked, implementation })
      : torch.chunkedAttention(q, k, v, c.blocked, c.options.scale, c.options.softcap ?? 0, c.options.softmaxInFloat32, blockBytes);
  out.mul(w).sum().backward();
  return { out, q: q.grad as Tensor, k: k.grad as Tensor, v: v.grad as Tensor };
}

function assertSame(c: Case, tolerance: number, blockBytes?: number): void {
  const eager = run(c, 'eager', 7);
  const chunked = run(c, 'chunked', 7, blockBytes);
  for (const key of ['out', 'q', 'k', 'v'] as const) {
    assert.deepEqual(chunked[key].shape, eager[key].shape, key);
    assert.equal(chunked[key].dtype, eager[key].dtype, key);
    const error = relativeError(chunked[key], eager[key]);
    assert.ok(error <= tolerance, `${key}: relative error ${error} > ${tolerance}`);
  }
}

const causal = (queries: number, keys: number) => blockedAttention({ queryLength: queries, pastLength: keys - queries });

describe('chunked attention equals eager attention', () => {
  test('the default implementation is chunked', () => {
    assert.equal(defaultAttentionImplementation, 'chunked');
  });

  test('causal with left padding, one query per block and one block for all (float64)', () => {
    // Row 1 has three padding tokens at the start: its first three queries see no key at all
    // (uniform weights, as eager) and its other queries never see them.
    const mask = torch.tensor([Array(19).fill(1), [0, 0, 0, ...Array(16).fill(1)]], { dtype: 'int64' });
    const c: Case = {
      batch: 2,
      heads: 4,
      kvHeads: 4,
      queries: 19,
      keys: 19,
      dim: 8,
      dtype: 'float64',
      blocked: blockedAttention({ queryLength: 19, pastLength: 0, attentionMask: mask }),
      options: { scale: 1 / Math.sqrt(8), softmaxInFloat32: false, dropout: 0, training: false },
    };
    assertSame(c, 1e-12, 1); // one query row per block
    assertSame(c, 1e-12, 1 << 30); // every query in one block
    assertSame(c, 1e-12); // through scaledDotProductAttention's default block size
  });

  test('grouped-query heads, soft cap, sliding window, softmax in float32 (float32)', () => {
    const blocked = blockedAttention({ queryLength: 33, pastLength: 0, slidingWindow: 5 });
    const c: Case = {
      batch: 2,
      heads: 6,
      kvHeads: 2,
      queries: 33,
      keys: 33,
      dim: 16,
      dtype: 'float32',
      blocked,
      options: { scale: 0.3, softcap: 2.5, softmaxInFloat32: true, dropout: 0, training: true },
    };
    assertSame(c, 1e-5, 2 * 6 * 33 * 4 * 5); // five query rows per block: 7 blocks, the last of 3
  });

  test('queries after a KV cache (T < S) with a mask broadcast over the batch (float64)', () => {
    const c: Case = {
      batch: 3,
      heads: 2,
      kvHeads: 1,
      queries: 4,
      keys: 11,
      dim: 4,
      dtype: 'float64',
      blocked: causal(4, 11),
      options: { scale: 0.5, softmaxInFloat32: false, dropout: 0, training: false },
    };
    assertSame(c, 1e-12, 3 * 2 * 11 * 4 * 3);
  });

  test('under bfloat16 autocast: bfloat16 output, within bfloat16 resolution of eager', () => {
    const c: Case = {
      batch: 1,
      heads: 4,
      kvHeads: 2,
      queries: 40,
      keys: 40,
      dim: 16,
      dtype: 'float32',
      blocked: causal(40, 40),
      options: { scale: 0.25, softmaxInFloat32: true, dropout: 0, training: false },
    };
    const eager = torch.autocast('cpu', 'bfloat16', () => run(c, 'eager', 3));
    const chunked = torch.autocast('cpu', 'bfloat16', () => run(c, 'chunked', 3, 4 * 40 * 4 * 8));
    assert.equal(chunked.out.dtype, 'bfloat16');
    assert.equal(eager.out.dtype, 'bfloat16');
    for (const key of ['q', 'k', 'v'] as const) assert.equal(chunked[key].dtype, 'float32', `grad ${key} in its input's dtype`);
    // bfloat16 keeps 8 significant bits (2⁻⁸ ≈ 0.004 relative); a few roundings apart.
    for (const key of ['out', 'q', 'k', 'v'] as const) {
      const error = relativeError(chunked[key], eager[key]);
      assert.ok(error <= 0.03, `${key}: relative error ${error}`);
    }
    // …and both near the float32 computation.
    const exact = run(c, 'eager', 3);
    assert.ok(relativeError(chunked.out, exact.out) <= 0.03);
  });

  test('gradients only for the inputs that need them', () => {
    torch.manualSeed(1);
    const q = torch.randn([1, 2, 5, 4], { dtype: 'float64' }).requiresGrad_();
    const k = torch.randn([1, 2, 5, 4], { dtype: 'float64' });
    const v = torch.randn([1, 2, 5, 4], { dtype: 'float64' });
    const blocked = causal(5, 5);
    const options = { scale: 0.5, blocked, softmaxInFloat32: false, dropout: 0, training: false };
    scaledDotProductAttention(q, k, v, { ...options, implementation: 'chunked' })
      .sum()
      .backward();
    const chunkedGrad = (q.grad as Tensor).clone();
    q.grad?.zero_();
    scaledDotProductAttention(q, k, v, { ...options, implementation: 'eager' })
      .sum()
      .backward();
    assert.ok(relativeError(chunkedGrad, q.grad as Tensor) <= 1e-12);
    assert.equal(k.grad, null);
  });

  test('shape errors say what was expected', () => {
    const q = torch.zeros([1, 3, 4, 8]);
    const k = torch.zeros([1, 2, 4, 8]);
    assert.throws(() => torch.chunkedAttention(q, k, k, causal(4, 4), 1, 0, false, 1024), /3 query heads cannot share 2 key\/value heads/);
    const q2 = torch.zeros([1, 2, 4, 8]);
    assert.throws(() => torch.chunkedAttention(q2, k, k, causal(3, 3), 1, 0, false, 1024), /blocked must be bool \[B or 1, 1, T or 1, S\]/);
  });
});

// The switch on a whole model (attn_implementation in a training config sets it on the policy and
// the reference): every layer follows it, and the two give the same logits and gradients.
describe('CausalLM.attentionImplementation', () => {
  for (const name of ['gpt2-tiny', 'llama-tiny', 'gemma2-tiny'] as const) {
    test(`${name}: eager and chunked give the same logits and parameter gradients (float64)`, () => {
      torch.manualSeed(5);
      const model = randomInit(PRESETS[name], { dtype: 'float64' });
      const ids = torch.randint(0, model.vocabSize, [2, 13]);
      // Right padding: a float64 model softmaxing in float32 turns a query with no visible key into
      // NaN (finfo(float64).min becomes −inf), in either implementation, as in transformers.
      const mask = torch.tensor([Array(13).fill(1), [...Array(11).fill(1), 0, 0]], { dtype: 'int64' });
      const pass = (implementation: 'chunked' | 'eager') => {
        model.attentionImplementation = implementation;
        for (const p of model.parameters()) p.grad = null;
        const logits = model.forward(ids, { attentionMask: mask });
        logits.logSoftmax(-1).narrow(2, 0, 5).sum().backward();
        return [logits, ...model.parameters().map((p) => (p.grad as Tensor).clone())];
      };
      const chunked = pass('chunked');
      const eager = pass('eager');
      for (const [i, t] of chunked.entries()) {
        const error = relativeError(t, eager[i] as Tensor);
        assert.ok(error <= 1e-11, `${i === 0 ? 'logits' : model.namedParameters()[i - 1]?.[0]}: relative error ${error}`);
      }
      assert.throws(() => {
        model.attentionImplementation = 'flash' as 'eager';
      }, /must be 'chunked' or 'eager'/);
      model.dispose();
    });
  }
});
