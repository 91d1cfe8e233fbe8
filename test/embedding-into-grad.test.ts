// The token embedding lookup whose backward adds into weight.grad in place (the native
// embeddingIntoGrad op, used by nn.Embedding) against the plain lookup (at::embedding, whose
// gradient autograd accumulates: embedding_backward's dense [V, C], summed with any other use of
// the weight). Same values, summed in another order where a weight is used twice: 1e-12 relative
// in float64; bit for bit where the lookup is the weight's only use.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRESETS, randomInit, torch } from '../src/index.js';
import { Embedding } from '../src/nn/embedding.js';
import type { Tensor } from '../src/tensor/tensor.js';

/** max |a − b| / max |b|. */
function relativeError(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.sub(b).abs().max().item() / Math.max(b.abs().max().item(), 1e-30));
}

type Lookup = (weight: Tensor, ids: Tensor) => Tensor;
const plain: Lookup = (w, ids) => torch.embedding(w, ids);
const intoGrad: Lookup = (w, ids) => torch.embeddingIntoGrad(w, ids);

/**
 * A tied weight: looked up for ids [2, 5] (ids repeat), the rows mixed, then used again as a
 * head (h · Wᵀ) with a weighted sum as the loss. Returns the weight's gradient after `passes`
 * backward passes (gradient accumulation).
 */
function tiedGradient(lookup: Lookup, passes: number): Tensor {
  torch.manualSeed(3);
  const w = torch.randn([11, 6], { dtype: 'float64' }).requiresGrad_();
  const mix = torch.randn([6, 6], { dtype: 'float64' });
  const ids = torch
    .tensor([
      [1, 4, 4, 9, 0],
      [4, 1, 10, 4, 3],
    ])
    .to('int64');
  for (let k = 0; k < passes; k++) {
    const out = torch.randn([2, 5, 11], { dtype: 'float64' });
    torch.tidy(() => {
      const h = lookup(w, ids).matmul(mix).tanh();
      h.matmul(w.transpose(0, 1)).mul(out).sum().backward();
    });
  }
  return w.grad as Tensor;
}

describe('embeddingIntoGrad', () => {
  test('forward equals at::embedding bit for bit, for int64 and int32 ids of any shape', () => {
    const w = torch.randn([7, 3]).requiresGrad_();
    for (const ids of [torch.tensor([0, 6, 6, 2]).to('int64'), torch.tensor([[1, 2, 3]]).to('int32'), torch.tensor([[[5]]]).to('int64')]) {
      const a = torch.embeddingIntoGrad(w, ids);
      const b = torch.embedding(w, ids.to('int64'));
      assert.deepEqual(a.shape, b.shape);
      assert.ok(a.equal(b));
      assert.ok(a.requiresGrad);
    }
  });

  test("a tied weight's gradient (lookup + head) equals autograd's sum to 1e-12 relative, also accumulated over passes", () => {
    for (const passes of [1, 3]) {
      const expected = tiedGradient(plain, passes);
      const actual = tiedGradient(intoGrad, passes);
      const err = relativeError(actual, expected);
      assert.ok(err < 1e-12, `${passes} passes: relative error ${err}`);
      // The lookup's part is not zero: the head alone gives another gradient.
      assert.ok(
        relativeError(
          actual,
          tiedGradient((w, ids) => torch.embedding(w.detach(), ids), passes),
        ) > 1e-3,
      );
    }
  });

  test('as the only use of the weight, the first gradient is bit for bit autograd’s (embedding_backward)', () => {
    const grads = [plain, intoGrad].map((lookup) => {
      torch.manualSeed(5);
      const w = torch.randn([9, 4]).requiresGrad_();
      const ids = torch.tensor([3, 3, 8, 0, 3, 5]).to('int64');
      lookup(w, ids)
        .mul(torch.randn([6, 4]))
        .sum()
        .backward();
      return w.grad as Tensor;
    });
    assert.ok((grads[1] as Tensor).equal(grads[0] as Tensor));
  });

  test('gradients still flow to the rest of the graph, and a weight that is not a trainable leaf takes the plain path', () => {
    // The lookup's output feeds a parameter-free transformation of a second leaf: that leaf's gradient is unchanged.
    const w = torch.randn([5, 2], { dtype: 'float64' }).requiresGrad_();
    const s = torch.tensor([2, -1], { dtype: 'float64' }).requiresGrad_();
    torch
      .embeddingIntoGrad(w, torch.tensor([4, 0, 4]).to('int64'))
      .mul(s)
      .sum()
      .backward();
    // d/ds Σ_rows w[id]·s = Σ_rows w[id]
    const rows = torch.embedding(w.detach(), torch.tensor([4, 0, 4]).to('int64')).sum(0);
    assert.ok(relativeError(s.grad as Tensor, rows) < 1e-15);
    // d/dw[id] = s per occurrence: row 4 twice, row 0 once, the rest zero.
    assert.deepEqual((w.grad as Tensor).tolist(), [
      [2, -1],
      [0, 0],
      [0, 0],
      [0, 0],
      [4, -2],
    ]);
    // Non-leaf weight: autograd carries the gradient through the multiplication to the leaf.
    const leaf = torch.randn([5, 2], { dtype: 'float64' }).requiresGrad_();
    torch
      .embeddingIntoGrad(leaf.mul(3), torch.tensor([1, 1]).to('int64'))
      .sum()
      .backward();
    assert.deepEqual((leaf.grad as Tensor).tolist(), [
      [0, 0],
      [6, 6],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    // Frozen weight, or no-grad: nothing requires gradients.
    assert.equal(torch.embeddingIntoGrad(torch.randn([5, 2]), torch.tensor([1]).to('int64')).requiresGrad, false);
    assert.equal(torch.noGrad(() => torch.embeddingIntoGrad(w, torch.tensor([1]).to('int64'))).requiresGrad, false);
  });

  test('bad inputs are errors that say what was expected', () => {
    assert.throws(() => torch.embeddingIntoGrad(torch.randn([5]), torch.tensor([1]).to('int64')), /weight must be \[V, C\]/);
    assert.throws(() => torch.embeddingIntoGrad(torch.randn([5, 2]), torch.tensor([1.5])), /indices must be int64 or int32/);
  });

  test('whole tied models (GPT-2, Llama): every parameter gradient equals the plain lookup’s to 1e-12 relative in float64', () => {
    for (const [name, config] of [
      ['gpt2', { ...PRESETS['gpt2-tiny'], tie_word_embeddings: true }],
      ['llama', { ...PRESETS['llama-tiny'], tie_word_embeddings: true }],
    ] as const) {
      const grads = (['plain', 'intoGrad'] as const).map((how) => {
        torch.manualSeed(11);
        const model = randomInit(config, { dtype: 'float64' });
        const ids = torch.randint(0, model.vocabSize, [2, 9]);
        const embeddings = [...model.modules()].filter((m) => m instanceof Embedding);
        assert.ok(embeddings.length > 0);
        if (how === 'plain') for (const e of embeddings) e.forward = (i: Tensor) => torch.embedding(e.weight, i);
        torch.tidy(() => model.forward(ids).logSoftmax(-1).mean().backward());
        const out = new Map(model.namedParameters().map(([n, p]) => [n, (p.grad as Tensor).clone()]));
        model.dispose();
        return out;
      });
      for (const [param, g] of grads[0] as Map<string, Tensor>) {
        const err = relativeError((grads[1] as Map<string, Tensor>).get(param) as Tensor, g);
        assert.ok(err < 1e-12, `${name} ${param}: relative error ${err}`);
      }
    }
  });
});
