// Supervised fine-tuning of the demo model from scratch on the careless annotators'
// demonstrations: next-token cross-entropy on the completion tokens only (prompt and padding
// labels are −100), AdamW, cosine schedule with warm-up, global-norm clipping. Every step draws
// a fresh batch of prompts and demonstrations from a seeded stream, so the run is a function of
// the seed.
import { IGNORE_INDEX } from '../losses/sequence-logps.js';
import type { CausalLM } from '../models/causal-lm.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { lrMultiplier, warmupStepsFor } from '../optim/lr-schedule.js';
import { SeededRandom } from '../random/seeded-random.js';
import * as torch from '../tensor/torch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { DEMO_IDS } from './demo-tokenizer.js';
import { noisyDemonstration, randomPrompt } from './letter-sort-task.js';
import { encodeCompletion, encodePrompt } from './sort-responses.js';

export interface SftOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the steps spent warming the learning rate up from 0. */
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Seed of the prompts and demonstrations. */
  seed: number;
  /** Called every `logEvery` steps and at the last. */
  log?: ((line: string) => void) | undefined;
  logEvery?: number;
  /** Draws one batch from the seeded stream; default: the letter-sort demonstrations (sftBatch). Other tasks (the study) pass their own. */
  nextBatch?: (rng: SeededRandom, batchSize: number) => SftBatch;
}

/** One SFT batch: [B, T] right-padded ids, and labels (−100 outside completions). */
export interface SftBatch {
  ids: number[][];
  labels: number[][];
}

export interface SftResult {
  /** Mean cross-entropy (nats/token) over the first and the last 10% of steps. */
  firstLoss: number;
  lastLoss: number;
}

/** Stream id of the SFT data within the demo seed (other stages use other streams). */
export const SFT_STREAM = 1;

/** One batch as [B, T] int64 ids (right-padded) and labels (−100 outside completions). */
export function sftBatch(tokenizer: Tokenizer, rng: SeededRandom, batchSize: number): SftBatch {
  const rows = Array.from({ length: batchSize }, () => {
    const prompt = randomPrompt(rng);
    return { prompt: encodePrompt(tokenizer, prompt), completion: encodeCompletion(tokenizer, noisyDemonstration(prompt, rng)) };
  });
  const width = Math.max(...rows.map((r) => r.prompt.length + r.completion.length));
  const pad = (values: number[], fill: number) => [...values, ...new Array<number>(width - values.length).fill(fill)];
  return {
    ids: rows.map((r) => pad([...r.prompt, ...r.completion], DEMO_IDS.pad)),
    labels: rows.map((r) => pad([...new Array<number>(r.prompt.length).fill(IGNORE_INDEX), ...r.completion], IGNORE_INDEX)),
  };
}

/** Trains `model` in place; returns the loss at the start and the end. */
export function supervisedFineTune(model: CausalLM, tokenizer: Tokenizer | null, options: SftOptions): SftResult {
  if (!tokenizer && !options.nextBatch) throw new TypeError('supervisedFineTune needs a tokenizer or options.nextBatch');
  const nextBatch = options.nextBatch ?? ((rng: SeededRandom, size: number) => sftBatch(tokenizer as Tokenizer, rng, size));
  const rng = SeededRandom.forStream(options.seed, SFT_STREAM);
  const params = model.parameters();
  const optimizer = new AdamW(params, { lr: options.learningRate, weightDecay: options.weightDecay });
  const schedule = {
    type: 'cosine' as const,
    warmupSteps: warmupStepsFor(options.steps, 0, options.warmupRatio),
    totalSteps: options.steps,
  };
  const window = Math.max(1, Math.floor(options.steps / 10));
  const losses: number[] = [];
  const logEvery = options.logEvery ?? 100;
  model.train();
  try {
    for (let step = 0; step < options.steps; step++) {
      const batch = nextBatch(rng, options.batchSize);
      const loss = torch.tidy(() => {
        const ids = torch.tensor(batch.ids, { dtype: 'int64' });
        const labels = torch.tensor(batch.labels, { dtype: 'int64' });
        const logits = model.forward(ids); // [B, T, V]
        const time = logits.size(1);
        // Position t predicts token t + 1.
        const l = logits
          .slice(1, 0, time - 1)
          .reshape([-1, logits.size(2)])
          .crossEntropy(labels.slice(1, 1, time).reshape([-1]), IGNORE_INDEX);
        l.backward();
        return l.item();
      });
      clipGradNorm(params, options.maxGradNorm);
      optimizer.lr = options.learningRate * lrMultiplier(schedule, step);
      optimizer.step();
      optimizer.zeroGrad();
      losses.push(loss);
      if (options.log && ((step + 1) % logEvery === 0 || step + 1 === options.steps)) {
        options.log(`sft step ${step + 1}/${options.steps}  loss ${loss.toFixed(4)}`);
      }
    }
  } finally {
    model.eval();
    optimizer.zeroGrad();
    optimizer.dispose();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { firstLoss: mean(losses.slice(0, window)), lastLoss: mean(losses.slice(-window)) };
}
