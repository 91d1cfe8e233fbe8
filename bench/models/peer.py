"""PyTorch side of bench/models: one forward+backward training step of a causal LM, timed.

    /usr/bin/python3 bench/models/peer.py --model DIR --batch B --seq T --steps N --warmup W

Loads the same safetensors checkpoint (written by run.ts; read here by hand, positioned reads
straight into each parameter's memory, like our loader) into a plain PyTorch implementation of
GPT-2 or the Llama decoder (nanoGPT-style modules, attention with matmul + masked_fill +
softmax, since PyTorch 1.13 has no fused attention), then runs the twin of ours.ts: the same
token ids, loss (mean next-token cross-entropy), backward, gradients dropped after each step.
Prints one JSON line: step seconds, tokens/s, first loss, peak RSS.
"""

import argparse
import json
import math
import os
import resource
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def use_available_cores():
    """Debian's torch 1.13 starts with one intra-op thread on any machine; our addon then uses
    every CPU (src/native/binding.ts), so the peer does the same: equal threads on both sides.
    An explicit OMP_NUM_THREADS, or any other default torch chose, is kept."""
    if not os.environ.get("OMP_NUM_THREADS") and torch.get_num_threads() == 1:
        cpus = len(os.sched_getaffinity(0))
        if cpus > 1:
            torch.set_num_threads(cpus)


use_available_cores()

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        header.pop("__metadata__", None)
        out = {}
        for name, info in header.items():
            t = torch.empty(info["shape"], dtype=DTYPES[info["dtype"]])
            begin, end = info["data_offsets"]
            f.seek(8 + n + begin)
            f.readinto(memoryview(t.numpy() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy()).cast("B"))
            assert end - begin == t.numel() * t.element_size()
            out[name] = t
        return out


class GPT2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C = c["n_embd"]
        self.wte = nn.Embedding(c["vocab_size"], C)
        self.wpe = nn.Embedding(c["n_positions"], C)
        self.blocks = nn.ModuleList()
        for _ in range(c["n_layer"]):
            b = nn.Module()
            b.ln_1, b.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
            b.c_attn, b.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            b.c_fc, b.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
            self.blocks.append(b)
        self.ln_f = nn.LayerNorm(C, eps=1e-5)

    def load(self, W):
        p = "transformer."
        with torch.no_grad():
            self.wte.weight.copy_(W[p + "wte.weight"])
            self.wpe.weight.copy_(W[p + "wpe.weight"])
            for i, b in enumerate(self.blocks):
                q = f"{p}h.{i}."
                for ln in ("ln_1", "ln_2"):
                    getattr(b, ln).weight.copy_(W[q + ln + ".weight"])
                    getattr(b, ln).bias.copy_(W[q + ln + ".bias"])
                for mod, key in (("c_attn", "attn.c_attn"), ("c_proj", "attn.c_proj"), ("c_fc", "mlp.c_fc"), ("mlp_proj", "mlp.c_proj")):
                    getattr(b, mod).weight.copy_(W[q + key + ".weight"].t())  # Conv1D [in, out]
                    getattr(b, mod).bias.copy_(W[q + key + ".bias"])
            self.ln_f.weight.copy_(W[p + "ln_f.weight"])
            self.ln_f.bias.copy_(W[p + "ln_f.bias"])

    def forward(self, ids):
        B, T = ids.shape
        C, H = self.c["n_embd"], self.c["n_head"]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        blocked = torch.ones(T, T, dtype=torch.bool).triu(1)
        for b in self.blocks:
            q, k, v = b.c_attn(b.ln_1(x)).split(C, dim=2)
            q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
            att = att.masked_fill(blocked, torch.finfo(att.dtype).min).softmax(-1)
            x = x + b.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))
            x = x + b.mlp_proj(F.gelu(b.c_fc(b.ln_2(x)), approximate="tanh"))
        return F.linear(self.ln_f(x), self.wte.weight)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        h = x.float()
        return self.weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C, H = c["hidden_size"], c["num_attention_heads"]
        Hkv = c.get("num_key_value_heads") or H
        D = C // H
        I = c["intermediate_size"]
        eps = c.get("rms_norm_eps", 1e-6)
        self.embed = nn.Embedding(c["vocab_size"], C)
        self.layers = nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            b = nn.Module()
            b.input_layernorm, b.post_attention_layernorm = RMSNorm(C, eps), RMSNorm(C, eps)
            b.q_proj, b.k_proj = nn.Linear(C, H * D, bias=False), nn.Linear(C, Hkv * D, bias=False)
            b.v_proj, b.o_proj = nn.Linear(C, Hkv * D, bias=False), nn.Linear(H * D, C, bias=False)
            b.gate_proj, b.up_proj = nn.Linear(C, I, bias=False), nn.Linear(C, I, bias=False)
            b.down_proj = nn.Linear(I, C, bias=False)
            self.layers.append(b)
        self.norm = RMSNorm(C, eps)
        self.lm_head = None if c.get("tie_word_embeddings") else nn.Linear(C, c["vocab_size"], bias=False)
        self.register_buffer("inv_freq", 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, D, 2).float() / D)), persistent=False)

    def load(self, W):
        with torch.no_grad():
            self.embed.weight.copy_(W["model.embed_tokens.weight"])
            for i, b in enumerate(self.layers):
                p = f"model.layers.{i}."
                for name in ("input_layernorm", "post_attention_layernorm"):
                    getattr(b, name).weight.copy_(W[p + name + ".weight"])
                for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                    getattr(b, name).weight.copy_(W[p + "self_attn." + name + ".weight"])
                for name in ("gate_proj", "up_proj", "down_proj"):
                    getattr(b, name).weight.copy_(W[p + "mlp." + name + ".weight"])
            self.norm.weight.copy_(W["model.norm.weight"])
            if self.lm_head is not None:
                self.lm_head.weight.copy_(W["lm_head.weight"])

    def forward(self, ids):
        B, T = ids.shape
        c = self.c
        H = c["num_attention_heads"]
        Hkv = c.get("num_key_value_heads") or H
        D = c["hidden_size"] // H
        ang = torch.arange(T).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat([ang, ang], -1)
        cos, sin = emb.cos(), emb.sin()

        def rope(t):
            return t * cos + torch.cat([-t[..., D // 2:], t[..., : D // 2]], -1) * sin

        blocked = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.embed(ids)
        for b in self.layers:
            h = b.input_layernorm(x)
            q = rope(b.q_proj(h).view(B, T, H, D).transpose(1, 2))
            k = rope(b.k_proj(h).view(B, T, Hkv, D).transpose(1, 2))
            v = b.v_proj(h).view(B, T, Hkv, D).transpose(1, 2)
            if Hkv != H:
                k = k[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)
                v = v[:, :, None].expand(B, Hkv, H // Hkv, T, D).reshape(B, H, T, D)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))
            att = att.masked_fill(blocked, torch.finfo(att.dtype).min).softmax(-1, dtype=torch.float32).to(q.dtype)
            x = x + b.o_proj((att @ v).transpose(1, 2).reshape(B, T, H * D))
            h = b.post_attention_layernorm(x)
            x = x + b.down_proj(F.silu(b.gate_proj(h)) * b.up_proj(h))
        x = self.norm(x)
        return F.linear(x, self.embed.weight if self.lm_head is None else self.lm_head.weight)


def report(seconds, tokens, first_loss):
    """The one JSON line bench/harness.ts reads from each side."""
    print(json.dumps({
        "side": "pytorch",
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "tokens": tokens,
        "loss": first_loss,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def token_ids(batch, seq, vocab):
    """Twin of tokenIds in ours.ts: a fixed arithmetic sequence, no RNG."""
    return torch.tensor([(i * 7919 + 13) % vocab for i in range(batch * seq)], dtype=torch.int64).view(batch, seq)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    a = ap.parse_args()
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    model = GPT2(config) if config["model_type"] == "gpt2" else Llama(config)
    W = load_safetensors(os.path.join(a.model, "model.safetensors"))
    model.load(W)
    del W
    ids = token_ids(a.batch, a.seq, config["vocab_size"])
    seconds, first_loss = [], None
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        logits = model(ids)
        V = logits.shape[-1]
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
        loss.backward()
        value = loss.item()
        for p in model.parameters():
            p.grad = None
        del logits, loss
        elapsed = time.perf_counter() - start
        if first_loss is None:
            first_loss = value
        if step >= a.warmup:
            seconds.append(elapsed)
    report(seconds, a.batch * a.seq, first_loss)


if __name__ == "__main__":
    main()
