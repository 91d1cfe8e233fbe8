// The study's policy model: a Llama-architecture decoder trained from scratch over the teacher
// language's vocabulary. Context 80 holds the longest prompt (11 tokens) and response (64 words + EOS).
import type { CausalLM } from '../models/causal-lm.js';
import { randomInit } from '../models/pretrained.js';
import * as torch from '../tensor/torch.js';
import type { StudyModelShape } from './study-settings.js';
import { STUDY_IDS } from './teacher-language.js';

export const STUDY_CONTEXT = 80;

/** config.json of the study model (transformers' LlamaConfig keys). */
export function studyModelConfig(shape: StudyModelShape, vocabSize: number): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.heads,
    max_position_embeddings: STUDY_CONTEXT,
    tie_word_embeddings: true,
    bos_token_id: STUDY_IDS.bos,
    eos_token_id: STUDY_IDS.eos,
    pad_token_id: STUDY_IDS.pad,
  };
}

/** A freshly initialised model; the same seed gives the same weights. */
export function initStudyModel(shape: StudyModelShape, vocabSize: number, seed: number): CausalLM {
  torch.manualSeed(seed);
  return randomInit(studyModelConfig(shape, vocabSize));
}
