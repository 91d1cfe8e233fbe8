"""PyTorch side of bench/train: full DPO training steps, timed.

    /usr/bin/python3 bench/train/peer.py --model DIR --pairs B --seq T --steps N --warmup W

The same checkpoint as policy and as frozen reference (bench/models/peer.py's plain PyTorch
GPT-2 and Llama), the same preference batch as ours.ts (twin formula, no RNG): per step, the
policy forward+backward over the concatenated [chosen; rejected] rows, the reference forward
under no_grad, TRL's summed completion log-probs (log_softmax + gather, labels -100 on the
prompt), the sigmoid DPO loss with beta 0.1, global-norm clipping at 1.0 and an AdamW step.
With --autocast, both forward passes run under torch.autocast("cpu", dtype=torch.bfloat16), the
way transformers' Trainer runs bf16: true on a CPU (the log-softmax then sees bfloat16 logits).
Prints one JSON line: step seconds, policy tokens per step, first loss, peak RSS.
"""

import contextlib

import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
from peer import GPT2, Llama, load_safetensors, report  # noqa: E402


def batch(pairs, seq, vocab):
    """Twin of preferenceBatch in ours.ts: prompt = first half, completions = second half."""
    prompt_len = seq // 2
    rows = []
    for side in range(2):  # 0 chosen, 1 rejected
        for p in range(pairs):
            prompt = [(p * 7919 + i * 31 + 13) % vocab for i in range(prompt_len)]
            completion = [(p * 104729 + i * 17 + side * 5 + 3) % vocab for i in range(seq - prompt_len)]
            rows.append(prompt + completion)
    ids = torch.tensor(rows, dtype=torch.int64)
    labels = ids.clone()
    labels[:, :prompt_len] = -100
    return ids, labels


def sequence_logps(logits, labels):
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    mask = labels != -100
    labels[~mask] = 0
    per_token = torch.gather(logits.log_softmax(-1), 2, labels.unsqueeze(2)).squeeze(2)
    return (per_token * mask).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    for name in ("model",):
        ap.add_argument(f"--{name}", required=True)
    for name in ("pairs", "seq", "steps", "warmup"):
        ap.add_argument(f"--{name}", type=int, required=True)
    ap.add_argument("--autocast", action="store_true")
    a = ap.parse_args()
    precision = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast else contextlib.nullcontext
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    make = GPT2 if config["model_type"] == "gpt2" else Llama
    policy, reference = make(config), make(config)
    W = load_safetensors(os.path.join(a.model, "model.safetensors"))
    policy.load(W)
    reference.load(W)
    del W
    for p in reference.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-6, weight_decay=0.0, foreach=False)
    ids, labels = batch(a.pairs, a.seq, config["vocab_size"])
    B = a.pairs
    seconds, first_loss = [], None
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        with precision():
            policy_logits = policy(ids)
        logps = sequence_logps(policy_logits, labels)
        del policy_logits
        with torch.no_grad():
            with precision():
                ref_logits = reference(ids)
            ref = sequence_logps(ref_logits, labels)
            del ref_logits
        logits = 0.1 * ((logps[:B] - logps[B:]) - (ref[:B] - ref[B:]))
        loss = -F.logsigmoid(logits).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        value = loss.item()
        del logps, ref, logits, loss
        elapsed = time.perf_counter() - start
        if first_loss is None:
            first_loss = value
        if step >= a.warmup:
            seconds.append(elapsed)
    report(seconds, 2 * a.pairs * a.seq, first_loss)


if __name__ == "__main__":
    main()
