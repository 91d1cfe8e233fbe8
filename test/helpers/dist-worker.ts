// One rank of the torch.distributed tests (test/distributed.test.ts), started with RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT set. argv[2] names the scenario; the rank prints one
// JSON line of results on stdout, or its error's name and message on stderr and exits 1.
import { torch } from '../../src/index.js';

const scenario = process.argv[2];
const timeout = Number(process.env.DIST_TEST_TIMEOUT ?? 60);

function collectives(rank: number): Record<string, unknown> {
  // Rank r contributes [r + 1, 10·(r + 1)], so every expected value below is arithmetic on 1 and 2.
  const mine = () => torch.tensor([rank + 1, 10 * (rank + 1)]);
  const sum = mine();
  torch.distributed.allReduce(sum, 'sum');
  const avg = mine();
  torch.distributed.allReduce(avg, 'avg');
  const max = mine();
  torch.distributed.allReduce(max, 'max');
  const gathered = torch.distributed.allGather(torch.tensor([rank, rank], { dtype: 'int64' }));
  const fromOne = rank === 1 ? torch.tensor([7.5, -2]) : torch.zeros([2]);
  torch.distributed.broadcast(fromOne, 1);
  torch.distributed.barrier();
  return {
    rank: torch.distributed.getRank(),
    worldSize: torch.distributed.getWorldSize(),
    sum: sum.toNumbers(),
    avg: avg.toNumbers(),
    max: max.toNumbers(),
    gathered: gathered.map((t) => t.toNumbers()),
    broadcast: fromOne.toNumbers(),
  };
}

try {
  torch.distributed.initProcessGroup({ backend: 'gloo', timeout });
  const rank = torch.distributed.getRank();
  if (scenario === 'collectives') {
    process.stdout.write(`${JSON.stringify(collectives(rank))}\n`);
  } else if (scenario === 'peer-dies') {
    // Both ranks complete one all-reduce; then rank 1 is killed (SIGKILL: no clean-up of any kind)
    // and rank 0's next all-reduce must fail, naming rank 1.
    torch.distributed.allReduce(torch.ones([4]), 'sum');
    if (rank === 1) process.kill(process.pid, 'SIGKILL');
    const started = performance.now();
    try {
      torch.distributed.allReduce(torch.ones([4]), 'sum');
    } finally {
      process.stderr.write(`failed all-reduce took ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
    }
    process.stdout.write('{"unexpected":"the all-reduce succeeded without rank 1"}\n');
  } else if (scenario === 'peer-hangs') {
    // Rank 1 stays alive but never joins the second all-reduce (it sleeps past rank 0's timeout).
    torch.distributed.allReduce(torch.ones([4]), 'sum');
    if (rank === 1) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, (timeout + 5) * 1000);
      process.exit(0);
    }
    torch.distributed.allReduce(torch.ones([4]), 'sum');
    process.stdout.write('{"unexpected":"the all-reduce succeeded without rank 1"}\n');
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  torch.distributed.destroyProcessGroup();
} catch (e) {
  const err = e as Error;
  process.stderr.write(`${err.name}: ${err.message}\n`);
  process.exit(1);
}
