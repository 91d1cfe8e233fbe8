"""TRL side of bench/train: DPOTrainer training steps on the same checkpoint and batch, timed.

    /work/venv/bin/python bench/train/trl_peer.py --model DIR --pairs B --seq T --steps N --warmup W
        [--bf16] [--precompute-ref-log-probs] [--padding-free]

What a user would run instead of alpha-dpo: TRL's DPOTrainer (transformers' GPT2LMHeadModel or
LlamaForCausalLM loaded from DIR, a frozen copy as the reference), sigmoid DPO with beta 0.1,
learning rate 1e-6 constant, clipping at 1.0, AdamW, dropout off (TRL's default), on the CPU.
DPOTrainer takes text, so the twin batch of ours.ts (prompt = first half, completions = second
half) is written as words "t<id>" for a word-level tokenizer whose vocabulary is the model's; TRL
appends EOS to each completion, so completions carry one id fewer and the rows have T tokens as
ours. Step times come from a callback (on_step_begin → on_step_end). Prints one JSON line.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import warnings

import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, TrainerCallback
from trl import DPOConfig, DPOTrainer


# Equal threads on every side: bench/models/peer.py raises Debian's lone default thread as our
# addon does (importing it applies that).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "models"))
import peer  # noqa: E402,F401


def word_tokenizer(vocab):
    """Word-level tokenizer: "t<id>" is token id; the last id doubles as EOS and padding."""
    words = {f"t{i}": i for i in range(vocab - 1)}
    words["<eos>"] = vocab - 1
    tok = Tokenizer(models.WordLevel(words, unk_token="<eos>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")
    return fast


def rows(pairs, seq, vocab):
    """Twin of preferencePairs in ours.ts, as text (the completion's last id is TRL's EOS)."""
    prompt_len = seq // 2
    out = {"prompt": [], "chosen": [], "rejected": []}
    text = lambda ids: " ".join(f"t{i}" for i in ids)  # noqa: E731
    for p in range(pairs):
        out["prompt"].append(text((p * 7919 + i * 31 + 13) % (vocab - 1) for i in range(prompt_len)))
        for key, side in (("chosen", 0), ("rejected", 1)):
            ids = [(p * 104729 + i * 17 + side * 5 + 3) % (vocab - 1) for i in range(seq - prompt_len - 1)]
            out[key].append(" " + text(ids))
    return Dataset.from_dict(out)


class StepTimer(TrainerCallback):
    def __init__(self):
        self.seconds, self.losses, self.start = [], [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self.start)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(logs["loss"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    for name in ("pairs", "seq", "steps", "warmup"):
        ap.add_argument(f"--{name}", type=int, required=True)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--precompute-ref-log-probs", action="store_true")
    ap.add_argument("--padding-free", action="store_true")
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    policy = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    reference = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    vocab = policy.config.vocab_size
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as out:
        config = DPOConfig(
            output_dir=out,
            per_device_train_batch_size=a.pairs,
            max_steps=a.warmup + a.steps,
            learning_rate=1e-6,
            lr_scheduler_type="constant",
            beta=0.1,
            loss_type="sigmoid",
            max_grad_norm=1.0,
            bf16=a.bf16,
            use_cpu=True,
            report_to="none",
            save_strategy="no",
            logging_steps=1,
            max_length=None,
            precompute_ref_log_probs=a.precompute_ref_log_probs,
            padding_free=a.padding_free,
            dataloader_num_workers=0,
            seed=0,
        )
        trainer = DPOTrainer(
            model=policy,
            ref_model=reference,
            args=config,
            train_dataset=rows(a.pairs, a.seq, vocab),
            processing_class=word_tokenizer(vocab),
            callbacks=[timer],
        )
        trainer.train()
    print(
        json.dumps(
            {
                "side": "trl",
                "threads": torch.get_num_threads(),
                "seconds": timer.seconds[a.warmup :],
                "tokens": 2 * a.pairs * a.seq,
                "loss": timer.losses[0] if timer.losses else float("nan"),
                "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
