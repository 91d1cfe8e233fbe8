// The supported architectures, keyed by config.json's `architectures` name: for each, its
// model_type, checkpoint layout and how to build it from a raw config. Types are kept: building
// a 'GPT2LMHeadModel' returns a GPT2LMHeadModel.
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import { ARCHITECTURES, type Architecture, type CausalLM } from './causal-lm.js';
import { UnsupportedArchitectureError } from './errors.js';
import { Gemma2ForCausalLM, resolveGemma2Config } from './gemma2.js';
import { Gemma3ForCausalLM, resolveGemma3TextConfig } from './gemma3.js';
import { GPT2_LAYOUT, GPT2LMHeadModel, resolveGpt2Config } from './gpt2.js';
import { LlamaForCausalLM, resolveLlamaConfig } from './llama.js';
import { LLAMA_FAMILY_LAYOUT } from './llama-decoder.js';
import { MistralForCausalLM, resolveMistralConfig } from './mistral.js';
import { Olmo2ForCausalLM, resolveOlmo2Config } from './olmo2.js';
import { Phi3ForCausalLM, resolvePhi3Config } from './phi3.js';
import { Qwen2ForCausalLM, resolveQwen2Config } from './qwen2.js';
import { Qwen3ForCausalLM, resolveQwen3Config } from './qwen3.js';

export interface ModelFor {
  GPT2LMHeadModel: GPT2LMHeadModel;
  LlamaForCausalLM: LlamaForCausalLM;
  MistralForCausalLM: MistralForCausalLM;
  Qwen2ForCausalLM: Qwen2ForCausalLM;
  Qwen3ForCausalLM: Qwen3ForCausalLM;
  Phi3ForCausalLM: Phi3ForCausalLM;
  Olmo2ForCausalLM: Olmo2ForCausalLM;
  Gemma2ForCausalLM: Gemma2ForCausalLM;
  Gemma3ForCausalLM: Gemma3ForCausalLM;
}

interface ArchitectureEntry<A extends Architecture> {
  modelType: string;
  layout: CheckpointLayout;
  /** Resolves the config (throwing ModelConfigError before anything is built). */
  check(raw: Readonly<Record<string, unknown>>, where: string): void;
  build(store: ParameterStore, raw: Readonly<Record<string, unknown>>, where: string): ModelFor[A];
}

export const ARCHITECTURE_TABLE: { [A in Architecture]: ArchitectureEntry<A> } = {
  GPT2LMHeadModel: {
    modelType: 'gpt2',
    layout: GPT2_LAYOUT,
    check: (raw, where) => void resolveGpt2Config(raw, where),
    build: (store, raw, where) => new GPT2LMHeadModel(store, resolveGpt2Config(raw, where), { ...raw }),
  },
  LlamaForCausalLM: {
    modelType: 'llama',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveLlamaConfig(raw, where),
    build: (store, raw, where) => new LlamaForCausalLM(store, resolveLlamaConfig(raw, where), { ...raw }),
  },
  MistralForCausalLM: {
    modelType: 'mistral',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveMistralConfig(raw, where),
    build: (store, raw, where) => new MistralForCausalLM(store, resolveMistralConfig(raw, where), { ...raw }),
  },
  Qwen2ForCausalLM: {
    modelType: 'qwen2',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveQwen2Config(raw, where),
    build: (store, raw, where) => new Qwen2ForCausalLM(store, resolveQwen2Config(raw, where), { ...raw }),
  },
  Qwen3ForCausalLM: {
    modelType: 'qwen3',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveQwen3Config(raw, where),
    build: (store, raw, where) => new Qwen3ForCausalLM(store, resolveQwen3Config(raw, where), { ...raw }),
  },
  Phi3ForCausalLM: {
    modelType: 'phi3',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolvePhi3Config(raw, where),
    build: (store, raw, where) => new Phi3ForCausalLM(store, resolvePhi3Config(raw, where), { ...raw }),
  },
  Olmo2ForCausalLM: {
    modelType: 'olmo2',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveOlmo2Config(raw, where),
    build: (store, raw, where) => new Olmo2ForCausalLM(store, resolveOlmo2Config(raw, where), { ...raw }),
  },
  Gemma2ForCausalLM: {
    modelType: 'gemma2',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveGemma2Config(raw, where),
    build: (store, raw, where) => new Gemma2ForCausalLM(store, resolveGemma2Config(raw, where), { ...raw }),
  },
  Gemma3ForCausalLM: {
    modelType: 'gemma3_text',
    layout: LLAMA_FAMILY_LAYOUT,
    check: (raw, where) => void resolveGemma3TextConfig(raw, where),
    build: (store, raw, where) => new Gemma3ForCausalLM(store, resolveGemma3TextConfig(raw, where), { ...raw }),
  },
};

const isArchitecture = (name: unknown): name is Architecture =>
  typeof name === 'string' && (ARCHITECTURES as readonly string[]).includes(name);

/**
 * The architecture a config.json describes: its first `architectures` entry, or, when that key
 * is absent, the causal-LM class of its `model_type` (as transformers' AutoModelForCausalLM).
 */
export function architectureOf(raw: Readonly<Record<string, unknown>>, where: string): Architecture {
  const listed = raw['architectures'];
  if (Array.isArray(listed) && listed.length > 0) {
    const name = listed[0];
    if (isArchitecture(name)) return name;
    throw new UnsupportedArchitectureError(String(name), ARCHITECTURES, where);
  }
  const modelType = raw['model_type'];
  for (const name of ARCHITECTURES) if (ARCHITECTURE_TABLE[name].modelType === modelType) return name;
  throw new UnsupportedArchitectureError(
    modelType === undefined ? '(config.json names neither architectures nor model_type)' : `model_type ${String(modelType)}`,
    ARCHITECTURES,
    where,
  );
}

/** Builds `architecture` from a raw config on a store (random or checkpoint source). */
export function buildModel(
  architecture: Architecture,
  store: ParameterStore,
  raw: Readonly<Record<string, unknown>>,
  where: string,
): CausalLM {
  return ARCHITECTURE_TABLE[architecture].build(store, raw, where);
}
