// Prefix sharing, padding-free packing and the completion-only, vocabulary-chunked LM head give
// the plain computation's numbers: the reference everywhere is the padded [chosen; rejected]
// batch with full logits (scoreBatch with PLAIN_SCORING, the path the fixtures check against
// PyTorch), or logSoftmax + gather written out here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collateArrays, collatedTensors } from '../src/data/batch/collate-pairs.js';
import { collatedRows, packPairs } from '../src/data/batch/packed-pairs.js';
import type { PreferenceBatch } from '../src/data/batch/preference-batches.js';
import type { TokenizedPair } from '../src/data/tokenize/tokenized-pair.js';
import { type CausalLM, PRESETS, type PresetName, randomInit, torch } from '../src/index.js';
import { linearTokenLogps } from '../src/losses/linear-token-logps.js';
import { layoutBlockedAttention } from '../src/nn/attention-mask.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { PLAIN_SCORING, type ScoringOptions, scoreBatch } from '../src/train/batch-scores.js';

/** max |a − b| / max(|b|, 1e-30) over all elements. */
function relativeError(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.sub(b).abs().max().item() / Math.max(b.abs().max().item(), 1e-30));
}

const pair = (chosen: [number[], number[]], rejected: [number[], number[]]): TokenizedPair => ({
  chosen: { prompt: Int32Array.from(chosen[0]), completion: Int32Array.from(chosen[1]) },
  rejected: { prompt: Int32Array.from(rejected[0]), completion: Int32Array.from(rejected[1]) },
  source: { file: 'test', index: 0, line: 1 },
  metadata: {},
});

function batchOf(pairs: TokenizedPair[]): PreferenceBatch {
  const arrays = collateArrays(pairs, { paddingValue: 0, padToMultipleOf: null });
  const t = collatedTensors(arrays);
  return {
    ...t,
    pairCount: pairs.length,
    globalPairCount: pairs.length,
    indices: pairs.map((_, i) => i),
    sources: pairs.map((p) => p.source),
    epoch: 0,
    batch: 0,
    dispose: () => {
      for (const x of Object.values(t)) x.dispose();
    },
  };
}

describe('packPairs', () => {
  // Pair 0: prompt [1 2 3], chosen [4 5], rejected [6]. Pair 1: prompts differ in their last
  // token ([7 8] vs [7 9]), completions [10] and [11 12]. Collated T₀ = 5 (pair 0's chosen).
  const pairs = [
    pair(
      [
        [1, 2, 3],
        [4, 5],
      ],
      [[1, 2, 3], [6]],
    ),
    pair(
      [[7, 8], [10]],
      [
        [7, 9],
        [11, 12],
      ],
    ),
  ];
  const arrays = collateArrays(pairs, { paddingValue: 0, padToMultipleOf: null });
  const rows = collatedRows(arrays, 4, arrays.length);

  test('prefix sharing: [prefix, chosen rest, rejected rest] per pair, positions restarting at the prefix end', () => {
    const p = packPairs(rows, arrays.length, { pairs: 2, prefixSharing: true, paddingFree: false, paddingValue: 0 });
    // Pair 0: prefix 3, then 4 5 (chosen) and 6 (rejected): 6 tokens. Pair 1: prefix [7] then 8 10 | 9 11 12: 6 tokens.
    assert.equal(p.rows, 2);
    assert.equal(p.length, 6);
    assert.deepEqual([...p.inputIds].map(Number), [1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 11, 12]);
    assert.deepEqual([...p.positionIds].map(Number), [0, 1, 2, 3, 4, 3, 0, 1, 2, 1, 2, 3]);
    assert.deepEqual([...p.branchIds].map(Number), [0, 0, 0, 1, 1, 2, 0, 1, 1, 2, 2, 2]);
    assert.deepEqual([...p.sequenceIds].map(Number), new Array(12).fill(0));
    // Completion tokens: slot 0 (4 predicted at flat 2, 5 at 3), slot 1 (10 at 7), slot 2 (6 at 2: the shared
    // prompt's last token), slot 3 (11 at 9, 12 at 10).
    assert.deepEqual([...p.targets].map(Number), [4, 5, 6, 10, 11, 12]);
    assert.deepEqual([...p.hiddenIndex].map(Number), [2, 3, 2, 7, 9, 10]);
    assert.deepEqual([...p.slot].map(Number), [0, 0, 2, 1, 3, 3]);
    // Unshared shifted layout [4, T₀ − 1 = 4]: slot·4 + t − 1.
    assert.deepEqual([...p.unsharedIndex].map(Number), [2, 3, 10, 5, 13, 14]);
  });

  test('padding-free without sharing: the four sequences in one row, one span each', () => {
    const p = packPairs(rows, arrays.length, { pairs: 2, prefixSharing: false, paddingFree: true, paddingValue: 0 });
    assert.equal(p.rows, 1);
    assert.deepEqual(p.spans, [5, 3, 4, 4]);
    assert.deepEqual([...p.inputIds].map(Number), [1, 2, 3, 4, 5, 7, 8, 10, 1, 2, 3, 6, 7, 9, 11, 12]);
    assert.deepEqual([...p.positionIds].map(Number), [0, 1, 2, 3, 4, 0, 1, 2, 0, 1, 2, 3, 0, 1, 2, 3]);
    assert.deepEqual([...p.sequenceIds].map(Number), [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    assert.deepEqual([...p.hiddenIndex].map(Number), [2, 3, 6, 10, 13, 14]);
  });

  test('a row that is not right-padded is refused', () => {
    const mask = BigInt64Array.from([0n, 1n]);
    assert.throws(() => collatedRows({ inputIds: mask, attentionMask: mask, labels: mask }, 1, 2), /not right-padded/);
  });
});

describe('layoutBlockedAttention', () => {
  test('shared prefix of 2, chosen 2, rejected 1: the rejected token sees the prefix and itself only', () => {
    const ids = (xs: number[]) => torch.tensor(BigInt64Array.from(xs.map(BigInt))).view([1, xs.length]);
    const blocks = layoutBlockedAttention(
      { sequenceIds: ids([0, 0, 0, 0, 0]), branchIds: ids([0, 0, 1, 1, 2]) },
      ids([0, 1, 2, 3, 2]),
      null,
    ) as Tensor;
    // Row i lists which keys query i may NOT see (1 = blocked), derived by hand from the rule.
    const expected = [
      [0, 1, 1, 1, 1],
      [0, 0, 1, 1, 1],
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 1],
      [0, 0, 1, 1, 0],
    ];
    assert.deepEqual(blocks.view([5, 5]).to('int64').toNumbers(), expected.flat());
    // A window of 2 positions: the rejected token (position 2) loses key 0 (position 0).
    const windowed = layoutBlockedAttention(
      { sequenceIds: ids([0, 0, 0, 0, 0]), branchIds: ids([0, 0, 1, 1, 2]) },
      ids([0, 1, 2, 3, 2]),
      2,
    ) as Tensor;
    assert.deepEqual(windowed.select(2, 4).view([5]).to('int64').toNumbers(), [1, 0, 1, 1, 0]);
  });
});

describe('linearTokenLogps', () => {
  // The plain computation: logSoftmax over the full [N, V] logits (soft-capped), then gather.
  function plain(hidden: Tensor, weight: Tensor, targets: Tensor, cap: number | null): Tensor {
    let z = hidden.linear(weight);
    if (cap !== null) z = z.div(cap).tanh().mul(cap);
    return z.logSoftmax(1).gather(1, targets.unsqueeze(1)).squeeze(1);
  }

  for (const cap of [null, 2]) {
    test(`chunks of 7 over V = 30: values and gradients equal the full log-softmax (softcap ${cap})`, () => {
      torch.manualSeed(3);
      const hidden = torch.randn([11, 16]).mul(2).requiresGrad_();
      const weight = torch.randn([30, 16]).requiresGrad_();
      const targets = torch.randint(0, 30, [11]);
      const g = torch.randn([11]); // an arbitrary upstream gradient
      const fused = linearTokenLogps(hidden, weight, targets, { chunk: 7, softcap: cap });
      fused.logps.mul(g).sum().backward();
      const [gh, gw] = [hidden.grad?.clone() as Tensor, weight.grad?.clone() as Tensor];
      hidden.grad?.zero_();
      weight.grad?.zero_();
      const want = plain(hidden, weight, targets, cap);
      want.mul(g).sum().backward();
      assert.ok(relativeError(fused.logps, want) < 1e-6, `values: ${relativeError(fused.logps, want)}`);
      assert.ok(relativeError(gh, hidden.grad as Tensor) < 1e-5, `d hidden: ${relativeError(gh, hidden.grad as Tensor)}`);
      assert.ok(relativeError(gw, weight.grad as Tensor) < 1e-5, `d weight: ${relativeError(gw, weight.grad as Tensor)}`);
      // log Σ p² written out from the full softmax in float64; a difference of two logsumexps
      // of ~10 nats in float32, so its round-off is absolute (~1e-6).
      const collision = torch.noGrad(() => {
        let z = hidden.to('float64').linear(weight.to('float64'));
        if (cap !== null) z = z.div(cap).tanh().mul(cap);
        return z.softmax(1).square().sum(1).log();
      });
      const collisionDiff = torch.tidy(() => fused.collision.to('float64').sub(collision).abs().max().item());
      assert.ok(collisionDiff < 1e-5, `collision differs by ${collisionDiff}`);
      // The unchunked branch (chunk 0) gives the same values.
      const whole = linearTokenLogps(hidden, weight, targets, { chunk: 0, softcap: cap });
      assert.ok(relativeError(whole.logps, want) < 1e-6);
    });
  }

  // The backward computes only the gradients autograd asks for (needs_input_grad): each half alone
  // must still equal the full log-softmax's.
  test('a frozen head (LoRA, frozen embeddings) gets no gradient; the hidden states get the one the full log-softmax gives', () => {
    torch.manualSeed(4);
    const hidden = torch.randn([9, 8]).requiresGrad_();
    const weight = torch.randn([23, 8]); // requires no gradient
    const targets = torch.randint(0, 23, [9]);
    const g = torch.randn([9]);
    linearTokenLogps(hidden, weight, targets, { chunk: 5, softcap: null }).logps.mul(g).sum().backward();
    assert.equal(weight.grad, null);
    const fusedGrad = (hidden.grad as Tensor).clone();
    hidden.grad?.zero_();
    plain(hidden, weight, targets, null).mul(g).sum().backward();
    assert.ok(relativeError(fusedGrad, hidden.grad as Tensor) < 1e-5, `d hidden: ${relativeError(fusedGrad, hidden.grad as Tensor)}`);
    // And the other way round: a trainable head under frozen hidden states.
    const frozenHidden = torch.randn([9, 8]);
    const head = torch.randn([23, 8]).requiresGrad_();
    linearTokenLogps(frozenHidden, head, targets, { chunk: 5, softcap: null }).logps.mul(g).sum().backward();
    const fusedHead = (head.grad as Tensor).clone();
    head.grad?.zero_();
    plain(frozenHidden, head, targets, null).mul(g).sum().backward();
    assert.ok(relativeError(fusedHead, head.grad as Tensor) < 1e-5, `d weight: ${relativeError(fusedHead, head.grad as Tensor)}`);
  });

  test('float64 in, float64 out; a bad target is a TorchError naming the range', () => {
    const hidden = torch.randn([3, 4], { dtype: 'float64' });
    const weight = torch.randn([5, 4], { dtype: 'float64' });
    const out = linearTokenLogps(hidden, weight, torch.tensor(BigInt64Array.from([0n, 4n, 2n])), { chunk: 2, softcap: null });
    assert.equal(out.logps.dtype, 'float64');
    assert.throws(
      () => linearTokenLogps(hidden, weight, torch.tensor(BigInt64Array.from([0n, 5n, 2n])), { chunk: 2, softcap: null }),
      /outside \[0, 5\)/,
    );
  });
});

// Every architecture, with sliding windows small enough to cut into the prompts (3 positions),
// grouped-query attention where the preset has it, Gemma 2's final soft-capping made strong.
const ARCHS: [PresetName, Record<string, unknown>][] = [
  ['gpt2-tiny', {}],
  ['llama-tiny', {}],
  ['mistral-tiny', { sliding_window: 3 }],
  ['qwen2-tiny', { use_sliding_window: true, sliding_window: 3, max_window_layers: 1 }],
  ['qwen3-tiny', { use_sliding_window: true, sliding_window: 3, max_window_layers: 1 }],
  ['phi3-tiny', { sliding_window: 3 }],
  ['olmo2-tiny', {}],
  ['gemma2-tiny', { sliding_window: 3, final_logit_softcapping: 2 }],
  ['gemma3-tiny', { sliding_window: 3 }],
];

// Three pairs: a shared prompt; prompts that differ in their last token (shared prefix shorter
// than the prompt); completions that start with the same token (shared prefix longer than the
// prompt). Lengths 4 to 9, so the padded batch pads every row but one.
const PAIRS = [
  pair(
    [
      [5, 6, 7, 8],
      [9, 10, 11, 12, 13],
    ],
    [
      [5, 6, 7, 8],
      [14, 15],
    ],
  ),
  pair(
    [[20, 21, 22], [23]],
    [
      [20, 21, 24],
      [25, 26, 27],
    ],
  ),
  pair(
    [
      [30, 31],
      [32, 33, 34],
    ],
    [
      [30, 31],
      [32, 35],
    ],
  ),
];

const OPTIONS: [string, ScoringOptions][] = [
  ['completion-only, chunked', { prefixSharing: false, paddingFree: false, vocabChunk: 50 }],
  ['prefix sharing', { prefixSharing: true, paddingFree: false, vocabChunk: 0 }],
  ['padding-free', { prefixSharing: false, paddingFree: true, vocabChunk: 0 }],
  ['prefix sharing + padding-free + chunked', { prefixSharing: true, paddingFree: true, vocabChunk: 64 }],
];

function gradients(model: CausalLM, run: () => Tensor): Tensor {
  for (const p of model.parameters()) p.grad?.zero_();
  torch.tidy(() => run().backward());
  return torch.cat(model.parameters().map((p) => (p.grad as Tensor).flatten()));
}

describe('scoreBatch: every layout gives the padded batch’s log-probs and gradients', () => {
  for (const [name, extra] of ARCHS) {
    test(name, () => {
      torch.manualSeed(11);
      const model = randomInit({ ...PRESETS[name], ...extra });
      model.eval();
      const batch = batchOf(PAIRS);
      const weights = torch.tensor([0.3, -1.2, 0.7, 1.1, -0.4, 0.9]);
      const need = { tokens: true, wpo: true };
      const plain = scoreBatch(model, batch, need, PLAIN_SCORING);
      const plainGrad = gradients(model, () => scoreBatch(model, batch, need, PLAIN_SCORING).sums.mul(weights).sum());
      for (const [what, options] of OPTIONS) {
        const got = scoreBatch(model, batch, need, options);
        const at = `${name}, ${what}`;
        assert.ok(relativeError(got.sums, plain.sums) < 2e-6, `${at}: sums ${relativeError(got.sums, plain.sums)}`);
        assert.deepEqual(got.lengths.toNumbers(), plain.lengths.toNumbers(), `${at}: lengths`);
        const tok = got.tokens as { logps: Tensor; mask: Tensor };
        const want = plain.tokens as { logps: Tensor; mask: Tensor };
        assert.ok(relativeError(tok.logps, want.logps) < 2e-6, `${at}: per-token ${relativeError(tok.logps, want.logps)}`);
        assert.deepEqual(tok.mask.toNumbers(), want.mask.toNumbers(), `${at}: mask`);
        // WPO's weight is a difference of two log-probs of ~5 nats each: its round-off is absolute, not relative.
        const wpoDiff = torch.tidy(() =>
          (got.wpo as Tensor)
            .sub(plain.wpo as Tensor)
            .abs()
            .max()
            .item(),
        );
        assert.ok(wpoDiff < 1e-5, `${at}: wpo differs by ${wpoDiff}`);
        const grad = gradients(model, () => scoreBatch(model, batch, need, options).sums.mul(weights).sum());
        assert.ok(relativeError(grad, plainGrad) < 2e-5, `${at}: gradient ${relativeError(grad, plainGrad)}`);
      }
      batch.dispose();
      model.dispose();
    });
  }

  test('no tensor outlives the tidy scope around a packed, chunked scoring pass', () => {
    torch.manualSeed(5);
    const model = randomInit(PRESETS['llama-tiny']);
    const batch = batchOf(PAIRS);
    const before = torch.liveTensorCount();
    const sums = torch.tidy(() =>
      scoreBatch(model, batch, { tokens: true, wpo: true }, { prefixSharing: true, paddingFree: true, vocabChunk: 64 }).sums.toNumbers(),
    );
    assert.equal(sums.length, 6);
    assert.equal(torch.liveTensorCount(), before);
    batch.dispose();
    model.dispose();
  });
});
