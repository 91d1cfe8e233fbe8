"""PyTorch side of bench/train/real-lengths.ts: sigmoid-DPO steps as TRL runs them.

    python bench/train/real-lengths-peer.py --model DIR --pairs FILE --steps N --warmup W [--autocast]
        [--micro-batch M]

The driver's token ids, 8 pairs per step in file order; each batch [chosen; rejected] right-padded
to its longest sequence, full logits over every position (TRL's selective_log_softmax, labels -100
on prompt and padding), the reference under no_grad, beta 0.1, clipping at 1.0, AdamW. The model is
bench/models/peer.py's Llama; on PyTorch >= 2 its attention is F.scaled_dot_product_attention
(what transformers uses by default), else the eager matmul + softmax. --autocast runs the forward
passes under torch.autocast("cpu", dtype=torch.bfloat16), as TRL's bf16: true does on CPU.
--micro-batch M splits each step's 8 pairs into micro-batches of M with gradient accumulation
(TRL's per_device_train_batch_size M, gradient_accumulation_steps 8 / M), each padded on its own:
at 8 pairs per forward the full [16, T, 128256] float32 logits and their gradient need more memory
than a 23 GB machine has once T nears 1024.
Prints one JSON line: step seconds, tokens, first loss, peak RSS.
"""

import argparse
import contextlib
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
from peer import Llama, load_safetensors  # noqa: E402

PAIRS_PER_STEP = 8


class SdpaLlama(Llama):
    """peer.py's Llama with F.scaled_dot_product_attention where PyTorch has it."""

    def forward(self, ids):
        if not hasattr(F, "scaled_dot_product_attention"):
            return super().forward(ids)
        B, T = ids.shape
        c = self.c
        H = c["num_attention_heads"]
        Hkv = c.get("num_key_value_heads") or H
        D = c["hidden_size"] // H
        ang = torch.arange(T).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat([ang, ang], -1)
        cos, sin = emb.cos(), emb.sin()

        def rope(t):
            return t * cos.to(t.dtype) + torch.cat([-t[..., D // 2:], t[..., : D // 2]], -1) * sin.to(t.dtype)

        x = self.embed(ids)
        for b in self.layers:
            h = b.input_layernorm(x)
            q = rope(b.q_proj(h).view(B, T, H, D).transpose(1, 2))
            k = rope(b.k_proj(h).view(B, T, Hkv, D).transpose(1, 2))
            v = b.v_proj(h).view(B, T, Hkv, D).transpose(1, 2)
            if Hkv != H:
                k = k[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)
                v = v[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + b.o_proj(y.transpose(1, 2).reshape(B, T, H * D))
            h = b.post_attention_layernorm(x)
            x = x + b.down_proj(F.silu(b.gate_proj(h)) * b.up_proj(h))
        x = self.norm(x)
        return F.linear(x, self.embed.weight if self.lm_head is None else self.lm_head.weight)


def padded_batch(pairs):
    rows = [p["chosen"] for p in pairs] + [p["rejected"] for p in pairs]
    T = max(len(pr) + len(co) for pr, co in rows)
    ids = torch.zeros(len(rows), T, dtype=torch.int64)
    labels = torch.full((len(rows), T), -100, dtype=torch.int64)
    for r, (pr, co) in enumerate(rows):
        ids[r, : len(pr) + len(co)] = torch.tensor(pr + co)
        labels[r, len(pr): len(pr) + len(co)] = torch.tensor(co)
    return ids, labels


def sequence_logps(logits, labels):
    """TRL's selective_log_softmax: the target's logit minus a logsumexp taken row by row, so no
    second [rows, T, V] tensor (a log_softmax) exists; bf16 logits (autocast) are upcast per row."""
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    mask = labels != -100
    labels[~mask] = 0
    if logits.dtype in (torch.float32, torch.float64):
        selected = torch.gather(logits, 2, labels.unsqueeze(2)).squeeze(2)
        lse = torch.stack([torch.logsumexp(row, dim=-1) for row in logits])
        per_token = selected - lse
    else:
        per_token = torch.stack([
            torch.gather(row.float().log_softmax(-1), 1, lab.unsqueeze(1)).squeeze(1) for row, lab in zip(logits, labels)
        ])
    return (per_token * mask).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--autocast", action="store_true")
    ap.add_argument("--micro-batch", type=int, default=PAIRS_PER_STEP)
    a = ap.parse_args()
    if PAIRS_PER_STEP % a.micro_batch != 0:
        raise SystemExit(f"--micro-batch must divide {PAIRS_PER_STEP}")
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    with open(a.pairs) as f:
        pairs = json.load(f)
    policy, reference = SdpaLlama(config), SdpaLlama(config)
    W = load_safetensors(os.path.join(a.model, "model.safetensors"))
    policy.load(W)
    reference.load(W)
    del W
    for p in reference.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-6, weight_decay=0.0)
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast else contextlib.nullcontext
    seconds, first_loss, real, forward = [], None, 0, 0
    for step in range(a.warmup + a.steps):
        batch = pairs[step * PAIRS_PER_STEP: (step + 1) * PAIRS_PER_STEP]
        B = len(batch)
        start = time.perf_counter()
        # TRL's per_device_train_batch_size = micro-batch, gradient_accumulation_steps = 8 / it:
        # each micro-batch padded to its own longest row, its loss weighted by its share.
        value, padded = 0.0, 0
        for m in range(0, B, a.micro_batch):
            chunk = batch[m: m + a.micro_batch]
            ids, labels = padded_batch(chunk)
            b = len(chunk)
            padded += ids.numel()
            with amp():
                logps = sequence_logps(policy(ids), labels)
            with torch.no_grad(), amp():
                ref = sequence_logps(reference(ids), labels)
            logits = 0.1 * ((logps[:b] - logps[b:]) - (ref[:b] - ref[b:]))
            loss = -F.logsigmoid(logits).mean() * (b / B)
            loss.backward()
            value += loss.item()
            del logps, ref, logits, loss
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - start
        if first_loss is None:
            first_loss = value
        if step >= a.warmup:
            seconds.append(elapsed)
            real += sum(len(p[s][0]) + len(p[s][1]) for p in batch for s in ("chosen", "rejected"))
            forward += padded
    print(json.dumps({
        "seconds": seconds,
        "pairs": PAIRS_PER_STEP,
        "tokens": round(real / a.steps),
        "paddedTokens": round(forward / a.steps),
        "loss": first_loss,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
