// alpha-dpo: preference optimisation for causal language models on libtorch.
// Layers: native (libtorch shim) -> tensor (typed Tensor API, exported as `torch`) -> io
// (safetensors) -> nn -> models -> losses -> data -> train -> cli. Below them all: errors.ts (the
// AlphaDpoError base) and config/ (the config-schema engine), which any layer may import.

export { ConfigError } from './config/config-error.js';
export * from './data/index.js';
export { type DemoOptions, type DemoResult, type DemoRow, formatDemoTable, runDemo } from './demo/index.js';
export { AlphaDpoError } from './errors.js';
export {
  type FinishReason,
  type GeneratedText,
  type GenerateOptions,
  type GenerateOutput,
  generate,
  generateText,
} from './generation/index.js';
export * from './io/safetensors.js';
export * from './losses/index.js';
export {
  AdapterError,
  ARCHITECTURES,
  type Architecture,
  AutoModelForCausalLM,
  CausalLM,
  checkModelCompatibility,
  type ForwardOptions,
  type FromPretrainedOptions,
  GPT2LMHeadModel,
  LlamaForCausalLM,
  LoraAdapter,
  type LoraSettings,
  loadAdapter,
  MistralForCausalLM,
  ModelCompatibilityError,
  ModelConfigError,
  ModelFolderError,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  Qwen2ForCausalLM,
  type RandomInitOptions,
  randomInit,
  type SavePretrainedOptions,
  saveAdapter,
  UnsafeCheckpointError,
  UnsupportedArchitectureError,
  UnsupportedDtypeError,
} from './models/index.js';
export { AddonLoadError, TorchError } from './native/errors.js';
export { CheckpointWeightsError } from './nn/errors.js';
export * as nn from './nn/index.js';
export { AdamW, type AdamWOptions, type AdamWStateDict, type ParamGroup } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip-grad-norm.js';
export { LR_SCHEDULER_TYPES, type LrSchedule, type LrSchedulerType, lrMultiplier, warmupStepsFor } from './optim/lr-schedule.js';
export {
  DashboardListenError,
  DashboardServer,
  defaultLoggingDir,
  RunSourceError,
  reportHtml,
  TensorBoardWriter,
  tensorBoardTags,
  writeReport,
} from './report/index.js';
export { type Backend, DistributedError, type InitProcessGroupOptions, type ReduceOp } from './tensor/distributed.js';
export type { DType } from './tensor/dtype.js';
export { Tensor } from './tensor/tensor.js';
export * as torch from './tensor/torch.js';
export {
  AutoTokenizer,
  type ChatMessage,
  ChatTemplateError,
  type ChatTemplateOptions,
  type EncodeOptions,
  type Tokenizer,
  TokenizerError,
} from './tokenizers/index.js';
export {
  CheckpointError,
  checkModelFolder,
  type EvaluateOptions,
  type EvaluationSettings,
  evaluatePreferences,
  loadTrainingPairs,
  type MetricRecord,
  type MetricSink,
  type PreferenceTrainerInputs,
  parseOverrides,
  type ReferenceSource,
  RunFolderError,
  readTrainConfigFile,
  resolveTrainConfig,
  TRAIN_CONFIG_SCHEMA,
  type TrainConfig,
  TrainConfigError,
  type TrainingPairs,
  type TrainOptions,
  type TrainSummary,
  train,
  trainPreferences,
} from './train/index.js';
