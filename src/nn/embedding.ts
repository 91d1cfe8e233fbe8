// Token or position embeddings: a [num, dim] table looked up by integer ids.
import { embedding } from '../tensor/functions.generated.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export class Embedding extends Module {
  /** [numEmbeddings, dim] */
  readonly weight: Tensor;

  constructor(path: StorePath, numEmbeddings: number, dim: number, options: { std?: number } = {}) {
    super(path);
    this.weight = path.param('weight', [numEmbeddings, dim], { kind: 'normal', std: options.std ?? 0.02 });
  }

  /**
   * int64 [...] -> [..., dim]. With `sparseGradient` the lookup's gradient is a sparse tensor
   * (rows of the looked-up ids only) instead of a dense [num, dim] one: only for a table that
   * also gets a dense gradient in the same backward pass (an LM head tied to it), which the
   * sparse one is added into; alone it would leave a sparse .grad.
   */
  forward(ids: Tensor, options: { sparseGradient?: boolean } = {}): Tensor {
    return embedding(this.weight, ids, -1, options.sparseGradient === true);
  }
}
