// Dropout: active only in training mode and for p > 0 (transformers' *_pdrop / attention_dropout).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export class Dropout extends Module {
  /** Probability of zeroing an element. */
  readonly p: number;

  constructor(path: StorePath, p: number) {
    super(path);
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropout probability must be in [0, 1), got ${p}`);
    this.p = p;
  }

  /** Returns `x` itself when inactive. */
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? x.dropout(this.p, true) : x;
  }
}
