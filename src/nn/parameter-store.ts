// The parameter store: every trainable tensor of a model, named by its Hugging Face key path
// (`model.layers.3.self_attn.q_proj.weight`), as tch-rs' VarStore and candle's VarBuilder do.
// Modules ask a path cursor for their parameters; where the tensors come from (random
// initialisation, a checkpoint) is the store's ParameterSource, so building a model and loading
// it are one walk over the same names.
import type { DType } from '../tensor/dtype.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** How a parameter is initialised when it does not come from a checkpoint (transformers' _init_weights). */
export type Initializer = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

/** Supplies the tensor for each parameter the model declares, in the model's own layout. */
export interface ParameterSource {
  /**
   * The tensor for `name`, of `shape` (our layout: Linear weights [out, in]) and `dtype`. The
   * store takes ownership of what is returned.
   */
  take(name: string, shape: readonly number[], dtype: DType, init: Initializer): Tensor;
}

export class ParameterStore {
  readonly dtype: DType;
  readonly #source: ParameterSource;
  readonly #params = new Map<string, Tensor>();
  // Tied names (alias -> owner), e.g. lm_head.weight -> model.embed_tokens.weight.
  readonly #ties = new Map<string, string>();

  constructor(source: ParameterSource, options: { dtype: DType }) {
    this.#source = source;
    this.dtype = options.dtype;
  }

  /** The cursor at the root of the key space (names get no prefix). */
  get root(): StorePath {
    return new StorePath(this, '');
  }

  /** Declares parameter `name`; the source fills it. Called through StorePath.param. */
  create(name: string, shape: readonly number[], init: Initializer): Tensor {
    if (this.#params.has(name) || this.#ties.has(name)) throw new Error(`parameter '${name}' is declared twice`);
    const t = keep(this.#source.take(name, shape, this.dtype, init));
    t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }

  /** Makes `alias` another name for the parameter `owner` (tied weights: one tensor, saved once under `owner`). */
  tie(alias: string, owner: string): Tensor {
    const t = this.#params.get(owner);
    if (t === undefined) throw new Error(`cannot tie '${alias}' to '${owner}': no such parameter`);
    this.#ties.set(alias, owner);
    return t;
  }

  /** The parameter called `name` (or the tied parameter it names). */
  get(name: string): Tensor | undefined {
    return this.#params.get(this.#ties.get(name) ?? name);
  }

  /** [name, tensor] for every parameter, in declaration order; a tied tensor appears once, under its owner's name. */
  namedParameters(): [string, Tensor][] {
    return [...this.#params];
  }

  /** alias -> owner for every tied name. */
  get ties(): ReadonlyMap<string, string> {
    return this.#ties;
  }

  /** Number of parameter elements (tied tensors counted once). */
  get numel(): number {
    let n = 0;
    for (const t of this.#params.values()) n += t.numel;
    return n;
  }

  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    this.#params.clear();
    this.#ties.clear();
  }
}

/** A cursor into the store's key space: `root.sub('model', 'layers', 3).param('weight', ...)`. */
export class StorePath {
  readonly store: ParameterStore;
  /** The key prefix, e.g. `model.layers.3` ('' at the root). */
  readonly prefix: string;

  constructor(store: ParameterStore, prefix: string) {
    this.store = store;
    this.prefix = prefix;
  }

  sub(...segments: (string | number)[]): StorePath {
    const parts = this.prefix === '' ? [] : [this.prefix];
    for (const s of segments) parts.push(String(s));
    return new StorePath(this.store, parts.join('.'));
  }

  /** The full key of `leaf` under this path. */
  key(leaf: string): string {
    return this.prefix === '' ? leaf : `${this.prefix}.${leaf}`;
  }

  param(leaf: string, shape: readonly number[], init: Initializer): Tensor {
    return this.store.create(this.key(leaf), shape, init);
  }
}
