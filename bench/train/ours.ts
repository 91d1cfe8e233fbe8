// Our side of bench/train: full DPO training steps through the real trainer (trainPreferences),
// timed per optimiser step. The twin of peer.py: same checkpoint as policy and reference, same
// preference batch, sigmoid DPO with beta 0.1 on summed log-probs, clipping at 1.0, AdamW.
//
// With --lora R (bench/train/lora.ts), the policy trains a LoRA adapter of rank R on every linear
// layer instead, and the reference is the policy with its adapter off (no second model loaded).
//
//   node --import tsx bench/train/ours.ts --model DIR --pairs B --seq T --steps N --warmup W [--lora R]
//     [--bf16] [--ref-dtype bfloat16] [--gradient-checkpointing] [--base-dtype bfloat16 (with --lora)]
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, LoraAdapter, resolveTrainConfig, type TokenizedPair, torch, trainPreferences } from '../../src/index.js';

/** Twin of batch() in peer.py: prompt = first half, completions = second half; one pair per index. */
function preferencePairs(pairs: number, seq: number, vocab: number): TokenizedPair[] {
  const promptLen = Math.floor(seq / 2);
  return Array.from({ length: pairs }, (_, p) => {
    const prompt = Int32Array.from({ length: promptLen }, (_, i) => (p * 7919 + i * 31 + 13) % vocab);
    const completion = (side: number) =>
      Int32Array.from({ length: seq - promptLen }, (_, i) => (p * 104729 + i * 17 + side * 5 + 3) % vocab);
    return {
      chosen: { prompt, completion: completion(0) },
      rejected: { prompt, completion: completion(1) },
      source: { file: 'bench', line: p + 1 },
      metadata: {},
    } as TokenizedPair;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      pairs: { type: 'string' },
      seq: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      lora: { type: 'string' },
      bf16: { type: 'boolean' },
      'ref-dtype': { type: 'string' },
      'gradient-checkpointing': { type: 'boolean' },
      'base-dtype': { type: 'string' },
    },
  });
  const [pairs, seq, steps, warmup] = [values.pairs, values.seq, values.steps, values.warmup].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const lora = values.lora === undefined ? 0 : Number(values.lora);
  // With LoRA the frozen base may be held in bfloat16 (the adapter and its AdamW state stay float32).
  const baseDtype = (values['base-dtype'] ?? 'float32') as 'float32' | 'bfloat16';
  if (baseDtype !== 'float32' && lora === 0) throw new Error('--base-dtype is for --lora runs (a full fine-tune trains float32 weights)');
  const policy = await AutoModelForCausalLM.fromPretrained(values.model as string, { dtype: baseDtype });
  if (lora > 0) {
    const settings = {
      r: lora,
      lora_alpha: 2 * lora,
      lora_dropout: 0,
      target_modules: 'all-linear',
      modules_to_save: null,
      use_rslora: false,
    };
    LoraAdapter.attach(policy, settings);
  }
  const refDtype = (values['ref-dtype'] ?? 'float32') as 'float32' | 'bfloat16';
  const reference = lora > 0 ? null : await AutoModelForCausalLM.fromPretrained(values.model as string, { dtype: refDtype });
  const config = resolveTrainConfig({
    loss_type: 'sigmoid',
    beta: 0.1,
    ln: false,
    learning_rate: 1e-6,
    lr_scheduler_type: 'constant',
    max_steps: warmup + steps,
    per_device_train_batch_size: pairs,
    max_grad_norm: 1.0,
    shuffle: false,
    save_strategy: 'no',
    logging_steps: 1_000_000,
    logging_first_step: false,
    bf16: values.bf16 ?? false,
    gradient_checkpointing: values['gradient-checkpointing'] ?? false,
  });
  const seconds: number[] = [];
  let last = performance.now();
  const summary = await trainPreferences(
    config,
    { policy, reference, train: preferencePairs(pairs, seq, policy.vocabSize) },
    {
      quiet: true,
      onStep: (step) => {
        const now = performance.now();
        if (step > warmup) seconds.push((now - last) / 1000);
        last = now;
      },
    },
  );
  console.log(
    JSON.stringify({
      side: 'ours',
      threads: torch.getNumThreads(),
      seconds,
      tokens: 2 * pairs * seq,
      loss: summary.stepLosses[0],
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    }),
  );
  policy.dispose();
  reference?.dispose();
}

await main();
