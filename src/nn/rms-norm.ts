// RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + eps), normalised in float32 whatever the
// model's dtype, then scaled by a learned weight. The families differ only in how the weight is
// applied, which matters in bfloat16 (in float32 the first two are the same function):
//   'llama'       weight · cast(normed)                 (LlamaRMSNorm, Qwen2/3, Mistral, Phi-3; weight starts at 1)
//   'float32'     cast(weight · normed) in float32       (Olmo2RMSNorm; weight starts at 1)
//   'unit-offset' cast(normed · (1 + weight)) in float32 (Gemma2RMSNorm, Gemma3RMSNorm; weight starts at 0)

import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export type RMSNormStyle = 'llama' | 'float32' | 'unit-offset';

export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly eps: number;
  readonly style: RMSNormStyle;

  constructor(path: StorePath, dim: number, eps: number, style: RMSNormStyle = 'llama') {
    super(path);
    this.eps = eps;
    this.style = style;
    this.weight = path.param('weight', [dim], { kind: style === 'unit-offset' ? 'zeros' : 'ones' });
  }

  /** [..., dim] -> [..., dim] in x's dtype. */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      const h = x.to('float32');
      const variance = h.square().mean(-1, true);
      const normed = h.mul(variance.add(this.eps).rsqrt());
      switch (this.style) {
        case 'llama':
          return this.weight.mul(normed.to(x.dtype));
        case 'float32':
          return this.weight.to('float32').mul(normed).to(x.dtype);
        case 'unit-offset':
          return normed.mul(this.weight.to('float32').add(1)).to(x.dtype);
      }
    });
  }
}
