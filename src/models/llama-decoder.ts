// The decoder shared by the Llama family (Llama, Mistral, Qwen2, Qwen3, Phi-3, OLMo 2): token
// embedding, RMSNorm blocks of rotary causal self-attention (multi-head or grouped-query) and a
// SwiGLU MLP, a final RMSNorm and the LM head. It reads the resolved config under Hugging Face's
// own key names (num_key_value_heads, head_dim, rope_parameters, ...). The families differ only
// in their config keys and defaults and in what LlamaFamilyVariant lists (biases, sliding-window
// layers, q/k norms, norm placement, fused projections): their files (llama.ts, mistral.ts,
// qwen2.ts, qwen3.ts, phi3.ts, olmo2.ts) hold the schema and say which they use.
import type { ActivationName } from '../nn/activations.js';
import { type AttentionBlocks, defaultPositionIds } from '../nn/attention-mask.js';
import { CausalSelfAttention } from '../nn/causal-self-attention.js';
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import type { KVCache } from '../nn/kv-cache.js';
import { Module } from '../nn/module.js';
import type { ParameterStore, StorePath } from '../nn/parameter-store.js';
import { RMSNorm, type RMSNormStyle } from '../nn/rms-norm.js';
import { type RopeParameters, ropeCosSin, ropeInverseFrequencies } from '../nn/rotary-embedding.js';
import { SwiGluMlp } from '../nn/swiglu-mlp.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { CausalLM, type ForwardOptions } from './causal-lm.js';
import { requireConfig } from './config-schema.js';
import { legacyRopeScaling, type RopeConfigKeys, type RopeOptions, resolveRopeParameters } from './rope-parameters.js';

/** The resolved config keys every Llama-family architecture has (transformers' names and meanings). */
export interface LlamaFamilyConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  hidden_act: ActivationName;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: Record<string, unknown> | null;
  rope_parameters: RopeParameters;
  max_position_embeddings: number;
  attention_dropout: number;
  tie_word_embeddings: boolean;
  initializer_range: number;
}

/** What an architecture decides itself rather than through a shared key. */
export interface LlamaFamilyVariant {
  /** Biases on q_proj, k_proj and v_proj. */
  qkvBias: boolean;
  /** Bias on o_proj. */
  outputBias: boolean;
  /** Biases on gate_proj, up_proj and down_proj. */
  mlpBias: boolean;
  /** Per layer: the sliding window in tokens, or null for full causal attention. */
  slidingWindows: (number | null)[];
  /** RMSNorm of queries and keys before RoPE: per head (Qwen3) or over the projection (OLMo 2). Default none. */
  qkNorm?: 'head' | 'projection' | undefined;
  /** How RMSNorm weights apply (see rms-norm.ts). Default 'llama'. */
  normStyle?: RMSNormStyle | undefined;
  /**
   * 'pre' (default): h = x + attn(input_layernorm(x)); out = h + mlp(post_attention_layernorm(h)).
   * 'post' (OLMo 2): h = x + post_attention_layernorm(attn(x)); out = h + post_feedforward_layernorm(mlp(h)).
   */
  normPlacement?: 'pre' | 'post' | undefined;
  /** Phi-3's fused qkv_proj and gate_up_proj. Default false. */
  fusedProjections?: boolean | undefined;
  /** Features of each head that RoPE rotates (Phi-3's head_dim · partial_rotary_factor). Default head_dim. */
  rotaryDim?: number | undefined;
  /** Dropout on each sublayer's output before the residual add (Phi-3's resid_pdrop); training only. Default 0. */
  residualDropout?: number | undefined;
}

export const LLAMA_FAMILY_LAYOUT: CheckpointLayout = {
  basePrefix: 'model',
  isTransposed: () => false,
  // RoPE frequencies that older transformers versions saved as a buffer.
  isIgnorable: (name) => name.endsWith('.rotary_emb.inv_freq'),
};

class LlamaDecoderLayer extends Module {
  /** The pre-attention norm ('pre' placement), else null. */
  readonly inputLayernorm: RMSNorm | null;
  readonly selfAttn: CausalSelfAttention;
  /** Before the MLP ('pre') or on the attention output ('post'). */
  readonly postAttentionLayernorm: RMSNorm;
  readonly mlp: SwiGluMlp;
  /** On the MLP output ('post' placement), else null. */
  readonly postFeedforwardLayernorm: RMSNorm | null;
  readonly residDropout: Dropout;
  /** Sliding window of this layer (null: full attention). */
  readonly slidingWindow: number | null;

  constructor(path: StorePath, c: LlamaFamilyConfig, variant: LlamaFamilyVariant, layer: number) {
    super(path);
    this.slidingWindow = variant.slidingWindows[layer] ?? null;
    const style = variant.normStyle ?? 'llama';
    const norm = (name: string) => this.child(new RMSNorm(path.sub(name), c.hidden_size, c.rms_norm_eps, style));
    const post = variant.normPlacement === 'post';
    this.inputLayernorm = post ? null : norm('input_layernorm');
    this.selfAttn = this.child(
      new CausalSelfAttention(path.sub('self_attn'), {
        hidden: c.hidden_size,
        heads: c.num_attention_heads,
        kvHeads: c.num_key_value_heads,
        headDim: c.head_dim,
        qkvBias: variant.qkvBias,
        outputBias: variant.outputBias,
        dropout: c.attention_dropout,
        std: c.initializer_range,
        layer,
        fusedQkv: variant.fusedProjections,
        qkNorm: variant.qkNorm === undefined ? undefined : { over: variant.qkNorm, eps: c.rms_norm_eps, style },
      }),
    );
    this.postAttentionLayernorm = norm('post_attention_layernorm');
    this.mlp = this.child(
      new SwiGluMlp(path.sub('mlp'), {
        hidden: c.hidden_size,
        intermediate: c.intermediate_size,
        activation: c.hidden_act,
        bias: variant.mlpBias,
        std: c.initializer_range,
        fused: variant.fusedProjections,
      }),
    );
    this.postFeedforwardLayernorm = post ? norm('post_feedforward_layernorm') : null;
    this.residDropout = this.child(new Dropout(path.sub('resid_dropout'), variant.residualDropout ?? 0));
  }

  forward(x: Tensor, cos: Tensor, sin: Tensor, blocked: AttentionBlocks, cache: KVCache | undefined): Tensor {
    return torch.tidy(() => {
      const attend = (y: Tensor) => this.residDropout.forward(this.selfAttn.forward(y, { cos, sin, blocked, cache }));
      const mlp = (y: Tensor) => this.residDropout.forward(this.mlp.forward(y));
      if (this.inputLayernorm === null) {
        const h = x.add(this.postAttentionLayernorm.forward(attend(x)));
        return h.add((this.postFeedforwardLayernorm as RMSNorm).forward(mlp(h)));
      }
      const h = x.add(attend(this.inputLayernorm.forward(x)));
      return h.add(mlp(this.postAttentionLayernorm.forward(h)));
    });
  }
}

/** A schema-resolved Llama-family config before the defaults that depend on other keys are filled. */
type UnresolvedFamily = Omit<LlamaFamilyConfig, 'num_key_value_heads' | 'head_dim' | 'rope_parameters'> &
  RopeConfigKeys & { num_key_value_heads: number | null; head_dim: number | null };

/** `C` with the defaults of withLlamaFamilyDefaults filled in. */
export type WithLlamaFamilyDefaults<C> = Omit<C, 'num_key_value_heads' | 'head_dim' | 'rope_parameters'> & {
  num_key_value_heads: number;
  head_dim: number;
  rope_parameters: RopeParameters;
};

/**
 * Fills the defaults transformers derives for every Llama-family config (num_key_value_heads =
 * num_attention_heads, head_dim = hidden_size / num_attention_heads, the RoPE settings from
 * rope_parameters or rope_theta + rope_scaling) and checks the shapes: query heads a multiple of
 * key/value heads, an even head width for RoPE. rope_theta, rope_scaling and rope_parameters
 * are made consistent, so a saved config.json reads the same in transformers 4 and 5.
 */
export function withLlamaFamilyDefaults<C extends UnresolvedFamily>(
  c: C,
  where: string,
  ropeOptions: RopeOptions = {},
): WithLlamaFamilyDefaults<C> {
  const rope = resolveRopeParameters(c, where, ropeOptions);
  const resolved = {
    ...c,
    num_key_value_heads: c.num_key_value_heads ?? c.num_attention_heads,
    head_dim: c.head_dim ?? Math.floor(c.hidden_size / c.num_attention_heads),
    rope_theta: rope.rope_theta,
    rope_scaling: legacyRopeScaling(rope),
    rope_parameters: rope,
  };
  requireConfig(
    resolved.num_attention_heads % resolved.num_key_value_heads === 0,
    'num_key_value_heads',
    `num_attention_heads (${resolved.num_attention_heads}) must be a multiple of num_key_value_heads (${resolved.num_key_value_heads})`,
    where,
  );
  requireConfig(resolved.head_dim % 2 === 0, 'head_dim', `must be even for rotary embeddings, got ${resolved.head_dim}`, where);
  requireConfig(resolved.attention_dropout < 1, 'attention_dropout', 'must be below 1', where);
  return resolved;
}

export abstract class LlamaDecoderModel<Config extends LlamaFamilyConfig = LlamaFamilyConfig> extends CausalLM<Config> {
  readonly layout = LLAMA_FAMILY_LAYOUT;
  /** Biases and sliding windows of this architecture. */
  readonly variant: LlamaFamilyVariant;
  readonly embedTokens: Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: RMSNorm;
  readonly lmHeadWeight: Tensor;
  /** float32 [head_dim / 2] RoPE inverse frequencies (a buffer: derived from the config, never saved). */
  readonly invFreq: Tensor;
  /** LongRoPE's frequencies with long_factor, used when a pass reaches beyond original_max_position_embeddings; else null. */
  readonly invFreqLong: Tensor | null;

  constructor(store: ParameterStore, config: Config, variant: LlamaFamilyVariant, extra: Record<string, unknown> = {}) {
    const c = config;
    super(store, c, { vocabSize: c.vocab_size, hiddenSize: c.hidden_size, numLayers: c.num_hidden_layers }, extra);
    this.variant = variant;
    const base = store.root.sub('model');
    this.embedTokens = this.child(new Embedding(base.sub('embed_tokens'), c.vocab_size, c.hidden_size, { std: c.initializer_range }));
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) =>
      this.child(new LlamaDecoderLayer(base.sub('layers', i), c, variant, i)),
    );
    this.norm = this.child(new RMSNorm(base.sub('norm'), c.hidden_size, c.rms_norm_eps, variant.normStyle));
    this.lmHeadWeight = this.declareLmHead(c.tie_word_embeddings, 'model.embed_tokens.weight', c.initializer_range);
    const rotaryDim = variant.rotaryDim ?? c.head_dim;
    this.invFreq = torch.keep(ropeInverseFrequencies(rotaryDim, c.rope_parameters));
    this.invFreqLong =
      c.rope_parameters.rope_type === 'longrope' ? torch.keep(ropeInverseFrequencies(rotaryDim, c.rope_parameters, true)) : null;
  }

  /** RoPE tables for `positions`: LongRoPE takes its long factors when the highest position + 1 exceeds the original context (transformers' longrope_frequency_update). */
  #rope(positions: Tensor): { cos: Tensor; sin: Tensor } {
    const rope = this.config.rope_parameters;
    if (rope.rope_type !== 'longrope' || this.invFreqLong === null) return ropeCosSin(this.invFreq, positions, this.dtype);
    const length = positions.numel === 0 ? 0 : positions.max().item() + 1;
    const inv = length > rope.original_max_position_embeddings ? this.invFreqLong : this.invFreq;
    return ropeCosSin(inv, positions, this.dtype, rope.attention_factor);
  }

  hiddenStates(inputIds: Tensor, options: ForwardOptions = {}): Tensor {
    const [batch, time] = this.checkInputIds(inputIds);
    this.checkLayout(options, inputIds);
    const past = options.cache?.length ?? 0;
    return torch.tidy(() => {
      const positions = options.positionIds ?? defaultPositionIds(batch, time, past);
      const { cos, sin } = this.#rope(positions); // [B, T, D]
      // One mask per distinct window (Qwen2 mixes full and sliding layers).
      const masks = new Map<number | null, AttentionBlocks>();
      const maskFor = (window: number | null): AttentionBlocks => {
        let m = masks.get(window);
        if (m === undefined) {
          m = this.attentionBlocks(options, { time, past, positions }, window);
          masks.set(window, m);
        }
        return m;
      };
      let h = this.embedTokens.forward(inputIds); // [B, T, C]
      for (const layer of this.layers) {
        h = this.decoderLayer(
          (x, blocks, c, s) => layer.forward(x, c as Tensor, s as Tensor, blocks, options.cache),
          h,
          maskFor(layer.slidingWindow),
          [cos, sin],
          options,
        );
      }
      return this.norm.forward(h); // [B, T, C]
    });
  }

  override dispose(): void {
    this.invFreq.dispose();
    this.invFreqLong?.dispose();
    super.dispose();
  }
}
