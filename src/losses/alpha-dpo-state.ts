// The running statistics preference losses keep between calls: α-DPO's statistics of the gap
// g = Δπ − Δref (nats/token) and bco_pair's running reward mean δ (bco_running_delta). Kept by the
// caller and saved in checkpoints (the α-DPO reference code and TRL's BCO lose them on resume).
import { LossInputError } from './errors.js';

/** The JSON form of an AlphaDpoState, for checkpoints. */
export interface AlphaDpoStateJSON {
  kind: 'alpha-dpo-state';
  version: 2;
  /** Running mean of the batch means of g (zero start, no bias correction). */
  mean: number;
  /** Running mean of the batch unbiased standard deviations of g. */
  std: number;
  /** Bias-corrected exponentially weighted variance of every gap seen ('ema-moments'), nats²/token². */
  variance: number;
  /** Number of updates so far (for the bias correction of 'ema-debiased' and 'ema-moments'). */
  steps: number;
  /** bco_pair's running reward mean, present once a batch has updated it (optional, so version 2 stays readable both ways). */
  bco?: BcoRewardMeanJSON;
}

/** bco_pair's δ: the equal-weight running mean of the batch-mean rewards (TRL ≤ 0.28 RunningMoments.mean fed one batch mean per call), logits. */
export interface BcoRewardMeanJSON {
  mean: number;
  /** Number of batches averaged. */
  batches: number;
}

/** One batch's statistics of the gap g, nats/token. */
export interface GapBatchStats {
  /** mean(g). */
  mean: number;
  /** Unbiased (N − 1) standard deviation of g; 0 for one pair (no spread seen). */
  std: number;
  /** Population (N) variance of g, nats²/token²; 0 for one pair. */
  variance: number;
}

export class AlphaDpoState {
  #mean: number;
  #std: number;
  #variance: number;
  #steps: number;
  #bco: BcoRewardMeanJSON;

  /** A zero state, as the reference code starts (μ = σ = 0). */
  constructor(init: { mean?: number; std?: number; variance?: number; steps?: number; bco?: BcoRewardMeanJSON } = {}) {
    this.#mean = check('mean', init.mean ?? 0);
    this.#std = check('std', init.std ?? 0);
    this.#variance = check('variance', init.variance ?? 0);
    this.#steps = check('steps', init.steps ?? 0);
    if (this.#std < 0) throw new LossInputError('AlphaDpoState.std', `must be ≥ 0, got ${this.#std}.`);
    if (this.#variance < 0) throw new LossInputError('AlphaDpoState.variance', `must be ≥ 0, got ${this.#variance}.`);
    if (!Number.isInteger(this.#steps) || this.#steps < 0) {
      throw new LossInputError('AlphaDpoState.steps', `must be a whole number ≥ 0, got ${this.#steps}.`);
    }
    this.#bco = { mean: check('bco.mean', init.bco?.mean ?? 0), batches: check('bco.batches', init.bco?.batches ?? 0) };
    if (!Number.isInteger(this.#bco.batches) || this.#bco.batches < 0) {
      throw new LossInputError('AlphaDpoState.bco.batches', `must be a whole number ≥ 0, got ${this.#bco.batches}.`);
    }
  }

  /** bco_pair's running mean of the batch-mean rewards (logits) and how many batches it averages. */
  get bcoRewardMean(): Readonly<BcoRewardMeanJSON> {
    return { ...this.#bco };
  }

  /**
   * bco_pair's δ after one more batch whose mean reward is `batchMean` (logits): the running mean
   * μ_n = μ_(n−1) + (x − μ_(n−1))/n (TRL ≤ 0.28 RunningMoments.update with one value per call,
   * whose count starts at 1e-24, i.e. an equal-weight mean of every batch mean). Nothing changes here.
   */
  bcoAfter(batchMean: number): BcoRewardMeanJSON {
    check('batchMean', batchMean);
    const batches = this.#bco.batches + 1;
    return { mean: this.#bco.mean + (batchMean - this.#bco.mean) / batches, batches };
  }

  /** Replaces bco_pair's running reward mean (e.g. with bcoAfter(x)); the gap statistics are kept. */
  assignBco(next: BcoRewardMeanJSON): void {
    this.#bco = { mean: check('bco.mean', next.mean), batches: check('bco.batches', next.batches) };
  }

  /** Running mean μ of the gap, nats/token (raw EMA, not bias-corrected). */
  get mean(): number {
    return this.#mean;
  }

  /** Running standard deviation σ of the gap, nats/token (raw EMA of batch stds, not bias-corrected). */
  get std(): number {
    return this.#std;
  }

  /** Bias-corrected exponentially weighted variance of all gaps seen, nats²/token² ('ema-moments'). */
  get variance(): number {
    return this.#variance;
  }

  /** Number of batches that have updated the statistics. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * The state after one more batch; this one is unchanged.
   * μ ← m·μ + (1 − m)·batch mean and σ ← m·σ + (1 − m)·batch std (α-DPO reference,
   * update_and_sync_ref_mean_std). The variance is that of the mixture of every gap seen, batch t
   * weighted (1 − m)·m^(T−t)/(1 − m^T) and shared equally by its pairs: with a = (1 − m)/(1 − m^T)
   * and δ = batch mean − previous bias-corrected mean, V ← (1 − a)·(V + a·δ²) + a·batch variance
   * (the law of total variance; no E[g²] − E[g]² cancellation).
   */
  after(batch: GapBatchStats, momentum: number): AlphaDpoState {
    check('batch.mean', batch.mean);
    check('batch.std', batch.std);
    check('batch.variance', batch.variance);
    const steps = this.#steps + 1;
    const a = (1 - momentum) / (1 - momentum ** steps);
    const delta = batch.mean - this.debiased(momentum).mean;
    return new AlphaDpoState({
      bco: this.#bco,
      mean: momentum * this.#mean + (1 - momentum) * batch.mean,
      std: momentum * this.#std + (1 - momentum) * batch.std,
      variance: Math.max(0, (1 - a) * (this.#variance + a * delta * delta) + a * batch.variance),
      steps,
    });
  }

  /** Replaces the gap statistics with those of `next` (e.g. this.after(batch, m)); bco_pair's reward mean is kept. */
  assign(next: AlphaDpoState): void {
    this.#mean = next.#mean;
    this.#std = next.#std;
    this.#variance = next.#variance;
    this.#steps = next.#steps;
  }

  /** Updates the statistics with one batch in place: assign(after(batch, momentum)). */
  update(batch: GapBatchStats, momentum: number): void {
    this.assign(this.after(batch, momentum));
  }

  /** μ/(1 − m^t) and σ/(1 − m^t), Adam's correction for the zero start; zeros before the first update. */
  debiased(momentum: number): { mean: number; std: number } {
    if (this.#steps === 0) return { mean: 0, std: 0 };
    const correction = 1 - momentum ** this.#steps;
    return { mean: this.#mean / correction, std: this.#std / correction };
  }

  /** 'ema-moments': the bias-corrected mean of every gap seen and the square root of their variance. */
  pooled(momentum: number): { mean: number; std: number } {
    return { mean: this.debiased(momentum).mean, std: Math.sqrt(this.#variance) };
  }

  toJSON(): AlphaDpoStateJSON {
    return {
      kind: 'alpha-dpo-state',
      version: 2,
      mean: this.#mean,
      std: this.#std,
      variance: this.#variance,
      steps: this.#steps,
      ...(this.#bco.batches > 0 ? { bco: { ...this.#bco } } : {}),
    };
  }

  /**
   * Restores a state saved with toJSON() (e.g. from a checkpoint's JSON). Version 1 (written
   * before 'ema-moments') has no variance: it starts at std², which the EMA forgets at its rate.
   */
  static fromJSON(json: unknown): AlphaDpoState {
    if (json === null || typeof json !== 'object') {
      throw new LossInputError(
        'AlphaDpoState',
        'expected the object written by AlphaDpoState.toJSON(), got ' + (json === null ? 'null' : typeof json) + '.',
      );
    }
    const o = json as Record<string, unknown>;
    if (o.kind !== 'alpha-dpo-state' || (o.version !== 1 && o.version !== 2)) {
      throw new LossInputError(
        'AlphaDpoState',
        "expected { kind: 'alpha-dpo-state', version: 2, … } (or version 1) as written by AlphaDpoState.toJSON().",
      );
    }
    const keys = o.version === 1 ? (['mean', 'std', 'steps'] as const) : (['mean', 'std', 'variance', 'steps'] as const);
    for (const key of keys) {
      if (typeof o[key] !== 'number') throw new LossInputError(`AlphaDpoState.${key}`, `expected a number, got ${typeof o[key]}.`);
    }
    const std = o.std as number;
    const variance = o.version === 1 ? std * std : (o.variance as number);
    let bco: BcoRewardMeanJSON | undefined;
    if (o.bco !== undefined) {
      const b = o.bco as Record<string, unknown> | null;
      if (b === null || typeof b !== 'object' || typeof b.mean !== 'number' || typeof b.batches !== 'number') {
        throw new LossInputError('AlphaDpoState.bco', 'expected { mean: number, batches: number } as written by AlphaDpoState.toJSON().');
      }
      bco = { mean: b.mean, batches: b.batches };
    }
    return new AlphaDpoState({ mean: o.mean as number, std, variance, steps: o.steps as number, ...(bco ? { bco } : {}) });
  }
}

function check(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LossInputError(`AlphaDpoState.${name}`, `must be a finite number, got ${String(value)}.`);
  }
  return value;
}
