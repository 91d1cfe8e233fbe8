// One rank of the all-reduce benchmark through our binding (bench/distributed/run.ts starts two).
// Rank 0 prints one JSON line: per size, the median seconds of one all-reduce (sum, float32).
import { torch } from '../../src/index.js';

const sizes = (process.env.BENCH_SIZES ?? '').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 1);
torch.distributed.initProcessGroup({ backend: 'gloo', timeout: 120 });
const rank = torch.distributed.getRank();
const result: Record<string, number> = {};
for (const n of sizes) {
  const t = torch.ones([n]);
  for (let i = 0; i < 3; i++) torch.distributed.allReduce(t, 'sum');
  // Rank 0 decides how many repetitions fill `seconds`, and both ranks run that many.
  const started = performance.now();
  torch.distributed.allReduce(t, 'sum');
  const reps = torch.tensor([Math.max(5, Math.ceil((seconds * 1000) / Math.max(performance.now() - started, 1e-3)))]);
  torch.distributed.broadcast(reps, 0);
  const times: number[] = [];
  for (let i = 0; i < reps.item(); i++) {
    const s = performance.now();
    torch.distributed.allReduce(t, 'sum');
    times.push((performance.now() - s) / 1000);
  }
  times.sort((a, b) => a - b);
  result[n] = times[Math.floor(times.length / 2)] as number;
  t.dispose();
  reps.dispose();
}
torch.distributed.barrier();
if (rank === 0) console.log(JSON.stringify(result));
torch.distributed.destroyProcessGroup();
