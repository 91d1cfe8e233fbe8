// What every causal language model offers, whatever its architecture: forward to logits, a KV
// cache for generation, its parameters by Hugging Face name for the optimiser, train/eval
// modes, its config as config.json and its weights in Hugging Face's layouts for saving.
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import { KVCache } from '../nn/kv-cache.js';
import { Module } from '../nn/module.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { type SavePretrainedOptions, savePretrained } from './save-pretrained.js';

/** The `architectures` names of config.json this package implements. */
export const ARCHITECTURES = [
  'GPT2LMHeadModel',
  'LlamaForCausalLM',
  'MistralForCausalLM',
  'Qwen2ForCausalLM',
  'Qwen3ForCausalLM',
  'Phi3ForCausalLM',
  'Olmo2ForCausalLM',
  'Gemma2ForCausalLM',
  'Gemma3ForCausalLM',
] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export interface ForwardOptions {
  /**
   * [B, P + T]: 1 (or true) for real tokens, 0 for padding, covering cached and new positions
   * (transformers' attention_mask). Omit when nothing is padded.
   */
  attentionMask?: Tensor | undefined;
  /**
   * int64 [B, T] positions of the new tokens. Default P … P + T − 1 for every row, as
   * transformers' forward does (so right padding is harmless; for left padding pass positions
   * counted from each row's first real token, see positionIdsFromMask; generate() does).
   */
  positionIds?: Tensor | undefined;
  /** Keys and values of earlier positions; this pass appends to it. */
  cache?: KVCache | undefined;
  /** Compute logits only for the last N positions (transformers' logits_to_keep); 0 = all. */
  logitsToKeep?: number | undefined;
}

/** The sizes every causal LM has, whatever its config calls them (GPT-2's n_embd is hidden_size). */
export interface ModelSizes {
  /** Tokens in the output vocabulary V (rows of the token embedding). */
  vocabSize: number;
  /** Model width C (the embedding's columns). */
  hiddenSize: number;
  /** Decoder layers (the KV cache's size). */
  numLayers: number;
}

/**
 * `Config` is the architecture's resolved config.json (Hugging Face names, defaults filled);
 * configJson() writes it back with the keys this package does not read kept as they were.
 */
export abstract class CausalLM<Config extends object = object> extends Module {
  abstract readonly architecture: Architecture;
  /** transformers' model_type (config.json). */
  abstract readonly modelType: string;
  /** How parameter names map to checkpoint keys and layouts. */
  abstract readonly layout: CheckpointLayout;
  /** [V, C]: the token embedding when tied, else lm_head.weight. */
  abstract readonly lmHeadWeight: Tensor;
  /** Every parameter, by Hugging Face key. */
  readonly store: ParameterStore;
  /** config.json keys transformers declares as floats, written as 30.0 rather than 30 (see configJsonText). */
  readonly floatConfigKeys: readonly string[] = [];
  /** The resolved config.json of the architecture. */
  readonly config: Config;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  /**
   * Recompute each decoder layer's activations in backward instead of keeping them
   * (transformers' gradient_checkpointing_enable(); torch.checkpoint). Only passes that record
   * gradients and use no KV cache are affected; the gradients are those of the plain pass.
   */
  gradientCheckpointing = false;
  /** config.json keys this package does not read, kept for saving. */
  readonly #extra: Readonly<Record<string, unknown>>;

  constructor(store: ParameterStore, config: Config, sizes: ModelSizes, extra: Readonly<Record<string, unknown>> = {}) {
    super(store.root);
    this.store = store;
    this.config = config;
    this.vocabSize = sizes.vocabSize;
    this.hiddenSize = sizes.hiddenSize;
    this.numLayers = sizes.numLayers;
    this.#extra = extra;
  }

  /** int64 [B, T] token ids -> logits [B, T, V] (or [B, logitsToKeep, V]) in the model's dtype. */
  abstract forward(inputIds: Tensor, options?: ForwardOptions): Tensor;

  /**
   * config.json contents: the resolved config, keys this package does not read kept as they
   * were. The parameters' dtype is written as `dtype` (transformers >= 4.56) and `torch_dtype`
   * (older versions), so every version reads the same value.
   */
  configJson(): Record<string, unknown> {
    return {
      ...this.#extra,
      ...this.config,
      architectures: [this.architecture],
      model_type: this.modelType,
      dtype: this.dtype,
      torch_dtype: this.dtype,
    };
  }

  /**
   * The LM head's weight [V, C]: `embedding` itself when `tied` (transformers' tie_word_embeddings,
   * no lm_head.weight in the checkpoint), else its own lm_head.weight. Called by constructors.
   */
  protected declareLmHead(tied: boolean, embedding: string, std: number): Tensor {
    return tied
      ? this.store.tie('lm_head.weight', embedding)
      : this.store.root.sub('lm_head').param('weight', [this.vocabSize, this.hiddenSize], { kind: 'normal', std });
  }

  /**
   * One decoder layer `layer(h, ...context)`, checkpointed when gradientCheckpointing is on and
   * no KV cache is in use. `context` holds every tensor the layer reads besides `h` and the
   * parameters (masks, rotary tables), so the replay in backward finds them.
   */
  protected decoderLayer(
    layer: (h: Tensor, ...context: Tensor[]) => Tensor,
    h: Tensor,
    context: readonly Tensor[],
    options: ForwardOptions,
  ): Tensor {
    return this.gradientCheckpointing && options.cache === undefined ? torch.checkpoint(layer, h, context) : layer(h, ...context);
  }

  /** Logits [B, T or logitsToKeep, V] from the final hidden states [B, T, C] (after the last norm). */
  protected logitsFrom(hidden: Tensor, options: ForwardOptions): Tensor {
    return torch.tidy(() => {
      const time = hidden.size(1);
      const keep = options.logitsToKeep ?? 0;
      const h = keep > 0 && keep < time ? hidden.narrow(1, time - keep, keep) : hidden;
      return h.linear(this.lmHeadWeight); // [B, T, V]
    });
  }

  /** Throws a RangeError unless `inputIds` is an integer [B, T] tensor (called by forward). */
  protected checkInputIds(inputIds: Tensor): [number, number] {
    if (inputIds.ndim !== 2 || (inputIds.dtype !== 'int64' && inputIds.dtype !== 'int32')) {
      throw new RangeError(
        `inputIds must be an int64 tensor [batch, time] of token ids, got ${inputIds.dtype} [${inputIds.shape.join(', ')}] ` +
          "(e.g. torch.tensor([[1, 2, 3]], { dtype: 'int64' }))",
      );
    }
    return inputIds.shape as [number, number];
  }

  /** The dtype of the parameters. */
  get dtype(): DType {
    return this.store.dtype;
  }

  /** A fresh, empty KV cache for this model. Dispose it after use. */
  newCache(): KVCache {
    return new KVCache(this.numLayers);
  }

  /** [Hugging Face key, tensor] of every trainable parameter; tied weights appear once. */
  namedParameters(): [string, Tensor][] {
    return this.store.namedParameters();
  }

  parameters(): Tensor[] {
    return this.store.namedParameters().map(([, t]) => t);
  }

  /** Number of parameter elements (tied weights counted once). */
  get numParameters(): number {
    return this.store.numel;
  }

  /**
   * The weights as Hugging Face stores them: its key names and layouts (GPT-2's Conv1D weights
   * transposed back to [in, out]), tied aliases omitted as transformers omits them. Transposed
   * tensors are new (the caller disposes them); the others are the parameters themselves.
   */
  checkpointTensors(): { tensors: [string, Tensor][]; created: Tensor[] } {
    const created: Tensor[] = [];
    const tensors = this.namedParameters().map(([name, t]): [string, Tensor] => {
      if (!this.layout.isTransposed(name)) return [name, t];
      const hf = torch.noGrad(() => torch.keep(torch.tidy(() => t.transpose(0, 1).contiguous())));
      created.push(hf);
      return [name, hf];
    });
    return { tensors, created };
  }

  /** Writes config.json and model.safetensors (sharded above `maxShardSize`) so transformers and fromPretrained load it. */
  savePretrained(dir: string, options: SavePretrainedOptions = {}): Promise<void> {
    return savePretrained(this, dir, options);
  }

  /** Frees every parameter. The model cannot be used afterwards. */
  dispose(): void {
    this.store.dispose();
  }
}
