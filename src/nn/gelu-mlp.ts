// GPT-2's MLP: c_proj(act(c_fc(x))), then dropout. Weights use Hugging Face's GPT-2 names;
// their [in, out] storage is the model's checkpoint layout's business, not this module's.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { ACTIVATIONS, type ActivationName } from './activations.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';

export interface GeluMlpOptions {
  hidden: number;
  inner: number;
  activation: ActivationName;
  dropout: number;
  /** Init std of c_fc (transformers: initializer_range). */
  std: number;
  /** Init std of c_proj (GPT-2 scales it by 1/√(2·n_layer)). */
  projStd: number;
}

export class GeluMlp extends Module {
  readonly cFc: Linear;
  readonly cProj: Linear;
  readonly dropout: Dropout;
  readonly #act: (x: Tensor) => Tensor;

  constructor(path: StorePath, options: GeluMlpOptions) {
    super(path);
    this.cFc = this.child(new Linear(path.sub('c_fc'), options.hidden, options.inner, { std: options.std }));
    this.cProj = this.child(new Linear(path.sub('c_proj'), options.inner, options.hidden, { std: options.projStd }));
    this.dropout = this.child(new Dropout(path.sub('dropout'), options.dropout));
    this.#act = ACTIVATIONS[options.activation];
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.dropout.forward(this.cProj.forward(this.#act(this.cFc.forward(x)))));
  }
}
