// Our side of bench/train/real-lengths.ts: sigmoid-DPO steps through the real trainer on the
// driver's token ids, 8 pairs per step in file order, timed per optimiser step.
//   node --import tsx bench/train/real-lengths-ours.ts --model DIR --pairs FILE --steps N --warmup W --layout packed|plain
//        [--bf16] [--ref-dtype bfloat16] [--gradient-checkpointing]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, resolveTrainConfig, type TokenizedPair, torch, trainPreferences } from '../../src/index.js';

const PAIRS_PER_STEP = 8;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      pairs: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      layout: { type: 'string' },
      bf16: { type: 'boolean' },
      'ref-dtype': { type: 'string' },
      'gradient-checkpointing': { type: 'boolean' },
    },
  });
  const [steps, warmup] = [Number(values.steps), Number(values.warmup)];
  const packed = values.layout === 'packed';
  const raw = JSON.parse(await readFile(values.pairs as string, 'utf8')) as { chosen: number[][]; rejected: number[][] }[];
  const pairs = raw.map(
    (p, i) =>
      ({
        chosen: { prompt: Int32Array.from(p.chosen[0] as number[]), completion: Int32Array.from(p.chosen[1] as number[]) },
        rejected: { prompt: Int32Array.from(p.rejected[0] as number[]), completion: Int32Array.from(p.rejected[1] as number[]) },
        source: { file: 'bench', index: i, line: i + 1 },
        metadata: {},
      }) as TokenizedPair,
  );
  const policy = await AutoModelForCausalLM.fromPretrained(values.model as string);
  const reference = await AutoModelForCausalLM.fromPretrained(values.model as string, {
    dtype: (values['ref-dtype'] ?? 'float32') as 'float32' | 'bfloat16',
  });
  const config = resolveTrainConfig({
    loss_type: 'sigmoid',
    beta: 0.1,
    ln: false,
    learning_rate: 1e-6,
    lr_scheduler_type: 'constant',
    max_steps: warmup + steps,
    per_device_train_batch_size: PAIRS_PER_STEP,
    max_grad_norm: 1.0,
    shuffle: false,
    save_strategy: 'no',
    logging_steps: 1_000_000,
    logging_first_step: false,
    bf16: values.bf16 ?? false,
    gradient_checkpointing: values['gradient-checkpointing'] ?? false,
    ...(packed
      ? { padding_free: true, prefix_sharing: true, vocab_chunk_size: 8192 }
      : { padding_free: false, prefix_sharing: false, vocab_chunk_size: 0 }),
  });
  const seconds: number[] = [];
  let last = performance.now();
  const summary = await trainPreferences(
    config,
    { policy, reference, train: pairs },
    {
      quiet: true,
      onStep: (step) => {
        const now = performance.now();
        if (step > warmup) seconds.push((now - last) / 1000);
        last = now;
      },
    },
  );
  // Tokens per timed step: real ones, and those the forward pass runs on in this layout.
  const len = (s: TokenizedPair['chosen']) => s.prompt.length + s.completion.length;
  const common = (p: TokenizedPair) => {
    const a = [...p.chosen.prompt, ...p.chosen.completion];
    const b = [...p.rejected.prompt, ...p.rejected.completion];
    let k = 0;
    while (k < Math.min(a.length, b.length) && a[k] === b[k]) k++;
    return k;
  };
  let real = 0;
  let forward = 0;
  for (let s = warmup; s < warmup + steps; s++) {
    const batch = pairs.slice(s * PAIRS_PER_STEP, (s + 1) * PAIRS_PER_STEP);
    real += batch.reduce((a, p) => a + len(p.chosen) + len(p.rejected), 0);
    forward += packed
      ? batch.reduce((a, p) => a + len(p.chosen) + len(p.rejected) - common(p), 0)
      : 2 * batch.length * Math.max(...batch.flatMap((p) => [len(p.chosen), len(p.rejected)]));
  }
  console.log(
    JSON.stringify({
      seconds,
      pairs: PAIRS_PER_STEP,
      tokens: Math.round(real / steps),
      paddedTokens: Math.round(forward / steps),
      loss: summary.stepLosses[0],
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      threads: torch.getNumThreads(),
    }),
  );
  policy.dispose();
  reference.dispose();
}

await main();
