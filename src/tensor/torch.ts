// The `torch` namespace: the typed tensor API (import { torch } from 'alpha-dpo').

export { checkpoint } from './checkpoint.js';
export { arange, randint, split, tensor } from './creation.js';
export * as distributed from './distributed.js';
export { DTYPES, type DType } from './dtype.js';
export * from './functions.generated.js';
export type { Device, TensorOptions } from './options.js';
export {
  type AutocastDevice,
  autocast,
  autocastState,
  buildInfo,
  cuda,
  enableGrad,
  getNumInteropThreads,
  getNumThreads,
  getRngState,
  isGradEnabled,
  liveTensorCount,
  mallocSettings,
  manualSeed,
  noGrad,
  setNumInteropThreads,
  setNumThreads,
  setRngState,
} from './runtime.js';
export { keep, scopeDepth, tidy } from './scope.js';
export { type NestedArray, Tensor, type ToOptions } from './tensor.js';
