// Token or position embeddings: a [num, dim] table looked up by integer ids.
import { embeddingIntoGrad } from '../tensor/functions.generated.js';
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
   * int64 [...] -> [..., dim]. The lookup's weight gradient is added into `weight.grad` in place
   * by its own backward node rather than handed to autograd as a dense [num, dim] tensor: for an
   * embedding tied to the LM head this saves two table-sized tensors at the end of every backward
   * pass (native/src/embedding_into_grad.cc). Only `.backward()` sees this gradient.
   */
  forward(ids: Tensor): Tensor {
    return embeddingIntoGrad(this.weight, ids);
  }
}
