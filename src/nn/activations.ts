// The activation functions of transformers' ACT2FN that the supported architectures use,
// under their config names (hidden_act, activation_function).
import type { Tensor } from '../tensor/tensor.js';

export const ACTIVATIONS = {
  // gelu_new (GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh form; libtorch's
  // gelu(approximate='tanh') is that formula. gelu_pytorch_tanh is the same function by name.
  gelu_new: (x: Tensor) => x.gelu('tanh'),
  gelu_pytorch_tanh: (x: Tensor) => x.gelu('tanh'),
  gelu: (x: Tensor) => x.gelu('none'),
  relu: (x: Tensor) => x.relu(),
  silu: (x: Tensor) => x.silu(),
  swish: (x: Tensor) => x.silu(),
} as const satisfies Record<string, (x: Tensor) => Tensor>;

export type ActivationName = keyof typeof ACTIVATIONS;
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as ActivationName[];
