// The decoder shared by Gemma 2 and Gemma 3 (text): token embeddings scaled by √hidden_size, RMSNorm
// with the (1 + weight) convention in float32, four norms per layer (input_layernorm before
// attention, post_attention_layernorm on its output, pre_feedforward_layernorm before the MLP,
// post_feedforward_layernorm on its output), GeGLU (tanh GELU gate), attention scaled by
// query_pre_attn_scalar^−½ instead of head_dim^−½, layers alternating between a sliding window
// and full attention as layer_types says (each type with its own RoPE settings in Gemma 3),
// optional soft-capping of attention logits and of the final logits (cap·tanh(x / cap)), and
// the LM head tied to the embedding by default. Gemma 3 adds per-head q/k norms. Sources:
// transformers' modeling_gemma2.py and modeling_gemma3.py (Gemma2DecoderLayer, Gemma2RMSNorm,
// Gemma2TextScaledWordEmbedding, Gemma3TextModel); Gemma Team 2024, arXiv 2408.00118.
import type { ActivationName } from '../nn/activations.js';
import { type AttentionBlocks, defaultPositionIds } from '../nn/attention-mask.js';
import { CausalSelfAttention } from '../nn/causal-self-attention.js';
import { Embedding } from '../nn/embedding.js';
import type { KVCache } from '../nn/kv-cache.js';
import { Module } from '../nn/module.js';
import type { ParameterStore, StorePath } from '../nn/parameter-store.js';
import { RMSNorm } from '../nn/rms-norm.js';
import { type RopeParameters, ropeCosSin, ropeInverseFrequencies } from '../nn/rotary-embedding.js';
import { SwiGluMlp } from '../nn/swiglu-mlp.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { CausalLM, type ForwardOptions } from './causal-lm.js';
import { requireConfig } from './config-schema.js';
import { ModelConfigError } from './errors.js';
import { LLAMA_FAMILY_LAYOUT } from './llama-decoder.js';

export type GemmaLayerType = 'full_attention' | 'sliding_attention';

/** The resolved config keys Gemma 2 and Gemma 3 share (transformers' names and meanings). */
export interface GemmaFamilyConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  hidden_activation: ActivationName;
  rms_norm_eps: number;
  max_position_embeddings: number;
  attention_bias: boolean;
  attention_dropout: number;
  tie_word_embeddings: boolean;
  initializer_range: number;
  query_pre_attn_scalar: number;
  sliding_window: number | null;
  final_logit_softcapping: number | null;
  attn_logit_softcapping: number | null;
  /** Per layer, full or sliding-window attention. */
  layer_types: GemmaLayerType[];
}

/** What Gemma 2 and Gemma 3 decide themselves rather than through a shared key. */
export interface GemmaVariant {
  /** Per-head RMSNorm of queries and keys before RoPE (Gemma 3). */
  qkNorm: boolean;
  /** RoPE settings of each layer type (Gemma 2: the same for both). */
  rope: Record<GemmaLayerType, RopeParameters>;
}

/**
 * layer_types as config.json lists them, else every `pattern`-th layer full and the others
 * sliding (transformers: 'sliding_attention' if (i + 1) % pattern else 'full_attention'; Gemma 2's
 * pattern is 2, Gemma 3's sliding_window_pattern 6).
 */
export function gemmaLayerTypes(raw: Readonly<Record<string, unknown>>, layers: number, pattern: number, where: string): GemmaLayerType[] {
  const given = raw['layer_types'];
  if (given === undefined || given === null) {
    return Array.from({ length: layers }, (_, i) => ((i + 1) % pattern !== 0 ? 'sliding_attention' : 'full_attention'));
  }
  if (Array.isArray(given) && given.length === layers && given.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
    return given as GemmaLayerType[];
  }
  throw new ModelConfigError('layer_types', `expected ${layers} entries of 'full_attention' or 'sliding_attention'`, where);
}

/** The shape rules every Gemma config obeys (checked once, when the config is read). */
export function checkGemmaConfig(c: GemmaFamilyConfig, where: string): void {
  requireConfig(
    c.num_attention_heads % c.num_key_value_heads === 0,
    'num_key_value_heads',
    `num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${c.num_key_value_heads})`,
    where,
  );
  requireConfig(c.head_dim % 2 === 0, 'head_dim', `must be even for rotary embeddings, got ${c.head_dim}`, where);
  requireConfig(c.attention_dropout < 1, 'attention_dropout', 'must be below 1', where);
  for (const key of ['final_logit_softcapping', 'attn_logit_softcapping'] as const) {
    const cap = c[key];
    requireConfig(cap === null || cap > 0, key, `must be a positive number or null, got ${cap}`, where);
  }
}

class GemmaDecoderLayer extends Module {
  readonly inputLayernorm: RMSNorm;
  readonly selfAttn: CausalSelfAttention;
  readonly postAttentionLayernorm: RMSNorm;
  readonly preFeedforwardLayernorm: RMSNorm;
  readonly mlp: SwiGluMlp;
  readonly postFeedforwardLayernorm: RMSNorm;
  readonly layerType: GemmaLayerType;

  constructor(path: StorePath, c: GemmaFamilyConfig, variant: GemmaVariant, layer: number) {
    super(path);
    this.layerType = c.layer_types[layer] as GemmaLayerType;
    const norm = (name: string) => this.child(new RMSNorm(path.sub(name), c.hidden_size, c.rms_norm_eps, 'unit-offset'));
    this.inputLayernorm = norm('input_layernorm');
    this.selfAttn = this.child(
      new CausalSelfAttention(path.sub('self_attn'), {
        hidden: c.hidden_size,
        heads: c.num_attention_heads,
        kvHeads: c.num_key_value_heads,
        headDim: c.head_dim,
        qkvBias: c.attention_bias,
        outputBias: c.attention_bias,
        dropout: c.attention_dropout,
        std: c.initializer_range,
        layer,
        qkNorm: variant.qkNorm ? { over: 'head', eps: c.rms_norm_eps, style: 'unit-offset' } : undefined,
        scale: c.query_pre_attn_scalar ** -0.5,
        softcap: c.attn_logit_softcapping,
      }),
    );
    this.postAttentionLayernorm = norm('post_attention_layernorm');
    this.preFeedforwardLayernorm = norm('pre_feedforward_layernorm');
    this.mlp = this.child(
      new SwiGluMlp(path.sub('mlp'), {
        hidden: c.hidden_size,
        intermediate: c.intermediate_size,
        activation: c.hidden_activation,
        bias: false,
        std: c.initializer_range,
      }),
    );
    this.postFeedforwardLayernorm = norm('post_feedforward_layernorm');
  }

  forward(x: Tensor, cos: Tensor, sin: Tensor, blocked: AttentionBlocks, cache: KVCache | undefined): Tensor {
    return torch.tidy(() => {
      const attended = this.selfAttn.forward(this.inputLayernorm.forward(x), { cos, sin, blocked, cache });
      const h = x.add(this.postAttentionLayernorm.forward(attended));
      const fed = this.mlp.forward(this.preFeedforwardLayernorm.forward(h));
      return h.add(this.postFeedforwardLayernorm.forward(fed));
    });
  }
}

export abstract class GemmaDecoderModel<Config extends GemmaFamilyConfig = GemmaFamilyConfig> extends CausalLM<Config> {
  readonly layout = LLAMA_FAMILY_LAYOUT;
  readonly variant: GemmaVariant;
  readonly embedTokens: Embedding;
  readonly layers: GemmaDecoderLayer[];
  readonly norm: RMSNorm;
  readonly lmHeadWeight: Tensor;
  /** float32 [head_dim / 2] RoPE inverse frequencies per layer type (buffers: derived from the config, never saved). */
  readonly invFreq: Record<GemmaLayerType, Tensor>;

  constructor(store: ParameterStore, config: Config, variant: GemmaVariant, extra: Record<string, unknown> = {}) {
    const c = config;
    super(store, c, { vocabSize: c.vocab_size, hiddenSize: c.hidden_size, numLayers: c.num_hidden_layers }, extra);
    this.variant = variant;
    const base = store.root.sub('model');
    this.embedTokens = this.child(new Embedding(base.sub('embed_tokens'), c.vocab_size, c.hidden_size, { std: c.initializer_range }));
    this.layers = Array.from({ length: c.num_hidden_layers }, (_, i) =>
      this.child(new GemmaDecoderLayer(base.sub('layers', i), c, variant, i)),
    );
    this.norm = this.child(new RMSNorm(base.sub('norm'), c.hidden_size, c.rms_norm_eps, 'unit-offset'));
    this.lmHeadWeight = this.declareLmHead(c.tie_word_embeddings, 'model.embed_tokens.weight', c.initializer_range);
    this.invFreq = {
      full_attention: torch.keep(ropeInverseFrequencies(c.head_dim, variant.rope.full_attention)),
      sliding_attention: torch.keep(ropeInverseFrequencies(c.head_dim, variant.rope.sliding_attention)),
    };
  }

  override get finalLogitSoftcap(): number | null {
    return this.config.final_logit_softcapping;
  }

  hiddenStates(inputIds: Tensor, options: ForwardOptions = {}): Tensor {
    const [batch, time] = this.checkInputIds(inputIds);
    this.checkLayout(options, inputIds);
    const past = options.cache?.length ?? 0;
    const c = this.config;
    return torch.tidy(() => {
      const positions = options.positionIds ?? defaultPositionIds(batch, time, past);
      const tables = new Map<GemmaLayerType, { cos: Tensor; sin: Tensor }>();
      const masks = new Map<GemmaLayerType, AttentionBlocks>();
      for (const type of new Set(c.layer_types)) {
        tables.set(type, ropeCosSin(this.invFreq[type], positions, this.dtype)); // [B, T, D]
        const window = type === 'sliding_attention' ? c.sliding_window : null;
        masks.set(type, this.attentionBlocks(options, { time, past, positions }, window));
      }
      // √hidden_size as a float32 scalar cast to the weights' dtype, then multiplied (Gemma2TextScaledWordEmbedding).
      const scale = torch.full([], Math.sqrt(c.hidden_size), { dtype: 'float32' }).to(this.dtype);
      let h = this.embedTokens.forward(inputIds).mul(scale); // [B, T, C]
      for (const layer of this.layers) {
        const { cos, sin } = tables.get(layer.layerType) as { cos: Tensor; sin: Tensor };
        h = this.decoderLayer(
          (x, blocks, c, s) => layer.forward(x, c as Tensor, s as Tensor, blocks, options.cache),
          h,
          masks.get(layer.layerType) as AttentionBlocks,
          [cos, sin],
          options,
        );
      }
      return this.norm.forward(h); // [B, T, C]
    });
  }

  override dispose(): void {
    this.invFreq.full_attention.dispose();
    this.invFreq.sliding_attention.dispose();
    super.dispose();
  }
}
