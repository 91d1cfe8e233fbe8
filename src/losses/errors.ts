// Typed errors a user of the loss library can cause. Each names the field at fault and says
// what to do; none is thrown for a state the library itself should have prevented.
import { ConfigError } from '../config/config-error.js';
import { AlphaDpoError } from '../errors.js';

/**
 * Base class: `field` is the config key or input path at fault (e.g. `label_smoothing`,
 * `logps.referenceChosen`). LossConfigError is a ConfigError, and counts as a LossError too.
 */
export class LossError extends AlphaDpoError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof (a subclass inherits this method).
    // biome-ignore lint/complexity/noThisInStatic: the subclass, not LossError, must be tested
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === LossError && value instanceof LossConfigError);
  }
}

/** A loss config value that is missing, of the wrong type, out of range, or has no effect on the chosen loss. */
export class LossConfigError extends ConfigError {
  /** The config key at fault (the same as `key`). */
  get field(): string {
    return this.key;
  }
}

/** A loss type name that is not registered; `suggestion` is the nearest registered name, if any is close. */
export class UnknownLossTypeError extends LossConfigError {
  readonly suggestion: string | null;

  constructor(field: string, name: string, suggestion: string | null, known: readonly string[], where: string | null = null) {
    super(
      field,
      `unknown loss type '${name}'.${suggestion ? ` Did you mean '${suggestion}'?` : ''} Known loss types: ${known.join(', ')}`,
      where,
    );
    this.suggestion = suggestion;
  }
}

/** A tensor input of the wrong shape, dtype or device, or holding NaN/inf, or missing for the chosen loss. */
export class LossInputError extends LossError {}

/** A sequence with no unmasked completion token: its log-prob would be 0/0 (NaN) when averaged. */
export class EmptySequenceError extends LossInputError {
  /** The batch rows (0-based) whose labels are all masked. */
  readonly rows: readonly number[];

  constructor(field: string, rows: readonly number[]) {
    super(
      field,
      `row${rows.length > 1 ? 's' : ''} ${rows.join(', ')} ha${rows.length > 1 ? 've' : 's'} no unmasked label (every label is -100 after the shift), ` +
        'so the sequence log-prob is undefined. Drop such examples before batching (e.g. a prompt longer than max_length leaves no completion).',
    );
    this.rows = rows;
  }
}

/**
 * A loss that came out Inf or NaN although every input was finite: the hyper-parameters make
 * the logits overflow (e.g. a huge beta, or α-DPO's alpha over a tiny eps). Thrown before any
 * state changes, so the caller never back-propagates it into the weights.
 */
export class NonFiniteLossError extends LossError {
  /** The batch rows (0-based) whose loss is not finite. */
  readonly rows: readonly number[];

  constructor(rows: readonly number[], values: readonly number[], settings: string) {
    super(
      'losses',
      `row${rows.length > 1 ? 's' : ''} ${rows.join(', ')} gave a non-finite loss (${values.map(String).join(', ')}) from finite log-probs with ${settings}. ` +
        'The logits overflow: lower beta (or alpha), raise eps for alpha-dpo, or compute the log-probs in float64.',
    );
    this.rows = rows;
  }
}
