// A LoRA branch (Hu et al. 2021, arXiv 2106.09685) on one Linear layer, as PEFT's lora.Linear
// (peft/tuners/lora/layer.py, PEFT 0.21): y = x·Wᵀ + b + scaling · dropout(x)·Aᵀ·Bᵀ with
// A [r, in] and B [out, r]. The branch runs in its own dtype (float32 over a bfloat16 base, as
// PEFT casts x to lora_A's dtype) and the sum is cast back to the layer's dtype, as PEFT does.
// GPT-2's Conv1D layers hold W as [in, out] on disk, but A and B keep these shapes there too:
// PEFT's fan_in_fan_out only transposes the merged delta, which our [out, in] Linear never needs.
import type { Device } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { Linear, LinearAdapter } from './linear.js';

/** Shared by every branch of one adapter: false switches them all off (the base model, e.g. as the DPO reference). */
export interface AdapterSwitch {
  enabled: boolean;
}

export interface LoraBranchOptions {
  r: number;
  /** PEFT's scaling: lora_alpha / r, or lora_alpha / √r with rsLoRA (layer.py update_layer). */
  scaling: number;
  /** Dropout probability on the branch's input (training mode only). */
  dropout: number;
  switch: AdapterSwitch;
  /** dtype of A and B (float32 over a float32/bfloat16/float16 base; float64 over a float64 one). */
  dtype: 'float32' | 'float64';
}

export class LoraBranch implements LinearAdapter {
  /** [r, in], float32 (see options.dtype), trainable. PEFT: kaiming_uniform_(a=√5), i.e. U(−1/√in, 1/√in). */
  readonly a: Tensor;
  /** [out, r], float32, trainable, zero at first so the adapted layer starts equal to the base. */
  readonly b: Tensor;
  readonly scaling: number;
  readonly dropout: number;
  readonly #layer: Linear;
  readonly #switch: AdapterSwitch;

  constructor(layer: Linear, options: LoraBranchOptions) {
    const [out, inFeatures] = layer.weight.shape as [number, number];
    this.#layer = layer;
    this.#switch = options.switch;
    this.scaling = options.scaling;
    this.dropout = options.dropout;
    // kaiming_uniform_ with a = √5: gain √(2/(1+a²)) = √(1/3), bound = gain·√(3/fan_in) = 1/√in.
    const bound = 1 / Math.sqrt(inFeatures);
    const device = layer.weight.device as Device; // beside the layer's weight
    this.a = torch.keep(torch.empty([options.r, inFeatures], { dtype: options.dtype, device }).uniform_(-bound, bound)).requiresGrad_(true);
    this.b = torch.keep(torch.zeros([out, options.r], { dtype: options.dtype, device })).requiresGrad_(true);
  }

  /** The layer's output with the branch added (or `y` itself when the adapter is switched off). */
  apply(x: Tensor, y: Tensor): Tensor {
    if (!this.#switch.enabled) return y;
    const input = x.dtype === this.a.dtype ? x : x.to(this.a.dtype);
    const dropped = this.#layer.training && this.dropout > 0 ? input.dropout(this.dropout, true) : input;
    const delta = dropped.linear(this.a).linear(this.b).mul(this.scaling); // [..., out]
    const sum = y.add(delta);
    return sum.dtype === y.dtype ? sum : sum.to(y.dtype);
  }

  /** scaling · B·A [out, in] in float32: what merging adds to the layer's weight (PEFT's get_delta_weight). */
  deltaWeight(): Tensor {
    return this.b.matmul(this.a).mul(this.scaling);
  }

  dispose(): void {
    this.a.dispose();
    this.b.dispose();
  }
}
