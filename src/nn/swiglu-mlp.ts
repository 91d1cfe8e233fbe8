// The gated MLP of Llama, Mistral and Qwen2: down_proj(act(gate_proj(x)) · up_proj(x)), with
// act = SiLU for SwiGLU (Shazeer 2020, arXiv 2002.05202).
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { ACTIVATIONS, type ActivationName } from './activations.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export interface SwiGluMlpOptions {
  hidden: number;
  intermediate: number;
  activation: ActivationName;
  /** Biases on the three projections (Llama's mlp_bias; false elsewhere). */
  bias: boolean;
  /** Init std (initializer_range). */
  std: number;
}

export class SwiGluMlp extends Module {
  readonly gateProj: Linear;
  readonly upProj: Linear;
  readonly downProj: Linear;
  readonly #act: (x: Tensor) => Tensor;

  constructor(path: StorePath, options: SwiGluMlpOptions) {
    super(path);
    const linear = { bias: options.bias, std: options.std };
    this.gateProj = this.child(new Linear(path.sub('gate_proj'), options.hidden, options.intermediate, linear));
    this.upProj = this.child(new Linear(path.sub('up_proj'), options.hidden, options.intermediate, linear));
    this.downProj = this.child(new Linear(path.sub('down_proj'), options.intermediate, options.hidden, linear));
    this.#act = ACTIVATIONS[options.activation];
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.downProj.forward(this.#act(this.gateProj.forward(x)).mul(this.upProj.forward(x))));
  }
}
