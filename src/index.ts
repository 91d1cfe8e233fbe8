// alpha-dpo: preference optimisation for causal language models on libtorch.
// Layers: native (libtorch shim) -> tensor (typed Tensor API, exported as `torch`) -> io
// (safetensors) -> nn -> models -> losses -> data -> train -> cli.

export * from './io/safetensors.js';
export * from './losses/index.js';
export { AdamW, type AdamWOptions, type AdamWStateDict, type ParamGroup } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip-grad-norm.js';
export { LR_SCHEDULER_TYPES, type LrSchedule, type LrSchedulerType, lrMultiplier, warmupStepsFor } from './optim/lr-schedule.js';
export type { DType } from './tensor/dtype.js';
export { Tensor } from './tensor/tensor.js';
export * as torch from './torch.js';
