// The gated MLP of Llama, Mistral, Qwen2/3, OLMo 2, Phi-3 and Gemma:
// down_proj(act(gate_proj(x)) · up_proj(x)), with act = SiLU for SwiGLU (Shazeer 2020, arXiv
// 2002.05202) and tanh GELU for Gemma's GeGLU. Phi-3 stores gate and up as one gate_up_proj
// [2·I, C] whose output's first half is the gate (transformers' Phi3MLP: chunk(2) -> gate, up).
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
  /** Biases on the projections (Llama's mlp_bias; false elsewhere). */
  bias: boolean;
  /** Init std (initializer_range). */
  std: number;
  /** One gate_up_proj instead of gate_proj and up_proj (Phi-3). Default false. */
  fused?: boolean | undefined;
}

export class SwiGluMlp extends Module {
  /** Separate gate and up projections, or null when fused. */
  readonly gateProj: Linear | null;
  readonly upProj: Linear | null;
  /** Phi-3's fused [gate; up] projection, or null. */
  readonly gateUpProj: Linear | null;
  readonly downProj: Linear;
  readonly #intermediate: number;
  readonly #act: (x: Tensor) => Tensor;

  constructor(path: StorePath, options: SwiGluMlpOptions) {
    super(path);
    const linear = { bias: options.bias, std: options.std };
    const { hidden, intermediate } = options;
    if (options.fused === true) {
      this.gateUpProj = this.child(new Linear(path.sub('gate_up_proj'), hidden, 2 * intermediate, linear));
      this.gateProj = this.upProj = null;
    } else {
      this.gateUpProj = null;
      this.gateProj = this.child(new Linear(path.sub('gate_proj'), hidden, intermediate, linear));
      this.upProj = this.child(new Linear(path.sub('up_proj'), hidden, intermediate, linear));
    }
    this.downProj = this.child(new Linear(path.sub('down_proj'), intermediate, hidden, linear));
    this.#intermediate = intermediate;
    this.#act = ACTIVATIONS[options.activation];
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => {
      let gate: Tensor;
      let up: Tensor;
      if (this.gateUpProj !== null) {
        const both = this.gateUpProj.forward(x); // [B, T, 2·I]
        gate = both.narrow(-1, 0, this.#intermediate);
        up = both.narrow(-1, this.#intermediate, this.#intermediate);
      } else {
        gate = (this.gateProj as Linear).forward(x);
        up = (this.upProj as Linear).forward(x);
      }
      return this.downProj.forward(this.#act(gate).mul(up));
    });
  }
}
