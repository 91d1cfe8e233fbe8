// Errors a user causes by handing the nn layer a checkpoint that does not fit the model.
import { AlphaDpoError } from '../errors.js';

export interface WeightShapeMismatch {
  name: string;
  /** Shape the model needs, in the checkpoint's layout. */
  expected: readonly number[];
  /** Shape found in the checkpoint. */
  found: readonly number[];
  /** What else is wrong (a dtype that is not floating point), if anything. */
  note?: string;
}

/**
 * A checkpoint whose tensors do not match the model built from its config: weights the model
 * needs and the checkpoint lacks, weights of the wrong shape or dtype, and weights the model has
 * no place for. Every offending key is listed (the message shows the first few of each kind).
 */
export class CheckpointWeightsError extends AlphaDpoError {
  readonly missing: readonly string[];
  readonly mismatched: readonly WeightShapeMismatch[];
  readonly unexpected: readonly string[];

  constructor(
    where: string,
    problems: { missing: readonly string[]; mismatched: readonly WeightShapeMismatch[]; unexpected: readonly string[] },
  ) {
    const show = (names: readonly string[]) => names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
    const parts: string[] = [];
    if (problems.missing.length > 0) parts.push(`missing weight${problems.missing.length > 1 ? 's' : ''}: ${show(problems.missing)}`);
    if (problems.mismatched.length > 0) {
      parts.push(
        `shape mismatch: ${show(problems.mismatched.map((m) => `${m.name} is [${m.found.join(', ')}], the config needs [${m.expected.join(', ')}]${m.note ? ` (${m.note})` : ''}`))}`,
      );
    }
    if (problems.unexpected.length > 0) {
      parts.push(`unexpected weight${problems.unexpected.length > 1 ? 's' : ''} the model has no place for: ${show(problems.unexpected)}`);
    }
    super(
      `${where}: the checkpoint does not fit the model its config.json describes. ${parts.join('; ')}. ` +
        'Check that config.json belongs to these weights (architecture, sizes, tie_word_embeddings).',
    );
    this.missing = problems.missing;
    this.mismatched = problems.mismatched;
    this.unexpected = problems.unexpected;
  }
}
