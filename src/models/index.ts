// The models layer's public surface: loading, building and saving Hugging Face causal LMs.
export { ARCHITECTURE_TABLE, architectureOf } from './architectures.js';
export { AutoModelForCausalLM } from './auto.js';
export { ARCHITECTURES, type Architecture, CausalLM, type ForwardOptions, type ModelSizes } from './causal-lm.js';
export { checkModelCompatibility, type ModelCompatibilityInputs } from './compatibility.js';
export { type FieldSpec, resolveConfig } from './config-schema.js';
export {
  ModelCompatibilityError,
  ModelConfigError,
  ModelFolderError,
  UnsafeCheckpointError,
  UnsupportedArchitectureError,
  UnsupportedDtypeError,
} from './errors.js';
export {
  GemmaDecoderModel,
  type GemmaFamilyConfig,
  type GemmaLayerType,
  type GemmaVariant,
} from './gemma-decoder.js';
export { GEMMA2_CONFIG_SCHEMA, type Gemma2Config, Gemma2ForCausalLM, resolveGemma2Config } from './gemma2.js';
export { GEMMA3_TEXT_CONFIG_SCHEMA, Gemma3ForCausalLM, type Gemma3TextConfig, resolveGemma3TextConfig } from './gemma3.js';
export { GPT2_CONFIG_SCHEMA, type GPT2Config, GPT2LMHeadModel, resolveGpt2Config } from './gpt2.js';
export { LLAMA_CONFIG_SCHEMA, type LlamaConfig, LlamaForCausalLM, resolveLlamaConfig } from './llama.js';
export { LlamaDecoderModel, type LlamaFamilyConfig, type LlamaFamilyVariant } from './llama-decoder.js';
export { LoraAdapter } from './lora-adapter.js';
export { AdapterError, type LoraSettings, loraScaling } from './lora-config.js';
export { MISTRAL_CONFIG_SCHEMA, type MistralConfig, MistralForCausalLM, resolveMistralConfig } from './mistral.js';
export { OLMO2_CONFIG_SCHEMA, type Olmo2Config, Olmo2ForCausalLM, resolveOlmo2Config } from './olmo2.js';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  loadAdapter,
  loadAdapterWeights,
  readAdapterConfig,
  type SaveAdapterOptions,
  saveAdapter,
} from './peft-adapter-files.js';
export { PHI3_CONFIG_SCHEMA, type Phi3Config, Phi3ForCausalLM, resolvePhi3Config } from './phi3.js';
export { PRESET_NAMES, PRESETS, type PresetName } from './presets.js';
export { configDtype, type FromPretrainedOptions, type RandomInitOptions, randomInit, readModelConfig } from './pretrained.js';
export { QWEN2_CONFIG_SCHEMA, type Qwen2Config, Qwen2ForCausalLM, resolveQwen2Config } from './qwen2.js';
export { QWEN3_CONFIG_SCHEMA, type Qwen3Config, Qwen3ForCausalLM, resolveQwen3Config } from './qwen3.js';
export type { SavePretrainedOptions } from './save-pretrained.js';
