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
import sys
import time

ENV_KEYS = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any failure means "no PyTorch here", reported as such
    send({"ok": False, "error": f"{type(e).__name__}: {e}"})
    sys.exit(0)


def add_round(spec, warmup, samples):
    a = torch.randn(spec["numel"])
    b = torch.randn(spec["numel"])
    n = spec["opsPerSample"]
    seconds = []
    for s in range(warmup + samples):
        start = time.perf_counter()
        for _ in range(n):
            a.add(b)  # the result is freed at once: nothing refers to it
        t = (time.perf_counter() - start) / n
        if s >= warmup:
            seconds.append(t)
    return {"seconds": seconds, "check": [a.add(b).sum().item()]}


def matmul_round(spec, warmup, samples):
    a = torch.randn(spec["m"], spec["k"])
    b = torch.randn(spec["k"], spec["n"])
    seconds = []
    c = None
    for s in range(warmup + samples):
        # Free the previous product before the clock starts, as ours.ts does.
        c = None
        start = time.perf_counter()
        c = a.matmul(b)
        t = time.perf_counter() - start
        if s >= warmup:
            seconds.append(t)
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


def block_round(spec, warmup, samples):
    B, T, C = spec["batch"], spec["seq"], spec["dModel"]
    p = init_block(C)
    params = [t for name in ("ln1", "attn", "proj", "ln2", "fc", "out") for t in p[name]]
    x = torch.randn(B, T, C)
    grad_out = torch.randn(B, T, C)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)

    def step(start):
        for t in params:
            t.grad = None  # dropped, not zeroed, as in ours.ts
        out = block_forward(spec, p, x, mask)
        forward = time.perf_counter() - start
        out.backward(grad_out)
        return forward  # the activations go when this frame ends, as ours.ts's scope ends

    seconds, forward_seconds = [], []
    for s in range(warmup + samples):
        start = time.perf_counter()
        forward = step(start)
        t = time.perf_counter() - start
        if s >= warmup:
            seconds.append(t)
            forward_seconds.append(forward)
    check = [t.grad.abs().sum().item() if t.grad is not None else float("nan") for t in params]
    return {"seconds": seconds, "forwardSeconds": forward_seconds, "check": check}


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
        torch.manual_seed(req["seed"])
        result = ROUNDS[spec["kind"]](spec, req["warmup"], req["samples"])
        return {"ok": True, **result}
    return {"ok": False, "error": f"unknown op {op!r}"}


def main():
    send(
        {
            "ok": True,
            "torchVersion": torch.__version__,
            "python": platform.python_version(),
            "env": {k: os.environ.get(k) for k in ENV_KEYS},
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
