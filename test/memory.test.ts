// Memory stays flat: 20,000 iterations of a small forward and backward (a 2-layer MLP on a
// batch of 8, with an SGD update) inside tidy(). Bound: RSS may grow at most 8 MiB between
// iteration 2,000 (after warm-up: allocator pools and JIT settled) and iteration 20,000, and
// the number of live tensors must return exactly to its starting value. A full garbage collection
// runs every 1,000 iterations and before each RSS reading: left to itself V8 lets tens of MiB of
// collectable JS garbage build up over this loop, and the heap pages it grew stay in RSS after they
// are collected, so RSS would measure V8's heuristics instead of native leaks. Measured so, the
// loop grows RSS by about 0.2 MiB.
// A leak of one 8×32 float32 tensor per iteration would add over 18 MiB; the graph of one step is ~20 tensors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { torch } from '../src/index.js';

// A full collection on demand, without starting node with --expose-gc.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

function rssAfterGc(): number {
  collectGarbage();
  return process.memoryUsage.rss();
}

describe('memory', () => {
  test('20,000 forward+backward iterations keep RSS and live tensors flat', () => {
    torch.manualSeed(0);
    const before = torch.liveTensorCount();
    const w1 = torch.randn([16, 32]).mul_(0.1).requiresGrad_();
    const w2 = torch.randn([32, 1]).mul_(0.1).requiresGrad_();
    const x = torch.randn([8, 16]);
    const y = torch.randn([8, 1]);
    let rssAfterWarmup = 0;
    let firstLoss = 0;
    let lastLoss = 0;
    for (let i = 0; i < 20_000; i++) {
      lastLoss = torch.tidy(() => {
        const loss = x.matmul(w1).tanh().matmul(w2).sub(y).square().mean();
        loss.backward();
        torch.noGrad(() => {
          for (const w of [w1, w2]) {
            const g = w.grad!;
            w.sub_(g, 0.05);
            g.zero_();
          }
        });
        return loss.item();
      });
      if (i === 0) firstLoss = lastLoss;
      if (i % 1000 === 0) collectGarbage();
      if (i === 2000) rssAfterWarmup = rssAfterGc();
    }
    const growth = rssAfterGc() - rssAfterWarmup;
    assert.ok(growth < 8 * 2 ** 20, `RSS grew ${(growth / 2 ** 20).toFixed(1)} MiB over 18,000 iterations`);
    assert.ok(lastLoss < firstLoss, `training reduced the loss (${firstLoss} → ${lastLoss})`);
    for (const t of [w1, w2, x, y]) {
      t.grad?.dispose();
      t.dispose();
    }
    assert.equal(torch.liveTensorCount(), before);
  });

  test('tensors dropped without dispose() are released by the garbage collector (finalizers)', () => {
    const script = `
      import { torch } from './src/index.ts';
      const base = torch.liveTensorCount();
      for (let i = 0; i < 5000; i++) torch.ones([1000]);
      const made = torch.liveTensorCount() - base;
      for (let k = 0; k < 20 && torch.liveTensorCount() - base > 100; k++) {
        globalThis.gc();
        await new Promise((r) => setImmediate(r));
      }
      console.log(JSON.stringify({ made, left: torch.liveTensorCount() - base }));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { made, left } = JSON.parse(r.stdout) as { made: number; left: number };
    assert.ok(made > 0);
    assert.ok(left <= 100, `${left} of ${made} unreferenced tensors still alive after GC`);
  });
});
