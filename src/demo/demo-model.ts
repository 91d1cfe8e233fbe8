// The demo's language model: a Llama-architecture decoder small enough to train from scratch in
// seconds on two CPU cores, over the demo tokenizer's vocabulary.
import type { CausalLM } from '../models/causal-lm.js';
import { randomInit } from '../models/pretrained.js';
import * as torch from '../tensor/torch.js';
import { DEMO_IDS, DEMO_VOCAB } from './demo-tokenizer.js';

/** Width and depth of the demo model. */
export interface DemoModelShape {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
}

/** config.json of the demo model (transformers' LlamaConfig keys). */
export function demoModelConfig(shape: DemoModelShape): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: DEMO_VOCAB.length,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.heads,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    bos_token_id: DEMO_IDS.bos,
    eos_token_id: DEMO_IDS.eos,
    pad_token_id: DEMO_IDS.pad,
  };
}

/** A freshly initialised demo model; the same seed gives the same weights. */
export function initDemoModel(shape: DemoModelShape, seed: number): CausalLM {
  torch.manualSeed(seed);
  return randomInit(demoModelConfig(shape));
}
