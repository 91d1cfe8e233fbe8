// Parameters taken from a loaded checkpoint by name. The tensors are adopted, not copied (the
// store owns them afterwards), except those the layout lists as stored transposed, which are
// transposed once here with their shape checked. Missing, mis-shaped and unexpected keys are
// collected while the model is built and reported together by finish().
import type { DType } from '../tensor/dtype.js';
import { empty } from '../tensor/functions.generated.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { CheckpointWeightsError, type WeightShapeMismatch } from './errors.js';
import type { Initializer, ParameterSource } from './parameter-store.js';

/** How an architecture's checkpoint keys relate to its parameters. */
export interface CheckpointLayout {
  /**
   * Prefix of the base model's keys (`transformer` for GPT-2, `model` for Llama). Checkpoints of
   * the bare base model (GPT-2 files on the hub) omit it; transformers strips or adds it as
   * needed, and so do we.
   */
  basePrefix: string;
  /** True for keys stored as [in, out] (GPT-2's Conv1D), which our Linear holds as [out, in]. */
  isTransposed(name: string): boolean;
  /** True for keys a checkpoint may carry that hold no parameter (buffers such as GPT-2's attn.bias). */
  isIgnorable(name: string): boolean;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export class CheckpointSource implements ParameterSource {
  readonly #tensors: Map<string, Tensor>;
  readonly #layout: CheckpointLayout;
  readonly #where: string;
  readonly #stripPrefix: boolean;
  readonly #missing: string[] = [];
  readonly #mismatched: WeightShapeMismatch[] = [];

  /** `tensors` is taken over: every tensor in it is either adopted by the store or disposed by finish(). */
  constructor(tensors: Map<string, Tensor>, layout: CheckpointLayout, where: string) {
    this.#tensors = tensors;
    this.#layout = layout;
    this.#where = where;
    const prefix = `${layout.basePrefix}.`;
    this.#stripPrefix = ![...tensors.keys()].some((k) => k.startsWith(prefix));
  }

  /** The checkpoint key that holds parameter `name`. */
  #checkpointKey(name: string): string {
    const prefix = `${this.#layout.basePrefix}.`;
    return this.#stripPrefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
  }

  take(name: string, shape: readonly number[], dtype: DType, _init: Initializer): Tensor {
    const key = this.#checkpointKey(name);
    const found = this.#tensors.get(key);
    const transposed = this.#layout.isTransposed(name);
    const stored = transposed ? [shape[1] as number, shape[0] as number] : [...shape];
    // A stand-in so the model can finish building and every problem be listed; finish() throws.
    const placeholder = () => empty(shape, { dtype });
    if (found === undefined) {
      this.#missing.push(key);
      return placeholder();
    }
    this.#tensors.delete(key);
    if (!sameShape(found.shape, stored) || found.dtype !== dtype) {
      this.#mismatched.push({
        name: key,
        expected: stored,
        found: found.shape,
        ...(found.dtype !== dtype ? { note: `dtype ${found.dtype}, expected ${dtype}` } : {}),
      });
      found.dispose();
      return placeholder();
    }
    if (!transposed) return found;
    // Conv1D stores [in, out]; y = x·W + b equals F.linear(x, Wᵀ, b). The transposed view is
    // disposed with the original, so the checkpoint's copy is freed now, not at the next GC.
    const t = tidy(() => found.transpose(0, 1).contiguous());
    found.dispose();
    return t;
  }

  /**
   * Ends loading: throws CheckpointWeightsError if a parameter was missing or mis-shaped, or if
   * the checkpoint holds a key that is neither used, ignorable, nor a tied alias. Leftover
   * tensors are disposed either way.
   */
  finish(ties: ReadonlyMap<string, string>): void {
    const unexpected: string[] = [];
    for (const [key, t] of this.#tensors) {
      const name = this.#stripPrefix && !ties.has(key) ? `${this.#layout.basePrefix}.${key}` : key;
      if (!ties.has(name) && !this.#layout.isIgnorable(name)) unexpected.push(key);
      t.dispose();
    }
    this.#tensors.clear();
    if (this.#missing.length > 0 || this.#mismatched.length > 0 || unexpected.length > 0) {
      throw new CheckpointWeightsError(this.#where, { missing: this.#missing, mismatched: this.#mismatched, unexpected });
    }
  }
}
