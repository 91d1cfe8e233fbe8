// What a LenTrap study runs: the presets (tiny, quick, full) and the method grids. A method is any
// loss of the registry by name with its own grid (the Cartesian product of the listed values);
// `baseFrom` makes a grid start from another method's selected configuration (α-DPO's α grid at
// the best SimPO β and γ/β, as the design says).
import { LOSS_TYPES, type LossType } from '../losses/registry.js';
import { StudyConfigError } from './study-errors.js';
import { DEFAULT_WORLD_SHAPE, type WorldShape } from './teacher-language.js';

/** A grid: each key's candidate values; `learning_rate` and `ln` are training keys, the rest loss keys. */
export type MethodGrid = Record<string, readonly (number | string | boolean)[]>;

export interface StudyMethod {
  /** The report's name for it (DPO, SimPO, α-DPO, ...). */
  name: string;
  lossType: LossType;
  grid: MethodGrid;
  /** Start from this method's judge-selected configuration and vary only `grid` on top of it. */
  baseFrom?: string;
}

/** One configuration of a method: loss keys plus learning_rate and ln. */
export type MethodConfig = Record<string, number | string | boolean>;

export interface StudyModelShape {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
}

export type JudgeCondition = 'biased' | 'control';

export interface StudyPreset {
  name: string;
  /** Seed of the teacher language, the SFT model and the pairs: the world every run shares. */
  worldSeed: number;
  world: WorldShape;
  model: StudyModelShape;
  sft: { steps: number; batchSize: number; learningRate: number };
  /** Training prompts; each gets `samplesPerPrompt` SFT samples, best and worst by the judge become a pair. */
  trainPrompts: number;
  samplesPerPrompt: number;
  /** Prompts of the tuning (selection) evaluation and of the confirmation evaluation. */
  validationPrompts: number;
  testPrompts: number;
  evalSamplesPerPrompt: number;
  /** Pairs per optimiser step; one epoch over the pairs. */
  batchSize: number;
  /** Evaluations per run, evenly spaced, the last at the final step. */
  checkpoints: number;
  /** Whether the grids are tuned (on the validation prompts, seed `tuningSeed`) before confirmation. */
  tune: boolean;
  tuningSeed: number;
  /** Confirmation seeds (training order and evaluation sampling; shared by every method). */
  seeds: readonly number[];
  /** The length-biased judge, and the λ = 0 control when listed. */
  conditions: readonly JudgeCondition[];
  /** P(longer wins) the biased judge is calibrated to, over pairs of SFT samples. */
  longerWinsTarget: number;
  methods: readonly StudyMethod[];
  bootstrapReplicates: number;
}

const ONE_CONFIG: readonly StudyMethod[] = [
  { name: 'DPO', lossType: 'sigmoid', grid: { beta: [0.1], ln: [false], learning_rate: [3e-4] } },
  { name: 'SimPO', lossType: 'simpo', grid: { beta: [2], gamma_beta_ratio: [0.5], ln: [true], learning_rate: [3e-4] } },
  {
    name: 'α-DPO',
    lossType: 'alpha-dpo',
    grid: { beta: [2], gamma_beta_ratio: [0.5], alpha: [0.1], normalization: ['ema'], ln: [true], learning_rate: [3e-4] },
  },
];

/** The tiny preset's: the same methods at a learning rate that moves a 14k-parameter model in 6 steps. */
const TINY_METHODS: readonly StudyMethod[] = ONE_CONFIG.map((m) => ({ ...m, grid: { ...m.grid, learning_rate: [3e-3] } }));

const FULL_GRIDS: readonly StudyMethod[] = [
  { name: 'DPO', lossType: 'sigmoid', grid: { beta: [0.03, 0.1, 0.3, 1], ln: [false], learning_rate: [3e-5, 1e-4, 3e-4] } },
  {
    name: 'SimPO',
    lossType: 'simpo',
    grid: { beta: [2, 10], gamma_beta_ratio: [0.3, 0.5, 1], ln: [true], learning_rate: [3e-5, 1e-4, 3e-4] },
  },
  { name: 'α-DPO', lossType: 'alpha-dpo', baseFrom: 'SimPO', grid: { alpha: [0.05, 0.1, 0.2, 0.5], normalization: ['ema'] } },
  // The secondary arm: the bias-corrected normalisation instead of the reference code's (docs/alpha-dpo.md).
  {
    name: 'α-DPO (debiased)',
    lossType: 'alpha-dpo',
    baseFrom: 'SimPO',
    grid: { alpha: [0.05, 0.1, 0.2, 0.5], normalization: ['ema-debiased'] },
  },
];

const SMALL_MODEL: StudyModelShape = { hiddenSize: 64, intermediateSize: 192, layers: 2, heads: 4 };

export const PRESETS: Record<'tiny' | 'quick' | 'full', StudyPreset> = {
  tiny: {
    name: 'tiny',
    worldSeed: 0,
    world: { ...DEFAULT_WORLD_SHAPE, maxWords: 24, meanWords: 10 },
    model: { hiddenSize: 32, intermediateSize: 64, layers: 1, heads: 2 },
    sft: { steps: 40, batchSize: 32, learningRate: 3e-3 },
    trainPrompts: 96,
    samplesPerPrompt: 4,
    validationPrompts: 24,
    testPrompts: 24,
    evalSamplesPerPrompt: 2,
    batchSize: 16,
    checkpoints: 2,
    tune: false,
    tuningSeed: 0,
    seeds: [0, 1],
    conditions: ['biased'],
    longerWinsTarget: 0.68,
    methods: TINY_METHODS,
    bootstrapReplicates: 200,
  },
  quick: {
    name: 'quick',
    worldSeed: 0,
    world: DEFAULT_WORLD_SHAPE,
    model: SMALL_MODEL,
    sft: { steps: 200, batchSize: 64, learningRate: 3e-3 },
    trainPrompts: 1024,
    samplesPerPrompt: 4,
    validationPrompts: 256,
    testPrompts: 256,
    evalSamplesPerPrompt: 2,
    batchSize: 64,
    checkpoints: 3,
    tune: false,
    tuningSeed: 0,
    seeds: [0, 1, 2],
    conditions: ['biased'],
    longerWinsTarget: 0.68,
    methods: ONE_CONFIG,
    bootstrapReplicates: 1000,
  },
  full: {
    name: 'full',
    worldSeed: 0,
    world: DEFAULT_WORLD_SHAPE,
    model: SMALL_MODEL,
    sft: { steps: 1500, batchSize: 64, learningRate: 3e-3 },
    trainPrompts: 5000,
    samplesPerPrompt: 4,
    validationPrompts: 500,
    testPrompts: 1000,
    evalSamplesPerPrompt: 2,
    batchSize: 64,
    checkpoints: 5,
    tune: true,
    tuningSeed: 100,
    seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    conditions: ['biased', 'control'],
    longerWinsTarget: 0.68,
    methods: FULL_GRIDS,
    bootstrapReplicates: 1000,
  },
};

export type PresetName = keyof typeof PRESETS;

/** Every configuration of a grid (Cartesian product, keys in the grid's order), on top of `base`. */
export function gridConfigs(grid: MethodGrid, base: MethodConfig = {}): MethodConfig[] {
  let out: MethodConfig[] = [{ ...base }];
  for (const [key, values] of Object.entries(grid)) {
    out = out.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return out;
}

/** Checks a method list a user gave (names unique, loss types known, grids non-empty, baseFrom earlier). */
export function checkMethods(methods: readonly StudyMethod[]): void {
  const seen = new Set<string>();
  for (const m of methods) {
    if (seen.has(m.name)) throw new StudyConfigError(`two methods are named '${m.name}': give each a unique name.`);
    if (!(LOSS_TYPES as readonly string[]).includes(m.lossType)) {
      throw new StudyConfigError(`method '${m.name}': unknown loss_type '${m.lossType}'; known: ${LOSS_TYPES.join(', ')}.`);
    }
    for (const [key, values] of Object.entries(m.grid)) {
      if (!Array.isArray(values) || values.length === 0) {
        throw new StudyConfigError(`method '${m.name}': grid key '${key}' needs a non-empty list of values.`);
      }
    }
    if (m.baseFrom !== undefined && !seen.has(m.baseFrom)) {
      throw new StudyConfigError(`method '${m.name}': baseFrom '${m.baseFrom}' must name a method listed before it.`);
    }
    seen.add(m.name);
  }
}
