// Causal self-attention of the Llama family (Llama, Mistral, Qwen2): separate q/k/v/o
// projections under Hugging Face's names, rotary positions, multi-head or grouped-query
// attention, an optional KV cache. The mask is built once per forward pass by the model.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { scaledDotProductAttention } from './attention.js';
import type { KVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';
import { applyRotary } from './rotary-embedding.js';

export interface CausalSelfAttentionOptions {
  /** Model width C. */
  hidden: number;
  /** Query heads H. */
  heads: number;
  /** Key/value heads Hkv (H for multi-head, fewer for grouped-query attention). */
  kvHeads: number;
  /** Width D of each head (usually C / H). */
  headDim: number;
  /** Biases on q_proj, k_proj and v_proj (Qwen2; Llama's attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama's attention_bias). */
  outputBias: boolean;
  /** Dropout on the attention weights in training mode (attention_dropout). */
  dropout: number;
  /** Init std (initializer_range). */
  std: number;
  /** Index of this layer in the model, its slot in a KV cache. */
  layer: number;
}

export interface AttentionInputs {
  /** RoPE tables [B, T, D] in the working dtype (see ropeCosSin). */
  cos: Tensor;
  sin: Tensor;
  /** bool [B or 1, 1, T, P + T] (see blockedAttention). */
  blocked: Tensor;
  cache?: KVCache | undefined;
}

export class CausalSelfAttention extends Module {
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly oProj: Linear;
  readonly #o: CausalSelfAttentionOptions;

  constructor(path: StorePath, options: CausalSelfAttentionOptions) {
    super(path);
    const { hidden, heads, kvHeads, headDim, std } = options;
    if (heads % kvHeads !== 0)
      throw new RangeError(`num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
    this.#o = options;
    this.qProj = this.child(new Linear(path.sub('q_proj'), hidden, heads * headDim, { bias: options.qkvBias, std }));
    this.kProj = this.child(new Linear(path.sub('k_proj'), hidden, kvHeads * headDim, { bias: options.qkvBias, std }));
    this.vProj = this.child(new Linear(path.sub('v_proj'), hidden, kvHeads * headDim, { bias: options.qkvBias, std }));
    this.oProj = this.child(new Linear(path.sub('o_proj'), heads * headDim, hidden, { bias: options.outputBias, std }));
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor, inputs: AttentionInputs): Tensor {
    const { heads, kvHeads, headDim } = this.#o;
    return torch.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      const q = this.qProj.forward(x).view([b, t, heads, headDim]).transpose(1, 2); // [B, H, T, D]
      let k = this.kProj.forward(x).view([b, t, kvHeads, headDim]).transpose(1, 2); // [B, Hkv, T, D]
      let v = this.vProj.forward(x).view([b, t, kvHeads, headDim]).transpose(1, 2);
      const qr = applyRotary(q, inputs.cos, inputs.sin);
      k = applyRotary(k, inputs.cos, inputs.sin);
      if (inputs.cache !== undefined) ({ k, v } = inputs.cache.update(this.#o.layer, k, v));
      const y = scaledDotProductAttention(qr, k, v, {
        scale: 1 / Math.sqrt(headDim),
        blocked: inputs.blocked,
        softmaxInFloat32: true,
        dropout: this.#o.dropout,
        training: this.training,
      }); // [B, H, T, D]
      return this.oProj.forward(y.transpose(1, 2).reshape([b, t, heads * headDim]));
    });
  }
}
