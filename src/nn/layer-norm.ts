// LayerNorm over the last dimension with a weight and a bias (GPT-2's ln_1, ln_2, ln_f).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly dim: number;
  readonly eps: number;

  constructor(path: StorePath, dim: number, eps: number) {
    super(path);
    this.dim = dim;
    this.eps = eps;
    this.weight = path.param('weight', [dim], { kind: 'ones' });
    this.bias = path.param('bias', [dim], { kind: 'zeros' });
  }

  forward(x: Tensor): Tensor {
    return x.layerNorm([this.dim], this.weight, this.bias, this.eps);
  }
}
