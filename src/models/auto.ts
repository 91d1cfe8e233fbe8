// AutoModelForCausalLM: the entry point users know from transformers.
import type { CausalLM } from './causal-lm.js';
import { type FromPretrainedOptions, loadPretrained } from './pretrained.js';

export const AutoModelForCausalLM = {
  /**
   * Loads a Hugging Face model folder (config.json + model.safetensors or sharded safetensors),
   * choosing the architecture from config.json. Parameters are float32 unless `dtype` says
   * otherwise. The model starts in evaluation mode (dropout off); call train() for dropout.
   */
  fromPretrained(dir: string, options: FromPretrainedOptions = {}): Promise<CausalLM> {
    return loadPretrained(dir, options);
  },
};
