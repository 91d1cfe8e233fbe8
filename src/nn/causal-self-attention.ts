// Causal self-attention of the Llama family and its relatives (Llama, Mistral, Qwen2/3, Phi-3,
// OLMo 2, Gemma 2/3): q/k/v/o projections under Hugging Face's names (or Phi-3's one fused
// qkv_proj), optional RMSNorm of queries and keys, rotary positions, multi-head or grouped-query
// attention, optional logit soft-capping, an optional KV cache. The mask is built once per
// forward pass by the model.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { type AttentionImplementation, defaultAttentionImplementation, scaledDotProductAttention } from './attention.js';
import type { AttentionBlocks } from './attention-mask.js';
import type { KVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { StorePath } from './parameter-store.js';
import { RMSNorm, type RMSNormStyle } from './rms-norm.js';
import { applyRotary } from './rotary-embedding.js';

/**
 * RMSNorm of queries and keys (q_norm, k_norm) before RoPE. `head`: over each head's D, one
 * weight [D] shared by all heads (Qwen3, Gemma 3); `projection`: over the whole projection,
 * weights [H·D] and [Hkv·D] (OLMo 2).
 */
export interface QkNormOptions {
  over: 'head' | 'projection';
  eps: number;
  style: RMSNormStyle;
}

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
  /** One qkv_proj [H·D + 2·Hkv·D, C] whose output splits into q | k | v (Phi-3). Default false. */
  fusedQkv?: boolean | undefined;
  /** q_norm and k_norm (Qwen3, OLMo 2, Gemma 3). Default none. */
  qkNorm?: QkNormOptions | undefined;
  /** Multiplies q·kᵀ. Default 1/√D (Gemma: query_pre_attn_scalar^−½). */
  scale?: number | undefined;
  /** Attention logit soft-capping (Gemma 2's attn_logit_softcapping); null: none. */
  softcap?: number | null | undefined;
}

export interface AttentionInputs {
  /** RoPE tables [B, T, D] in the working dtype (see ropeCosSin). */
  cos: Tensor;
  sin: Tensor;
  /** bool [B or 1, 1, T, P + T] (see blockedAttention). */
  blocked: AttentionBlocks;
  cache?: KVCache | undefined;
}

export class CausalSelfAttention extends Module {
  /** Separate projections, or null when fused into qkvProj. */
  readonly qProj: Linear | null;
  readonly kProj: Linear | null;
  readonly vProj: Linear | null;
  /** Phi-3's fused projection, or null. */
  readonly qkvProj: Linear | null;
  readonly oProj: Linear;
  readonly qNorm: RMSNorm | null;
  readonly kNorm: RMSNorm | null;
  /** Which implementation computes the attention (see src/nn/attention.ts); the model sets it for every layer. */
  attentionImplementation: AttentionImplementation = defaultAttentionImplementation;
  readonly #o: CausalSelfAttentionOptions;

  constructor(path: StorePath, options: CausalSelfAttentionOptions) {
    super(path);
    const { hidden, heads, kvHeads, headDim, std } = options;
    if (heads % kvHeads !== 0)
      throw new RangeError(`num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
    this.#o = options;
    const bias = options.qkvBias;
    if (options.fusedQkv === true) {
      this.qkvProj = this.child(new Linear(path.sub('qkv_proj'), hidden, (heads + 2 * kvHeads) * headDim, { bias, std }));
      this.qProj = this.kProj = this.vProj = null;
    } else {
      this.qkvProj = null;
      this.qProj = this.child(new Linear(path.sub('q_proj'), hidden, heads * headDim, { bias, std }));
      this.kProj = this.child(new Linear(path.sub('k_proj'), hidden, kvHeads * headDim, { bias, std }));
      this.vProj = this.child(new Linear(path.sub('v_proj'), hidden, kvHeads * headDim, { bias, std }));
    }
    this.oProj = this.child(new Linear(path.sub('o_proj'), heads * headDim, hidden, { bias: options.outputBias, std }));
    const norm = options.qkNorm;
    if (norm === undefined) {
      this.qNorm = this.kNorm = null;
    } else {
      const perHead = norm.over === 'head';
      this.qNorm = this.child(new RMSNorm(path.sub('q_norm'), perHead ? headDim : heads * headDim, norm.eps, norm.style));
      this.kNorm = this.child(new RMSNorm(path.sub('k_norm'), perHead ? headDim : kvHeads * headDim, norm.eps, norm.style));
    }
  }

  /** q [B, T, H·D], k and v [B, T, Hkv·D] from the projections (split as transformers' Phi3Attention slices). */
  #project(x: Tensor): [Tensor, Tensor, Tensor] {
    const { heads, kvHeads, headDim } = this.#o;
    if (this.qkvProj !== null) {
      const qkv = this.qkvProj.forward(x);
      return [
        qkv.narrow(-1, 0, heads * headDim),
        qkv.narrow(-1, heads * headDim, kvHeads * headDim),
        qkv.narrow(-1, (heads + kvHeads) * headDim, kvHeads * headDim),
      ];
    }
    return [(this.qProj as Linear).forward(x), (this.kProj as Linear).forward(x), (this.vProj as Linear).forward(x)];
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor, inputs: AttentionInputs): Tensor {
    const { heads, kvHeads, headDim } = this.#o;
    return torch.tidy(() => {
      const [b, t] = x.shape as [number, number, number];
      let [q, k, v] = this.#project(x);
      const perHead = this.#o.qkNorm?.over === 'head';
      if (this.qNorm !== null && this.kNorm !== null && !perHead) {
        q = this.qNorm.forward(q);
        k = this.kNorm.forward(k);
      }
      q = q.view([b, t, heads, headDim]);
      k = k.view([b, t, kvHeads, headDim]);
      if (this.qNorm !== null && this.kNorm !== null && perHead) {
        q = this.qNorm.forward(q);
        k = this.kNorm.forward(k);
      }
      q = applyRotary(q.transpose(1, 2), inputs.cos, inputs.sin); // [B, H, T, D]
      k = applyRotary(k.transpose(1, 2), inputs.cos, inputs.sin); // [B, Hkv, T, D]
      v = v.view([b, t, kvHeads, headDim]).transpose(1, 2);
      if (inputs.cache !== undefined) ({ k, v } = inputs.cache.update(this.#o.layer, k, v));
      const y = scaledDotProductAttention(q, k, v, {
        scale: this.#o.scale ?? 1 / Math.sqrt(headDim),
        softcap: this.#o.softcap,
        blocked: inputs.blocked,
        softmaxInFloat32: true,
        dropout: this.#o.dropout,
        training: this.training,
        implementation: this.attentionImplementation,
      }); // [B, H, T, D]
      return this.oProj.forward(y.transpose(1, 2).reshape([b, t, heads * headDim]));
    });
  }
}
