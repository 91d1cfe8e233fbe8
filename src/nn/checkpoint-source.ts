// Parameters taken from a loaded checkpoint by name. The tensors are adopted, not copied (the
// store owns them afterwards), except those the layout lists as stored transposed, which are
// transposed once here with their shape checked. Missing, mis-shaped and unexpected keys are
// collected while the model is built and reported together by finish(). checkCheckpointKeys
// makes the same comparison from the files' headers alone, before any tensor data is read.
import { type DType, isFloatingPoint } from '../tensor/dtype.js';
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

/** True when the checkpoint's keys lack the base prefix (the hub's GPT-2 files): transformers adds it back, as we do. */
const keysLackBasePrefix = (keys: Iterable<string>, layout: CheckpointLayout): boolean => {
  const prefix = `${layout.basePrefix}.`;
  for (const k of keys) if (k.startsWith(prefix)) return false;
  return true;
};

/** The checkpoint key of parameter `name`. */
const checkpointKeyOf = (name: string, layout: CheckpointLayout, stripPrefix: boolean): string => {
  const prefix = `${layout.basePrefix}.`;
  return stripPrefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
};

/** True for a checkpoint key that holds no parameter and may be skipped: a tied alias or an ignorable buffer. */
const isSkippable = (key: string, layout: CheckpointLayout, stripPrefix: boolean, ties: ReadonlyMap<string, string>): boolean => {
  const name = stripPrefix && !ties.has(key) ? `${layout.basePrefix}.${key}` : key;
  return ties.has(name) || layout.isIgnorable(name);
};

/** A checkpoint tensor as its file header describes it. */
export interface StoredTensor {
  shape: readonly number[];
  /** Its dtype once loaded (floating-point tensors are cast to the model's dtype); undefined when unsupported. */
  dtype: DType | undefined;
}

/**
 * Compares a checkpoint's keys and shapes, read from its headers, with the parameters a model
 * declares (`expected`: name -> shape in the model's layout; `ties`: alias -> owner), before any
 * tensor data is read: an unexpected tensor the model has no place for is never loaded. Throws
 * CheckpointWeightsError listing every missing, mis-shaped and unexpected key; otherwise returns
 * the checkpoint keys to load.
 */
export function checkCheckpointKeys(
  stored: ReadonlyMap<string, StoredTensor>,
  expected: ReadonlyMap<string, readonly number[]>,
  ties: ReadonlyMap<string, string>,
  layout: CheckpointLayout,
  where: string,
): Set<string> {
  const strip = keysLackBasePrefix(stored.keys(), layout);
  const used = new Set<string>();
  const missing: string[] = [];
  const mismatched: WeightShapeMismatch[] = [];
  for (const [name, shape] of expected) {
    const key = checkpointKeyOf(name, layout, strip);
    const found = stored.get(key);
    if (found === undefined) {
      missing.push(key);
      continue;
    }
    used.add(key);
    const want = layout.isTransposed(name) ? [shape[1] as number, shape[0] as number] : [...shape];
    const floating = found.dtype !== undefined && isFloatingPoint(found.dtype);
    if (!sameShape(found.shape, want) || !floating) {
      mismatched.push({
        name: key,
        expected: want,
        found: found.shape,
        ...(floating ? {} : { note: `dtype ${found.dtype ?? 'unsupported'}, expected a floating-point dtype` }),
      });
    }
  }
  const unexpected = [...stored.keys()].filter((key) => !used.has(key) && !isSkippable(key, layout, strip, ties));
  if (missing.length > 0 || mismatched.length > 0 || unexpected.length > 0) {
    throw new CheckpointWeightsError(where, { missing, mismatched, unexpected });
  }
  return used;
}

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
    this.#stripPrefix = keysLackBasePrefix(tensors.keys(), layout);
  }

  take(name: string, shape: readonly number[], dtype: DType, _init: Initializer): Tensor {
    const key = checkpointKeyOf(name, this.#layout, this.#stripPrefix);
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
      if (!isSkippable(key, this.#layout, this.#stripPrefix, ties)) unexpected.push(key);
      t.dispose();
    }
    this.#tensors.clear();
    if (this.#missing.length > 0 || this.#mismatched.length > 0 || unexpected.length > 0) {
      throw new CheckpointWeightsError(this.#where, { missing: this.#missing, mismatched: this.#mismatched, unexpected });
    }
  }
}
