// alpha-dpo: preference optimisation for causal language models on libtorch.
// Layers: native (libtorch shim) -> tensor (typed Tensor API, exported as `torch`) -> io
// (safetensors) -> nn -> models -> losses -> data -> train -> cli.

export * from './io/safetensors.js';
export * from './losses/index.js';
export type { DType } from './tensor/dtype.js';
export { Tensor } from './tensor/tensor.js';
export * as torch from './torch.js';
