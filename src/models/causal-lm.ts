// What every causal language model offers, whatever its architecture: forward to logits, a KV
// cache for generation, its parameters by Hugging Face name for the optimiser, train/eval
// modes, its config as config.json and its weights in Hugging Face's layouts for saving.
import { type AttentionImplementation, checkAttentionImplementation, defaultAttentionImplementation } from '../nn/attention.js';
import { type AttentionBlocks, blockedAttention, layoutBlockedAttention, type TokenLayout } from '../nn/attention-mask.js';
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import { KVCache } from '../nn/kv-cache.js';
import { Module } from '../nn/module.js';
import type { ParameterStore } from '../nn/parameter-store.js';
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { LoraAdapter } from './lora-adapter.js';
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
  /**
   * Several sequences in a row and/or sequences sharing a prefix (see TokenLayout): attention
   * follows the layout's ids instead of the plain causal rule. Needs positionIds; excludes
   * attentionMask (padding is sequence id −1) and cache.
   */
  layout?: TokenLayout | undefined;
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
  /** The LoRA adapter attached to this model (LoraAdapter.attach, loadAdapter), or null. */
  adapter: LoraAdapter | null = null;
  /**
   * Recompute each decoder layer's activations in backward instead of keeping them
   * (transformers' gradient_checkpointing_enable(); torch.checkpoint). Only passes that record
   * gradients and use no KV cache are affected; the gradients are those of the plain pass.
   */
  gradientCheckpointing = false;
  #attentionImplementation: AttentionImplementation = defaultAttentionImplementation;

  /**
   * How every layer computes attention (transformers' attn_implementation): 'chunked', blocks of
   * queries with a backward that recomputes them (the default; see src/nn/attention.ts), or
   * 'eager', the plain tensor operations. The same arithmetic either way.
   */
  get attentionImplementation(): AttentionImplementation {
    return this.#attentionImplementation;
  }

  set attentionImplementation(value: AttentionImplementation) {
    this.#attentionImplementation = checkAttentionImplementation(value, 'attentionImplementation');
    for (const m of this.modules()) {
      if (m !== this && 'attentionImplementation' in m)
        (m as { attentionImplementation: AttentionImplementation }).attentionImplementation = value;
    }
  }
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

  /**
   * Final logit soft-capping (Gemma's final_logit_softcapping): logits become cap·tanh(z / cap);
   * null: none. Whoever applies the LM head to hiddenStates() applies this too.
   */
  get finalLogitSoftcap(): number | null {
    return null;
  }

  /** int64 [B, T] token ids -> the final hidden states [B, T, C] after the last norm, before the LM head. */
  abstract hiddenStates(inputIds: Tensor, options?: ForwardOptions): Tensor;

  /** int64 [B, T] token ids -> logits [B, T, V] (or [B, logitsToKeep, V]) in the model's dtype. */
  forward(inputIds: Tensor, options: ForwardOptions = {}): Tensor {
    return torch.tidy(() => {
      const logits = this.logitsFrom(this.hiddenStates(inputIds, options), options); // [B, T, V]
      const cap = this.finalLogitSoftcap;
      return cap === null ? logits : logits.div(cap).tanh().mul(cap);
    });
  }

  /**
   * The attention mask of a layer with `slidingWindow` for this pass: the causal rule with
   * padding (blockedAttention), or the layout's (layoutBlockedAttention). Called by hiddenStates.
   */
  protected attentionBlocks(
    options: ForwardOptions,
    shape: { time: number; past: number; positions: Tensor },
    slidingWindow: number | null,
  ): AttentionBlocks {
    if (options.layout === undefined) {
      return blockedAttention({ queryLength: shape.time, pastLength: shape.past, attentionMask: options.attentionMask, slidingWindow });
    }
    return layoutBlockedAttention(options.layout, shape.positions, slidingWindow);
  }

  /** Throws a RangeError when a layout comes with what it excludes (called by hiddenStates). */
  protected checkLayout(options: ForwardOptions, inputIds: Tensor): void {
    const { layout } = options;
    if (layout === undefined) return;
    if (options.positionIds === undefined) throw new RangeError('a forward pass with a layout needs positionIds (restarting per sequence)');
    if (options.attentionMask !== undefined || options.cache !== undefined) {
      throw new RangeError('a forward pass with a layout takes neither attentionMask (padding is sequence id −1) nor a KV cache');
    }
    const same = (t: Tensor) => t.ndim === 2 && t.size(0) === inputIds.size(0) && t.size(1) === inputIds.size(1);
    if (!same(layout.sequenceIds) || !same(options.positionIds)) {
      throw new RangeError(`layout.sequenceIds and positionIds must be [${inputIds.shape.join(', ')}] like inputIds`);
    }
  }

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
   * One decoder layer `layer(h, blocks, ...context)`, checkpointed when gradientCheckpointing is
   * on and no KV cache is in use. `blocks` (the attention mask, or per-span masks) and `context`
   * hold every tensor the layer reads besides `h` and the parameters (rotary tables), so the
   * replay in backward finds them.
   */
  protected decoderLayer(
    layer: (h: Tensor, blocks: AttentionBlocks, ...context: Tensor[]) => Tensor,
    h: Tensor,
    blocks: AttentionBlocks,
    context: readonly Tensor[],
    options: ForwardOptions,
  ): Tensor {
    if (!this.gradientCheckpointing || options.cache !== undefined) return layer(h, blocks, ...context);
    // The masks travel as tensors; a span layout's starts and lengths are plain numbers.
    const spans = 'spans' in blocks ? blocks.spans : null;
    const maskTensors = spans ? spans.map((s) => s.blocked) : [blocks as Tensor];
    const rebuild = (masks: Tensor[]): AttentionBlocks =>
      spans ? { spans: spans.map((s, i) => ({ start: s.start, length: s.length, blocked: masks[i] as Tensor })) } : (masks[0] as Tensor);
    const n = maskTensors.length;
    return torch.checkpoint((x, ...all) => layer(x, rebuild(all.slice(0, n)), ...all.slice(n)), h, [...maskTensors, ...context]);
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

  /** Frees every parameter (and the adapter's). The model cannot be used afterwards. */
  dispose(): void {
    this.adapter?.dispose();
    this.store.dispose();
  }
}
