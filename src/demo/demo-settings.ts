// What the demo runs: the sizes of each stage (full and --quick) and the three preference
// methods with their hyper-parameters. Keys of the training configs are TRL's and the α-DPO
// reference code's, as `alpha-dpo train` reads them.
import type { LossType } from '../losses/registry.js';
import type { DemoModelShape } from './demo-model.js';

export interface DemoSizes {
  model: DemoModelShape;
  sft: { steps: number; batchSize: number; learningRate: number };
  /** Prompts sampled from the SFT model to build the training pairs, and samples per prompt. */
  trainPrompts: number;
  /** Prompts whose best/worst pairs are held out for the reward accuracy. */
  heldOutPrompts: number;
  samplesPerPrompt: number;
  /** Prompts every policy answers for the gold-reward, win-rate, length and KL columns, and samples per prompt. */
  evalPrompts: number;
  evalSamplesPerPrompt: number;
  /** Longest response: 2 × the longest prompt (8 letters) leaves room for rambling. */
  maxNewTokens: number;
  /** Preference-optimisation steps per method, and pairs per step. */
  preferenceSteps: number;
  preferenceBatchSize: number;
}

/** The full demo (`npm run demo`): 30–50 s on two CPU cores (SFT ≈ 8 s, pairs ≈ 7 s, each method ≈ 5–8 s with its evaluation). */
export const FULL_SIZES: DemoSizes = {
  model: { hiddenSize: 64, intermediateSize: 128, layers: 2, heads: 4 },
  sft: { steps: 400, batchSize: 64, learningRate: 3e-3 },
  trainPrompts: 2048,
  heldOutPrompts: 512,
  samplesPerPrompt: 8,
  evalPrompts: 512,
  evalSamplesPerPrompt: 8,
  maxNewTokens: 16,
  preferenceSteps: 256,
  preferenceBatchSize: 16,
};

/** `--quick`: every stage, much smaller (for the reproducibility test); its numbers are not meant to be read. */
export const QUICK_SIZES: DemoSizes = {
  model: { hiddenSize: 32, intermediateSize: 64, layers: 2, heads: 2 },
  sft: { steps: 60, batchSize: 32, learningRate: 3e-3 },
  trainPrompts: 128,
  heldOutPrompts: 64,
  samplesPerPrompt: 4,
  evalPrompts: 64,
  evalSamplesPerPrompt: 2,
  maxNewTokens: 16,
  preferenceSteps: 8,
  preferenceBatchSize: 8,
};

/** One preference method of the table. */
export interface DemoMethod {
  /** The table's name for it. */
  name: string;
  lossType: LossType;
  /** Loss keys (beta, gamma_beta_ratio, alpha, normalization, ...) as the loss library reads them. */
  loss: Record<string, number | string>;
  /** Averaged (true: SimPO, α-DPO) or summed (false: DPO) sequence log-probs. */
  ln: boolean;
  learningRate: number;
}

/**
 * The methods, tuned briefly on this task (seed 0) so that each one moves the gold reward; the
 * same learning rate for all three, so their differences come from the losses. β and γ_r of
 * SimPO and α-DPO are on the scale of the published configs (docs/alpha-dpo.md); DPO's β
 * is on summed log-probs, as in the paper's DPO baseline.
 */
export const DEMO_METHODS: readonly DemoMethod[] = [
  { name: 'DPO', lossType: 'sigmoid', loss: { beta: 0.1 }, ln: false, learningRate: 5e-5 },
  { name: 'SimPO', lossType: 'simpo', loss: { beta: 2.5, gamma_beta_ratio: 0.3 }, ln: true, learningRate: 5e-5 },
  {
    name: 'α-DPO',
    lossType: 'alpha-dpo',
    // The reference normalisation, as docs/demo.md says (16 pairs per step, so its σ is never 0).
    loss: { beta: 2.5, gamma_beta_ratio: 0.3, alpha: 0.1, normalization: 'ema' },
    ln: true,
    learningRate: 5e-5,
  },
];
