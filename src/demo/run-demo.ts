// The demo end to end: tokenizer, SFT from scratch, on-policy pairs, DPO / SimPO / α-DPO from
// the same SFT weights, and the evaluation of every policy. Everything random is drawn from the
// seed: libtorch's generator (model initialisation, the trainer's seeding), and separate seeded
// streams for the prompts, the demonstrations and each sampling stage, so the same seed gives
// the same table.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import { SeededRandom } from '../random/seeded-random.js';
import { resolveTrainConfig, trainPreferences } from '../train/index.js';
import { initDemoModel } from './demo-model.js';
import { DEMO_METHODS, type DemoMethod, type DemoSizes, FULL_SIZES, QUICK_SIZES } from './demo-settings.js';
import { createDemoTokenizer } from './demo-tokenizer.js';
import { type EvalSampling, evaluatePolicy, type PolicyEvaluation, type PolicyLoss, samplePolicy } from './evaluate-policy.js';
import { randomPrompt, type SortPrompt } from './letter-sort-task.js';
import { buildOnPolicyPairs, type OnPolicyPairs } from './on-policy-pairs.js';
import { type SftResult, supervisedFineTune } from './sft.js';
import { encodePrompt } from './sort-responses.js';
import { stageTimer } from './stage-timer.js';
import { mean } from './summary-stats.js';

export interface DemoOptions {
  /** Seeds everything (an integer in [0, 2^32)). Default 0. */
  seed?: number;
  /** The small sizes (QUICK_SIZES) instead of the full ones. */
  quick?: boolean;
  /** Overrides the sizes entirely (tests). */
  sizes?: DemoSizes;
  methods?: readonly DemoMethod[];
  /** Save the α-DPO policy with its tokenizer here as a Hugging Face folder. */
  outDir?: string | null;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
  /** Extra training keys for every preference method (e.g. { bf16: true }, bench/train/quality.ts). */
  trainKeys?: Record<string, unknown>;
}

export interface DemoRow {
  /** 'SFT' or the method's name. */
  method: string;
  evaluation: PolicyEvaluation;
  /** Training loss of the last preference step (null for SFT). */
  finalLoss: number | null;
  /** Training loss of the first preference step (null for SFT). */
  firstLoss?: number | null;
}

/** What the on-policy pairs look like (no pair tensors, just numbers). */
export interface PairSummary {
  prompts: number;
  pairs: number;
  tiedPrompts: number;
  meanSampleReward: number;
  meanChosenReward: number;
  meanRejectedReward: number;
  meanChosenLength: number;
  meanRejectedLength: number;
}

export interface DemoResult {
  seed: number;
  quick: boolean;
  sizes: DemoSizes;
  methods: readonly DemoMethod[];
  sft: SftResult;
  trainPairs: PairSummary;
  heldOutPairs: PairSummary;
  /** Mean length of the ideal responses to the evaluation prompts (their letter count). */
  idealLength: number;
  rows: DemoRow[];
  /** Wall-clock seconds per stage. */
  seconds: Record<string, number>;
}

/** Stream ids within the seed (SFT data uses stream 1, see sft.ts). */
const STREAMS = { trainPrompts: 2, heldOutPrompts: 3, evalPrompts: 4 } as const;
/** Offsets that turn the demo seed into distinct generate() seeds per sampling stage. */
const SAMPLING = { trainPairs: 1, heldOutPairs: 2, evaluation: 3 } as const;

function prompts(seed: number, stream: number, count: number): SortPrompt[] {
  const rng = SeededRandom.forStream(seed, stream);
  return Array.from({ length: count }, () => randomPrompt(rng));
}

function summarisePairs(prompts: number, built: OnPolicyPairs): PairSummary {
  const { pairs, ...rest } = built;
  return { prompts, pairs: pairs.length, ...rest };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  const quick = options.quick ?? false;
  const sizes = options.sizes ?? (quick ? QUICK_SIZES : FULL_SIZES);
  const methods = options.methods ?? DEMO_METHODS;
  const log = options.log ?? (() => {});
  const { seconds, lap } = stageTimer();
  const samplingSeed = (offset: number) => seed * 8 + offset;

  const work = await mkdtemp(join(tmpdir(), 'alpha-dpo-demo-'));
  try {
    const tokenizer = await createDemoTokenizer(join(work, 'tokenizer'));
    const sft = initDemoModel(sizes.model, seed);
    try {
      log(`SFT: training a ${sft.numParameters}-parameter Llama from scratch on noisy demonstrations (${sizes.sft.steps} steps)`);
      const sftResult = supervisedFineTune(sft, tokenizer, {
        ...sizes.sft,
        warmupRatio: 0.05,
        weightDecay: 0.01,
        maxGradNorm: 1,
        seed,
        log,
      });
      const sftDir = join(work, 'sft');
      await sft.savePretrained(sftDir, { tokenizer });
      lap('sft');

      const promptSets = {
        train: prompts(seed, STREAMS.trainPrompts, sizes.trainPrompts),
        heldOut: prompts(seed, STREAMS.heldOutPrompts, sizes.heldOutPrompts),
        eval: prompts(seed, STREAMS.evalPrompts, sizes.evalPrompts),
      };
      const ids = (set: SortPrompt[]) => set.map((p) => encodePrompt(tokenizer, p));
      const evalIds = ids(promptSets.eval);
      log(`pairs: ${sizes.samplesPerPrompt} samples per prompt from the SFT model, best = chosen, worst = rejected`);
      const pairOptions = { samplesPerPrompt: sizes.samplesPerPrompt, maxNewTokens: sizes.maxNewTokens };
      const trainPairs = buildOnPolicyPairs(sft, promptSets.train, ids(promptSets.train), {
        ...pairOptions,
        seed: samplingSeed(SAMPLING.trainPairs),
        split: 'train',
      });
      const heldOutPairs = buildOnPolicyPairs(sft, promptSets.heldOut, ids(promptSets.heldOut), {
        ...pairOptions,
        seed: samplingSeed(SAMPLING.heldOutPairs),
        split: 'held_out',
      });
      log(`pairs: ${trainPairs.pairs.length} for training, ${heldOutPairs.pairs.length} held out`);
      const evalSampling: EvalSampling = {
        samplesPerPrompt: sizes.evalSamplesPerPrompt,
        maxNewTokens: sizes.maxNewTokens,
        seed: samplingSeed(SAMPLING.evaluation),
      };
      const sftSamples = samplePolicy(sft, promptSets.eval, evalIds, evalSampling);
      const rows: DemoRow[] = [
        {
          method: 'SFT',
          evaluation: evaluatePolicy({
            policy: sft,
            sft,
            promptIds: evalIds,
            samples: sftSamples,
            sftSamples,
            heldOutPairs: heldOutPairs.pairs,
            loss: null,
          }),
          finalLoss: null,
        },
      ];
      lap('pairs');

      for (const method of methods) {
        const config = resolveTrainConfig({
          loss_type: method.lossType,
          ...method.loss,
          ln: method.ln,
          learning_rate: method.learningRate,
          max_steps: sizes.preferenceSteps,
          per_device_train_batch_size: sizes.preferenceBatchSize,
          gradient_accumulation_steps: 1,
          lr_scheduler_type: 'cosine',
          warmup_ratio: 0.1,
          max_grad_norm: 1,
          seed,
          save_steps: 0,
          logging_steps: Math.max(1, Math.floor(sizes.preferenceSteps / 4)),
          do_eval: false,
          ...options.trainKeys,
        });
        const needsReference = lossRequirements(method.lossType, config.loss).reference;
        const policy = await AutoModelForCausalLM.fromPretrained(sftDir);
        try {
          log(`${method.name}: ${sizes.preferenceSteps} steps of ${sizes.preferenceBatchSize} pairs (loss_type ${method.lossType})`);
          const summary = await trainPreferences(
            config,
            { policy, reference: needsReference ? sft : null, tokenizer, train: trainPairs.pairs },
            { quiet: true, log },
          );
          policy.eval();
          const loss: PolicyLoss = { lossType: method.lossType, config: config.loss, ln: config.ln, needsReference };
          rows.push({
            method: method.name,
            evaluation: evaluatePolicy({
              policy,
              sft,
              promptIds: evalIds,
              samples: samplePolicy(policy, promptSets.eval, evalIds, evalSampling),
              sftSamples,
              heldOutPairs: heldOutPairs.pairs,
              loss,
            }),
            finalLoss: summary.finalLoss,
            firstLoss: summary.stepLosses[0] ?? null,
          });
          if (options.outDir && method.lossType === 'alpha-dpo') {
            await policy.savePretrained(options.outDir, { tokenizer });
            log(`${method.name}: saved with its tokenizer to ${options.outDir}`);
          }
        } finally {
          policy.dispose();
        }
        lap(method.name);
      }
      return {
        seed,
        quick,
        sizes,
        methods,
        sft: sftResult,
        trainPairs: summarisePairs(sizes.trainPrompts, trainPairs),
        heldOutPairs: summarisePairs(sizes.heldOutPrompts, heldOutPairs),
        idealLength: mean(promptSets.eval.map((p) => p.length)),
        rows,
        seconds,
      };
    } finally {
      sft.dispose();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
