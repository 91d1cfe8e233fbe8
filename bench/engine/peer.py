"""PyTorch side of bench/engine: the cases of cases.ts, run from Python.

run.ts starts this script once and talks to it over pipes, one JSON object per line: a hello
line first (or an error line if torch cannot be imported), then one reply per request. Keeping
one process for the whole run lets the two sides alternate round by round without paying
Python's and torch's start-up each time. While one side computes the other is blocked on its
pipe, so they never compete for the cores.

This is the line-by-line twin of ours.ts: same ops, same order of random draws, same things
inside and outside the timed regions.
"""

import json
import math
import os
import platform
import resource
import sys
import time

# Settings that change how libtorch and its BLAS use the cores; reported so both sides can be
# seen to run under the same ones.
ENV_PREFIXES = ("OMP_", "GOMP_", "KMP_", "OPENBLAS_", "GOTO_", "MKL_")


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any failure means "no PyTorch here", reported as such
    send({"ok": False, "error": f"{type(e).__name__}: {e}"})
    sys.exit(0)


def time_samples(req, units):
    """Twin of timeSamples in ours.ts: per timed sample, seconds per unit and the mean part.

    units(n) runs n units of work in a tight loop and returns the seconds of their timed part
    (the block's forward pass), or 0: a call per unit would add Python's call overhead to the
    small op.
    """
    seconds, part_seconds = [], []
    for s in range(req["warmup"] + req["samples"]):
        start = time.perf_counter()
        part = units(req["inner"])
        t = (time.perf_counter() - start) / req["inner"]
        if s >= req["warmup"]:
            seconds.append(t)
            part_seconds.append(part / req["inner"])
    return seconds, part_seconds


def add_round(spec, req):
    a = torch.randn(spec["numel"])
    b = torch.randn(spec["numel"])

    def units(n):
        for _ in range(n):
            a.add(b)  # the result is freed at once: nothing refers to it
        return 0

    seconds, _ = time_samples(req, units)
    if not req["check"]:
        return {"seconds": seconds}
    return {"seconds": seconds, "check": [a.add(b).sum().item()]}


def matmul_round(spec, req):
    a = torch.randn(spec["m"], spec["k"])
    b = torch.randn(spec["k"], spec["n"])

    def units(n):
        for _ in range(n):
            a.matmul(b)
        return 0

    seconds, _ = time_samples(req, units)
    if not req["check"]:
        return {"seconds": seconds}
    c = a.matmul(b)
    return {"seconds": seconds, "check": [c.sum().item(), c.abs().sum().item()]}


def init_block(C):
    # Same order of randn calls as initBlock in ours.ts.
    def weight(rows, cols):
        return (torch.randn(rows, cols) * 0.02).requires_grad_(True)

    def zeros(n):
        return torch.zeros(n).requires_grad_(True)

    def ones(n):
        return torch.ones(n).requires_grad_(True)

    ln1 = (ones(C), zeros(C))
    attn = (weight(3 * C, C), zeros(3 * C))
    proj = (weight(C, C), zeros(C))
    ln2 = (ones(C), zeros(C))
    fc = (weight(4 * C, C), zeros(4 * C))
    out = (weight(C, 4 * C), zeros(C))
    return {"ln1": ln1, "attn": attn, "proj": proj, "ln2": ln2, "fc": fc, "out": out}


def block_forward(spec, p, x, mask):
    B, T, C, H = spec["batch"], spec["seq"], spec["dModel"], spec["heads"]
    hd = C // H

    def to_heads(t):
        return t.reshape(B, T, H, hd).transpose(1, 2)

    h = F.layer_norm(x, (C,), p["ln1"][0], p["ln1"][1], 1e-5)
    q, k, v = map(to_heads, F.linear(h, *p["attn"]).split(C, -1))
    att = q.matmul(k.transpose(-2, -1)).mul(1 / math.sqrt(hd)).masked_fill(mask, float("-inf")).softmax(-1)
    y = att.matmul(v).transpose(1, 2).reshape(B, T, C)
    x1 = x.add(F.linear(y, *p["proj"]))

    h2 = F.layer_norm(x1, (C,), p["ln2"][0], p["ln2"][1], 1e-5)
    m = F.linear(F.gelu(F.linear(h2, *p["fc"]), approximate="tanh"), *p["out"])
    return x1.add(m)


def block_round(spec, req):
    B, T, C = spec["batch"], spec["seq"], spec["dModel"]
    p = init_block(C)
    params = [t for name in ("ln1", "attn", "proj", "ln2", "fc", "out") for t in p[name]]
    x = torch.randn(B, T, C)
    grad_out = torch.randn(B, T, C)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)

    def step():
        start = time.perf_counter()
        for t in params:
            t.grad = None  # dropped, not zeroed, as in ours.ts
        out = block_forward(spec, p, x, mask)
        forward = time.perf_counter() - start
        out.backward(grad_out)
        return forward  # the activations go when this frame ends, as ours.ts's scope ends

    def units(n):
        return sum(step() for _ in range(n))

    seconds, forward_seconds = time_samples(req, units)
    if not req["check"]:
        return {"seconds": seconds, "forwardSeconds": forward_seconds}
    check = [t.grad.abs().sum().item() if t.grad is not None else float("nan") for t in params]
    return {"seconds": seconds, "forwardSeconds": forward_seconds, "check": check}


def blas_library():
    """The BLAS libtorch's matmuls run in, found as ours.ts finds its own (see blasLibrary there)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "/" in line})
    except OSError:
        return None
    names = [(p, os.path.basename(p).lower()) for p in paths]
    generic = [p for p, name in names if name.startswith("libblas")]
    optimised = [p for p, name in names if any(k in name for k in ("openblas", "mkl", "blis"))]
    return (generic or optimised or [None])[0]


def cpu_seconds():
    """This process's CPU time, all threads (BLAS workers included), for run.ts's disturbance check."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


ROUNDS = {"add": add_round, "matmul": matmul_round, "block": block_round}


def handle(req):
    op = req.get("op")
    if op == "init":
        # Same intra-op thread count as our side; normally both already have libtorch's default.
        default = torch.get_num_threads()
        if req["threads"] != default:
            torch.set_num_threads(req["threads"])
        return {"ok": True, "defaultThreads": default, "threads": torch.get_num_threads()}
    if op == "round":
        spec = req["spec"]
        cpu = cpu_seconds()
        torch.manual_seed(req["seed"])
        result = ROUNDS[spec["kind"]](spec, req)
        return {"ok": True, **result, "cpuSeconds": cpu_seconds() - cpu}
    if op == "usage":
        return {"ok": True, "cpuSeconds": cpu_seconds()}
    return {"ok": False, "error": f"unknown op {op!r}"}


def main():
    send(
        {
            "ok": True,
            "torchVersion": torch.__version__,
            "python": platform.python_version(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)},
            "blas": blas_library(),
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001 - report to run.ts rather than die silently
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        send(reply)


if __name__ == "__main__":
    main()
