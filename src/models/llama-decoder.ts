// The decoder shared by the Llama family (Llama, Mistral, Qwen2): token embedding, pre-RMSNorm
// blocks of rotary causal self-attention (multi-head or grouped-query) and a SwiGLU MLP, a final
// RMSNorm and the LM head. The families differ only in config keys and defaults, in q/k/v
// biases and in sliding-window layers; their files (llama.ts, mistral.ts, qwen2.ts) turn their
// config into a LlamaDecoderSpec.
import type { ActivationName } from '../nn/activations.js';
import { blockedAttention, defaultPositionIds } from '../nn/attention-mask.js';
import { CausalSelfAttention } from '../nn/causal-self-attention.js';
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import { Embedding } from '../nn/embedding.js';
import type { KVCache } from '../nn/kv-cache.js';
import { Module } from '../nn/module.js';
import type { ParameterStore, StorePath } from '../nn/parameter-store.js';
import { RMSNorm } from '../nn/rms-norm.js';
import { type RopeScaling, ropeCosSin, ropeInverseFrequencies } from '../nn/rotary-embedding.js';
import { SwiGluMlp } from '../nn/swiglu-mlp.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../torch.js';
import { CausalLM, type ForwardOptions } from './causal-lm.js';
import { requireConfig } from './config-schema.js';
import { ModelConfigError } from './errors.js';

/** The architecture-independent description of a Llama-family decoder. */
export interface LlamaDecoderSpec {
  vocabSize: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  activation: ActivationName;
  attentionDropout: number;
  qkvBias: boolean;
  outputBias: boolean;
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  initializerRange: number;
  /** Per layer: the sliding window in tokens, or null for full causal attention. */
  slidingWindows: (number | null)[];
}

export const LLAMA_FAMILY_LAYOUT: CheckpointLayout = {
  basePrefix: 'model',
  isTransposed: () => false,
  // RoPE frequencies that older transformers versions saved as a buffer.
  isIgnorable: (name) => name.endsWith('.rotary_emb.inv_freq'),
};

/** rope_scaling of a config.json (rope_type, or the older key `type`), checked. */
export function parseRopeScaling(raw: Record<string, unknown> | null, where: string): RopeScaling {
  if (raw === null) return { rope_type: 'default' };
  const type = raw['rope_type'] ?? raw['type'];
  const num = (key: string, above = 0): number => {
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > above)) {
      throw new ModelConfigError(
        `rope_scaling.${key}`,
        `expected a number > ${above} for rope type '${String(type)}', got ${JSON.stringify(v)}`,
        where,
      );
    }
    return v;
  };
  switch (type) {
    case 'default':
      return { rope_type: 'default' };
    case 'linear':
      return { rope_type: 'linear', factor: num('factor') };
    case 'llama3': {
      const scaling = {
        rope_type: 'llama3' as const,
        factor: num('factor'),
        low_freq_factor: num('low_freq_factor'),
        high_freq_factor: num('high_freq_factor'),
        original_max_position_embeddings: num('original_max_position_embeddings'),
      };
      if (!(scaling.high_freq_factor > scaling.low_freq_factor)) {
        throw new ModelConfigError('rope_scaling.high_freq_factor', 'must be greater than low_freq_factor', where);
      }
      return scaling;
    }
    default:
      throw new ModelConfigError(
        'rope_scaling',
        `rope type ${JSON.stringify(type)} is not supported (supported: default, linear, llama3). ` +
          'dynamic, yarn, longrope and su scale positions differently and are not implemented.',
        where,
      );
  }
}

class LlamaDecoderLayer extends Module {
  readonly inputLayernorm: RMSNorm;
  readonly selfAttn: CausalSelfAttention;
  readonly postAttentionLayernorm: RMSNorm;
  readonly mlp: SwiGluMlp;
  /** Sliding window of this layer (null: full attention). */
  readonly slidingWindow: number | null;

  constructor(path: StorePath, s: LlamaDecoderSpec, layer: number) {
    super(path);
    this.slidingWindow = s.slidingWindows[layer] ?? null;
    this.inputLayernorm = this.child(new RMSNorm(path.sub('input_layernorm'), s.hidden, s.rmsNormEps));
    this.selfAttn = this.child(
      new CausalSelfAttention(path.sub('self_attn'), {
        hidden: s.hidden,
        heads: s.heads,
        kvHeads: s.kvHeads,
        headDim: s.headDim,
        qkvBias: s.qkvBias,
        outputBias: s.outputBias,
        dropout: s.attentionDropout,
        std: s.initializerRange,
        layer,
      }),
    );
    this.postAttentionLayernorm = this.child(new RMSNorm(path.sub('post_attention_layernorm'), s.hidden, s.rmsNormEps));
    this.mlp = this.child(
      new SwiGluMlp(path.sub('mlp'), {
        hidden: s.hidden,
        intermediate: s.intermediate,
        activation: s.activation,
        bias: s.mlpBias,
        std: s.initializerRange,
      }),
    );
  }

  forward(x: Tensor, cos: Tensor, sin: Tensor, blocked: Tensor, cache: KVCache | undefined): Tensor {
    return torch.tidy(() => {
      const h = x.add(this.selfAttn.forward(this.inputLayernorm.forward(x), { cos, sin, blocked, cache }));
      return h.add(this.mlp.forward(this.postAttentionLayernorm.forward(h)));
    });
  }
}

/** The config fields every Llama-family architecture shares (after its own defaults are filled). */
interface LlamaFamilyFields {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: Record<string, unknown> | null;
  hidden_act: LlamaDecoderSpec['activation'];
  attention_dropout: number;
  tie_word_embeddings: boolean;
  initializer_range: number;
}

/**
 * Fills the head defaults transformers applies to every Llama-family config (num_key_value_heads
 * = num_attention_heads, head_dim = hidden_size / num_attention_heads) and checks the shapes:
 * query heads a multiple of key/value heads, an even head width for RoPE, a valid rope_scaling.
 */
export function withLlamaFamilyHeads<
  C extends { num_key_value_heads: number | null; head_dim: number | null } & Omit<LlamaFamilyFields, 'num_key_value_heads' | 'head_dim'>,
>(c: C, where: string): Omit<C, 'num_key_value_heads' | 'head_dim'> & { num_key_value_heads: number; head_dim: number } {
  const resolved = {
    ...c,
    num_key_value_heads: c.num_key_value_heads ?? c.num_attention_heads,
    head_dim: c.head_dim ?? Math.floor(c.hidden_size / c.num_attention_heads),
  };
  requireConfig(
    resolved.num_attention_heads % resolved.num_key_value_heads === 0,
    'num_key_value_heads',
    `num_attention_heads (${resolved.num_attention_heads}) must be a multiple of num_key_value_heads (${resolved.num_key_value_heads})`,
    where,
  );
  requireConfig(resolved.head_dim % 2 === 0, 'head_dim', `must be even for rotary embeddings, got ${resolved.head_dim}`, where);
  requireConfig(resolved.attention_dropout < 1, 'attention_dropout', 'must be below 1', where);
  parseRopeScaling(resolved.rope_scaling, where);
  return resolved;
}

/** The decoder spec of a resolved Llama-family config; `own` is what the architecture decides itself. */
export function llamaFamilySpec(
  c: LlamaFamilyFields,
  own: Pick<LlamaDecoderSpec, 'qkvBias' | 'outputBias' | 'mlpBias' | 'slidingWindows'>,
  where = 'config.json',
): LlamaDecoderSpec {
  return {
    vocabSize: c.vocab_size,
    hidden: c.hidden_size,
    intermediate: c.intermediate_size,
    layers: c.num_hidden_layers,
    heads: c.num_attention_heads,
    kvHeads: c.num_key_value_heads,
    headDim: c.head_dim,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    ropeScaling: parseRopeScaling(c.rope_scaling, where),
    activation: c.hidden_act,
    attentionDropout: c.attention_dropout,
    tieWordEmbeddings: c.tie_word_embeddings,
    initializerRange: c.initializer_range,
    ...own,
  };
}

export abstract class LlamaDecoderModel<Config extends object = object> extends CausalLM {
  readonly layout = LLAMA_FAMILY_LAYOUT;
  readonly spec: LlamaDecoderSpec;
  /** The resolved config.json of the architecture. */
  readonly config: Config;
  /** config.json keys this package does not read, kept for saving. */
  readonly #extra: Record<string, unknown>;
  readonly embedTokens: Embedding;
  readonly layers: LlamaDecoderLayer[];
  readonly norm: RMSNorm;
  /** [V, C]: the token embedding when tied, else lm_head.weight. */
  readonly lmHeadWeight: Tensor;
  /** float32 [headDim / 2] RoPE inverse frequencies (a buffer: derived from the config, never saved). */
  readonly invFreq: Tensor;

  constructor(store: ParameterStore, spec: LlamaDecoderSpec, config: Config, extra: Record<string, unknown> = {}) {
    super(store);
    this.spec = spec;
    this.config = config;
    this.#extra = extra;
    const base = store.root.sub('model');
    this.embedTokens = this.child(new Embedding(base.sub('embed_tokens'), spec.vocabSize, spec.hidden, { std: spec.initializerRange }));
    this.layers = Array.from({ length: spec.layers }, (_, i) => this.child(new LlamaDecoderLayer(base.sub('layers', i), spec, i)));
    this.norm = this.child(new RMSNorm(base.sub('norm'), spec.hidden, spec.rmsNormEps));
    this.lmHeadWeight = spec.tieWordEmbeddings
      ? store.tie('lm_head.weight', 'model.embed_tokens.weight')
      : store.root.sub('lm_head').param('weight', [spec.vocabSize, spec.hidden], { kind: 'normal', std: spec.initializerRange });
    this.invFreq = torch.keep(ropeInverseFrequencies(spec.headDim, spec.ropeTheta, spec.ropeScaling));
  }

  configJson(): Record<string, unknown> {
    return { ...this.#extra, ...this.config, architectures: [this.architecture], model_type: this.modelType, torch_dtype: this.dtype };
  }

  get vocabSize(): number {
    return this.spec.vocabSize;
  }

  get numLayers(): number {
    return this.spec.layers;
  }

  forward(inputIds: Tensor, options: ForwardOptions = {}): Tensor {
    const [batch, time] = this.checkInputIds(inputIds);
    const past = options.cache?.length ?? 0;
    return torch.tidy(() => {
      const positions = options.positionIds ?? defaultPositionIds(batch, time, past);
      const { cos, sin } = ropeCosSin(this.invFreq, positions, this.dtype); // [B, T, D]
      // One mask per distinct window (Qwen2 mixes full and sliding layers).
      const masks = new Map<number | null, Tensor>();
      const maskFor = (window: number | null): Tensor => {
        let m = masks.get(window);
        if (m === undefined) {
          m = blockedAttention({ queryLength: time, pastLength: past, attentionMask: options.attentionMask, slidingWindow: window });
          masks.set(window, m);
        }
        return m;
      };
      let h = this.embedTokens.forward(inputIds); // [B, T, C]
      for (const layer of this.layers) h = layer.forward(h, cos, sin, maskFor(layer.slidingWindow), options.cache);
      h = this.norm.forward(h);
      const keep = options.logitsToKeep ?? 0;
      if (keep > 0 && keep < time) h = h.narrow(1, time - keep, keep);
      return h.linear(this.lmHeadWeight); // [B, T, V]
    });
  }

  override dispose(): void {
    this.invFreq.dispose();
    super.dispose();
  }
}
