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

  /** int64 [...] -> [..., dim] */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
