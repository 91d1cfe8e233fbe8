// Our side of the benchmark: the cases of cases.ts through the TypeScript API. peer.py is the
// line-by-line PyTorch twin of this file; keep the two in step (same ops, same order of random
// draws, same things inside and outside the timed regions).
import { readFileSync } from 'node:fs';
import { type Tensor, torch } from '../../src/index.js';
import type { AddCase, BlockCase, MatmulCase, RoundRequest, RoundResult } from './cases.js';

/** A round's result plus what it left behind in the addon (should be nothing). */
export interface OurRoundResult extends RoundResult {
  leakedTensors: number;
}

function elapsed(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function runRound(req: RoundRequest): OurRoundResult {
  const liveBefore = torch.liveTensorCount();
  torch.manualSeed(req.seed);
  const spec = req.spec;
  const result = spec.kind === 'add' ? addRound(spec, req) : spec.kind === 'matmul' ? matmulRound(spec, req) : blockRound(spec, req);
  return { ...result, leakedTensors: torch.liveTensorCount() - liveBefore };
}

/**
 * Runs `req.warmup` + `req.samples` samples of `units(req.inner)` and returns, per timed sample,
 * the seconds per unit and the mean timed part per unit. `units(n)` runs n units of work in a
 * tight loop and returns the seconds of their part (the block's forward pass), or 0; peer.py's
 * time_samples has the same shape.
 */
function timeSamples(req: RoundRequest, units: (n: number) => number): { seconds: number[]; partSeconds: number[] } {
  const seconds: number[] = [];
  const partSeconds: number[] = [];
  for (let s = 0; s < req.warmup + req.samples; s++) {
    const start = process.hrtime.bigint();
    const part = units(req.inner);
    const t = elapsed(start) / req.inner;
    if (s >= req.warmup) {
      seconds.push(t);
      partSeconds.push(part / req.inner);
    }
  }
  return { seconds, partSeconds };
}

// No tidy() around the timed loops of add and matmul: an open scope records every tensor made
// in it, and that bookkeeping would be timed too. Each result is disposed at once instead,
// which is part of what the small-op case measures (Python frees it just as soon).
function addRound(spec: AddCase, req: RoundRequest): RoundResult {
  const a = torch.randn([spec.numel]);
  const b = torch.randn([spec.numel]);
  try {
    const { seconds } = timeSamples(req, (n) => {
      for (let i = 0; i < n; i++) a.add(b).dispose();
      return 0;
    });
    if (!req.check) return { seconds };
    return { seconds, check: [torch.tidy(() => a.add(b).sum().item())] };
  } finally {
    a.dispose();
    b.dispose();
  }
}

function matmulRound(spec: MatmulCase, req: RoundRequest): RoundResult {
  const a = torch.randn([spec.m, spec.k]);
  const b = torch.randn([spec.k, spec.n]);
  try {
    const { seconds } = timeSamples(req, (n) => {
      for (let i = 0; i < n; i++) a.matmul(b).dispose();
      return 0;
    });
    if (!req.check) return { seconds };
    const check = torch.tidy(() => {
      const c = a.matmul(b);
      return [c.sum().item(), c.abs().sum().item()];
    });
    return { seconds, check };
  } finally {
    a.dispose();
    b.dispose();
  }
}

interface Linear {
  weight: Tensor;
  bias: Tensor;
}

interface BlockParams {
  ln1: Linear;
  attn: Linear;
  proj: Linear;
  ln2: Linear;
  fc: Linear;
  out: Linear;
}

// The order of the randn calls fixes which random numbers each tensor gets; peer.py draws in
// the same order so both sides train the very same block.
function initBlock(C: number): BlockParams {
  const weight = (rows: number, cols: number): Tensor => torch.tidy(() => torch.randn([rows, cols]).mul(0.02)).requiresGrad_(true);
  const zeros = (n: number): Tensor => torch.zeros([n]).requiresGrad_(true);
  const ones = (n: number): Tensor => torch.ones([n]).requiresGrad_(true);
  return {
    ln1: { weight: ones(C), bias: zeros(C) },
    attn: { weight: weight(3 * C, C), bias: zeros(3 * C) },
    proj: { weight: weight(C, C), bias: zeros(C) },
    ln2: { weight: ones(C), bias: zeros(C) },
    fc: { weight: weight(4 * C, C), bias: zeros(4 * C) },
    out: { weight: weight(C, 4 * C), bias: zeros(C) },
  };
}

function parameters(p: BlockParams): Tensor[] {
  return [p.ln1, p.attn, p.proj, p.ln2, p.fc, p.out].flatMap((l) => [l.weight, l.bias]);
}

/** GPT-2 block, pre-LayerNorm: x + attn(ln1(x)), then + mlp(ln2(.)). `mask` is true above the diagonal. */
function blockForward(spec: BlockCase, p: BlockParams, x: Tensor, mask: Tensor): Tensor {
  const { batch: B, seq: T, dModel: C, heads: H } = spec;
  const hd = C / H;
  const toHeads = (t: Tensor): Tensor => t.reshape([B, T, H, hd]).transpose(1, 2);

  const h = x.layerNorm([C], p.ln1.weight, p.ln1.bias, 1e-5);
  const [q, k, v] = h.linear(p.attn.weight, p.attn.bias).split(C, -1).map(toHeads) as [Tensor, Tensor, Tensor];
  const att = q
    .matmul(k.transpose(-2, -1))
    .mul(1 / Math.sqrt(hd))
    .maskedFill(mask, -Infinity)
    .softmax(-1);
  const y = att.matmul(v).transpose(1, 2).reshape([B, T, C]);
  const x1 = x.add(y.linear(p.proj.weight, p.proj.bias));

  const h2 = x1.layerNorm([C], p.ln2.weight, p.ln2.bias, 1e-5);
  const m = h2.linear(p.fc.weight, p.fc.bias).gelu('tanh').linear(p.out.weight, p.out.bias);
  return x1.add(m);
}

function blockRound(spec: BlockCase, req: RoundRequest): RoundResult {
  return torch.tidy(() => {
    const { batch: B, seq: T, dModel: C } = spec;
    const p = initBlock(C);
    const params = parameters(p);
    const x = torch.randn([B, T, C]);
    // A fixed upstream gradient stands in for the rest of the network above the block.
    const gradOut = torch.randn([B, T, C]);
    const mask = torch.ones([T, T], { dtype: 'bool' }).triu(1);

    const step = (): number => {
      const start = process.hrtime.bigint();
      let forward = 0;
      // The per-step scope frees the activations as soon as backward is done, so memory stays
      // flat; Python does the same when step()'s locals go out of scope.
      torch.tidy(() => {
        for (const t of params) t.grad = null; // dropped, not zeroed: backward allocates them afresh, as in peer.py
        const out = blockForward(spec, p, x, mask);
        forward = elapsed(start);
        out.backward(gradOut);
      });
      return forward;
    };
    const { seconds, partSeconds: forwardSeconds } = timeSamples(req, (n) => {
      let forward = 0;
      for (let i = 0; i < n; i++) forward += step();
      return forward;
    });
    if (!req.check) return { seconds, forwardSeconds };
    // Per-parameter sums of |grad| after the last pass: they depend on every op of the forward
    // and backward pass.
    const check = params.map((t) =>
      torch.tidy(() => {
        const g = t.grad;
        return g === null ? Number.NaN : g.abs().sum().item();
      }),
    );
    return { seconds, forwardSeconds, check };
  });
}

/**
 * The BLAS library in this process (libtorch does its float matmuls there, so it sets the
 * matmul speed), read from /proc/self/maps. libtorch links libblas.so.3 by name, so the mapped
 * libblas file tells which BLAS answers (OpenBLAS's lives in an openblas-* folder); the name
 * of an optimised library is the fallback for builds that link one directly. Null where there
 * is no /proc (not Linux) or no shared BLAS.
 */
function blasLibrary(): string | null {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return null;
  }
  const paths = [...new Set(maps.split('\n').flatMap((line) => line.match(/\s(\/\S+)$/)?.[1] ?? []))].sort();
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1).toLowerCase();
  return paths.find((p) => base(p).startsWith('libblas')) ?? paths.find((p) => /openblas|mkl|blis/.test(base(p))) ?? null;
}

export function engineInfo(): { torchVersion: string; threads: number; blas: string | null } {
  return { torchVersion: torch.buildInfo().torchVersion, threads: torch.getNumThreads(), blas: blasLibrary() };
}
