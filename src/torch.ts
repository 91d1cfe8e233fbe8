// The `torch` namespace: the typed tensor API (import { torch } from 'alpha-dpo').

export { arange, randint, split, tensor } from './tensor/creation.js';
export { DTYPES, type DType } from './tensor/dtype.js';
export * from './tensor/functions.generated.js';
export type { Device, TensorOptions } from './tensor/options.js';
export {
  buildInfo,
  cuda,
  enableGrad,
  getNumInteropThreads,
  getNumThreads,
  getRngState,
  isGradEnabled,
  liveTensorCount,
  manualSeed,
  noGrad,
  setNumInteropThreads,
  setNumThreads,
  setRngState,
} from './tensor/runtime.js';
export { keep, scopeDepth, tidy } from './tensor/scope.js';
export { type NestedArray, Tensor, type ToOptions } from './tensor/tensor.js';
