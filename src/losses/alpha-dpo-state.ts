// α-DPO's running statistics of the gap g = Δπ − Δref (nats/token): kept by the caller between
// calls and saved in checkpoints (the reference code loses them on resume).
import { LossInputError } from './errors.js';

/** The JSON form of an AlphaDpoState, for checkpoints. */
export interface AlphaDpoStateJSON {
  kind: 'alpha-dpo-state';
  version: 1;
  /** Running mean of the batch means of g (zero start, no bias correction). */
  mean: number;
  /** Running mean of the batch unbiased standard deviations of g. */
  std: number;
  /** Number of updates so far (for the bias correction of 'ema-debiased'). */
  steps: number;
}

export class AlphaDpoState {
  #mean: number;
  #std: number;
  #steps: number;

  /** A zero state, as the reference code starts (μ = σ = 0). */
  constructor(init: { mean?: number; std?: number; steps?: number } = {}) {
    this.#mean = check('mean', init.mean ?? 0);
    this.#std = check('std', init.std ?? 0);
    this.#steps = check('steps', init.steps ?? 0);
    if (this.#std < 0) throw new LossInputError('AlphaDpoState.std', `must be ≥ 0, got ${this.#std}.`);
    if (!Number.isInteger(this.#steps) || this.#steps < 0) {
      throw new LossInputError('AlphaDpoState.steps', `must be a whole number ≥ 0, got ${this.#steps}.`);
    }
  }

  /** Running mean μ of the gap, nats/token (raw EMA, not bias-corrected). */
  get mean(): number {
    return this.#mean;
  }

  /** Running standard deviation σ of the gap, nats/token (raw EMA, not bias-corrected). */
  get std(): number {
    return this.#std;
  }

  /** Number of batches that have updated the statistics. */
  get steps(): number {
    return this.#steps;
  }

  /** μ ← m·μ + (1 − m)·batchMean and σ ← m·σ + (1 − m)·batchStd (α-DPO reference, update_and_sync_ref_mean_std). */
  update(batchMean: number, batchStd: number, momentum: number): void {
    check('batchMean', batchMean);
    check('batchStd', batchStd);
    this.#mean = momentum * this.#mean + (1 - momentum) * batchMean;
    this.#std = momentum * this.#std + (1 - momentum) * batchStd;
    this.#steps += 1;
  }

  /** μ/(1 − m^t) and σ/(1 − m^t), Adam's correction for the zero start; zeros before the first update. */
  debiased(momentum: number): { mean: number; std: number } {
    if (this.#steps === 0) return { mean: 0, std: 0 };
    const correction = 1 - momentum ** this.#steps;
    return { mean: this.#mean / correction, std: this.#std / correction };
  }

  toJSON(): AlphaDpoStateJSON {
    return { kind: 'alpha-dpo-state', version: 1, mean: this.#mean, std: this.#std, steps: this.#steps };
  }

  /** Restores a state saved with toJSON() (e.g. from a checkpoint's JSON). */
  static fromJSON(json: unknown): AlphaDpoState {
    if (json === null || typeof json !== 'object') {
      throw new LossInputError(
        'AlphaDpoState',
        'expected the object written by AlphaDpoState.toJSON(), got ' + (json === null ? 'null' : typeof json) + '.',
      );
    }
    const o = json as Record<string, unknown>;
    if (o.kind !== 'alpha-dpo-state' || o.version !== 1) {
      throw new LossInputError(
        'AlphaDpoState',
        "expected { kind: 'alpha-dpo-state', version: 1, … } as written by AlphaDpoState.toJSON().",
      );
    }
    for (const key of ['mean', 'std', 'steps'] as const) {
      if (typeof o[key] !== 'number') throw new LossInputError(`AlphaDpoState.${key}`, `expected a number, got ${typeof o[key]}.`);
    }
    return new AlphaDpoState({ mean: o.mean as number, std: o.std as number, steps: o.steps as number });
  }
}

function check(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LossInputError(`AlphaDpoState.${name}`, `must be a finite number, got ${String(value)}.`);
  }
  return value;
}
