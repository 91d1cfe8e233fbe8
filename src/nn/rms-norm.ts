// RMSNorm as transformers' LlamaRMSNorm: normalised in float32 whatever the model's dtype,
// cast back, then scaled: weight · (x / sqrt(mean(x²) + eps)).

import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly eps: number;

  constructor(path: StorePath, dim: number, eps: number) {
    super(path);
    this.eps = eps;
    this.weight = path.param('weight', [dim], { kind: 'ones' });
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const h = x.to('float32');
      const variance = h.square().mean(-1, true);
      const normed = h.mul(variance.add(this.eps).rsqrt());
      return this.weight.mul(normed.to(x.dtype));
    });
  }
}
