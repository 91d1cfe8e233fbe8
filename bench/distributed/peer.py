# One rank of the all-reduce benchmark through PyTorch's torch.distributed (Gloo), the peer of
# ours.ts: the same sizes, repetitions chosen the same way, rank 0 prints one JSON line.
import json
import os
import time

import torch
import torch.distributed as dist

sizes = [int(s) for s in os.environ["BENCH_SIZES"].split(",")]
seconds = float(os.environ.get("BENCH_SECONDS", "1"))
dist.init_process_group("gloo", timeout=__import__("datetime").timedelta(seconds=120))
rank = dist.get_rank()
result = {}
for n in sizes:
    t = torch.ones(n)
    for _ in range(3):
        dist.all_reduce(t)
    started = time.perf_counter()
    dist.all_reduce(t)
    reps = torch.tensor([max(5, int(-(-seconds // max(time.perf_counter() - started, 1e-6))))], dtype=torch.float32)
    dist.broadcast(reps, 0)
    times = []
    for _ in range(int(reps.item())):
        s = time.perf_counter()
        dist.all_reduce(t)
        times.append(time.perf_counter() - s)
    times.sort()
    result[str(n)] = times[len(times) // 2]
dist.barrier()
if rank == 0:
    print(json.dumps(result))
dist.destroy_process_group()
