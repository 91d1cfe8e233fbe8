// The nn layer: parameters named by Hugging Face key paths, and the building blocks the model
// files assemble.
export { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from './activations.js';
export { type AttentionOptions, repeatKv, scaledDotProductAttention } from './attention.js';
export { type AttentionMaskOptions, blockedAttention, defaultPositionIds, positionIdsFromMask } from './attention-mask.js';
export { CausalSelfAttention, type CausalSelfAttentionOptions } from './causal-self-attention.js';
export { type CheckpointLayout, CheckpointSource, checkCheckpointKeys, type StoredTensor } from './checkpoint-source.js';
export { Dropout } from './dropout.js';
export { Embedding } from './embedding.js';
export { CheckpointWeightsError, type WeightShapeMismatch } from './errors.js';
export { GeluMlp } from './gelu-mlp.js';
export { KVCache } from './kv-cache.js';
export { LayerNorm } from './layer-norm.js';
export { Linear, type LinearOptions } from './linear.js';
export { Module } from './module.js';
export { type Initializer, type ParameterSource, ParameterStore, StorePath } from './parameter-store.js';
export { RandomSource } from './random-source.js';
export { RMSNorm } from './rms-norm.js';
export { applyRotary, ROPE_TYPES, type RopeParameters, ropeCosSin, ropeInverseFrequencies } from './rotary-embedding.js';
export { ShapeOnlySource } from './shape-only-source.js';
export { SwiGluMlp } from './swiglu-mlp.js';
