// y = x·Wᵀ + b with W stored [out, in], as torch.nn.Linear (and Hugging Face's Linear keys).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export interface LinearOptions {
  /** Whether the layer has a bias (default true). */
  bias?: boolean;
  /** Standard deviation of the weight's random initialisation (transformers: initializer_range, 0.02). */
  std?: number;
}

/** Something added to a Linear's output: a LoRA branch (nn/lora-branch.ts) reads the input and returns the new output. */
export interface LinearAdapter {
  /** `y` = x·Wᵀ + b of this layer; returns y plus the adapter's term (or y itself when the adapter is off). */
  apply(x: Tensor, y: Tensor): Tensor;
}

export class Linear extends Module {
  /** [outFeatures, inFeatures] */
  readonly weight: Tensor;
  /** [outFeatures] or null */
  readonly bias: Tensor | null;
  /** A LoRA branch attached by models/lora-adapter.ts, or null (plain layer). */
  adapter: LinearAdapter | null = null;

  constructor(path: StorePath, inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super(path);
    this.weight = path.param('weight', [outFeatures, inFeatures], { kind: 'normal', std: options.std ?? 0.02 });
    this.bias = (options.bias ?? true) ? path.param('bias', [outFeatures], { kind: 'zeros' }) : null;
  }

  /** [..., in] -> [..., out] */
  forward(x: Tensor): Tensor {
    const y = x.linear(this.weight, this.bias);
    return this.adapter === null ? y : this.adapter.apply(x, y);
  }
}
