// GPT-2 (Radford et al. 2019) as transformers' GPT2LMHeadModel: learned positions, pre-LayerNorm
// blocks, fused q/k/v projection (c_attn), gelu_new MLP, LM head tied to the token embedding.
// Hugging Face stores c_attn, c_proj and c_fc as Conv1D weights [in, out]; our Linear holds
// [out, in], so those four keys are listed in GPT2_LAYOUT as transposed (shapes are checked
// against the transposed form when loading, and transposed back when saving).
import { ACTIVATION_NAMES } from '../nn/activations.js';
import { type AttentionImplementation, defaultAttentionImplementation, scaledDotProductAttention } from '../nn/attention.js';
import { type AttentionBlocks, defaultPositionIds } from '../nn/attention-mask.js';
import type { CheckpointLayout } from '../nn/checkpoint-source.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { GeluMlp } from '../nn/gelu-mlp.js';
import type { KVCache } from '../nn/kv-cache.js';
import { LayerNorm } from '../nn/layer-norm.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import type { ParameterStore, StorePath } from '../nn/parameter-store.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { CausalLM, type ForwardOptions } from './causal-lm.js';
import { field, type Resolved, requireConfig, resolveConfig } from './config-schema.js';

/** GPT2Config's keys this package reads, with transformers' defaults. */
export const GPT2_CONFIG_SCHEMA = {
  vocab_size: field.int(50257, 'tokens in the vocabulary', { min: 1 }),
  n_positions: field.int(1024, 'longest sequence, in tokens (rows of the learned position table)', { min: 1 }),
  n_embd: field.int(768, 'model width C', { min: 1 }),
  n_layer: field.int(12, 'transformer blocks', { min: 1 }),
  n_head: field.int(12, 'attention heads (C must be a multiple)', { min: 1 }),
  n_inner: field.intOrNull(null, 'MLP width; null means 4·n_embd', { min: 1 }),
  activation_function: field.choice('gelu_new', ACTIVATION_NAMES, 'MLP activation (ACT2FN name)'),
  resid_pdrop: field.number(0.1, 'dropout probability after attention and MLP (training mode only)', { min: 0 }),
  embd_pdrop: field.number(0.1, 'dropout probability on the embeddings (training mode only)', { min: 0 }),
  attn_pdrop: field.number(0.1, 'dropout probability on attention weights (training mode only)', { min: 0 }),
  layer_norm_epsilon: field.number(1e-5, 'LayerNorm epsilon', { above: 0 }),
  initializer_range: field.number(0.02, 'std of the normal initialisation of weights', { min: 0 }),
  scale_attn_weights: field.bool(true, 'divide attention scores by √head_dim'),
  scale_attn_by_inverse_layer_idx: field.bool(false, 'also divide attention scores of layer i by i + 1'),
  reorder_and_upcast_attn: field.bool(false, 'compute attention scores and softmax in float32'),
  tie_word_embeddings: field.bool(true, 'the LM head reuses the token embedding (no lm_head.weight)'),
  bos_token_id: field.tokenIds(50256, 'beginning-of-sequence token id'),
  eos_token_id: field.tokenIds(50256, 'end-of-sequence token id(s)'),
  pad_token_id: field.tokenIds(null, 'padding token id'),
};

export type GPT2Config = Omit<Resolved<typeof GPT2_CONFIG_SCHEMA>, 'n_inner'> & { n_inner: number };

/** Reads a GPT-2 config.json object: defaults filled, n_inner resolved, cross-field rules checked. */
export function resolveGpt2Config(raw: Readonly<Record<string, unknown>>, where = 'config.json'): GPT2Config {
  const c = resolveConfig(GPT2_CONFIG_SCHEMA, raw, where);
  requireConfig(c.n_embd % c.n_head === 0, 'n_head', `n_embd (${c.n_embd}) must be a multiple of n_head (${c.n_head})`, where);
  for (const key of ['resid_pdrop', 'embd_pdrop', 'attn_pdrop'] as const) requireConfig(c[key] < 1, key, 'must be below 1', where);
  return { ...c, n_inner: c.n_inner ?? 4 * c.n_embd };
}

const CONV1D_WEIGHTS = ['.attn.c_attn.weight', '.attn.c_proj.weight', '.mlp.c_fc.weight', '.mlp.c_proj.weight'];

export const GPT2_LAYOUT: CheckpointLayout = {
  basePrefix: 'transformer',
  isTransposed: (name) => CONV1D_WEIGHTS.some((suffix) => name.endsWith(suffix)),
  // The causal-mask buffers that older transformers versions saved (and the hub's gpt2 files carry).
  isIgnorable: (name) => name.endsWith('.attn.bias') || name.endsWith('.attn.masked_bias'),
};

class GPT2Attention extends Module {
  readonly cAttn: Linear;
  readonly cProj: Linear;
  readonly residDropout: Dropout;
  readonly #heads: number;
  readonly #scale: number;
  readonly #attnPdrop: number;
  /** Which implementation computes the attention (see src/nn/attention.ts); the model sets it for every layer. */
  attentionImplementation: AttentionImplementation = defaultAttentionImplementation;
  readonly #upcast: boolean;
  readonly #layer: number;

  constructor(path: StorePath, c: GPT2Config, layer: number) {
    super(path);
    const projStd = c.initializer_range / Math.sqrt(2 * c.n_layer);
    this.cAttn = this.child(new Linear(path.sub('c_attn'), c.n_embd, 3 * c.n_embd, { std: c.initializer_range }));
    this.cProj = this.child(new Linear(path.sub('c_proj'), c.n_embd, c.n_embd, { std: projStd }));
    this.residDropout = this.child(new Dropout(path.sub('resid_dropout'), c.resid_pdrop));
    this.#heads = c.n_head;
    const headDim = c.n_embd / c.n_head;
    this.#scale = (c.scale_attn_weights ? 1 / Math.sqrt(headDim) : 1) / (c.scale_attn_by_inverse_layer_idx ? layer + 1 : 1);
    this.#attnPdrop = c.attn_pdrop;
    this.#upcast = c.reorder_and_upcast_attn;
    this.#layer = layer;
  }

  /** [B, T, C] -> [B, T, C] */
  forward(x: Tensor, blocked: AttentionBlocks, cache: KVCache | undefined): Tensor {
    return torch.tidy(() => {
      const [b, t, c] = x.shape as [number, number, number];
      const h = this.#heads;
      const [q, k0, v0] = this.cAttn
        .forward(x)
        .split(c, 2)
        .map((z) => z.view([b, t, h, c / h]).transpose(1, 2)) as [Tensor, Tensor, Tensor]; // [B, H, T, D]
      const { k, v } = cache === undefined ? { k: k0, v: v0 } : cache.update(this.#layer, k0, v0);
      const y = scaledDotProductAttention(q, k, v, {
        scale: this.#scale,
        blocked,
        softmaxInFloat32: this.#upcast,
        dropout: this.#attnPdrop,
        training: this.training,
        implementation: this.attentionImplementation,
      });
      return this.residDropout.forward(this.cProj.forward(y.transpose(1, 2).reshape([b, t, c])));
    });
  }
}

class GPT2Block extends Module {
  readonly ln1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln2: LayerNorm;
  readonly mlp: GeluMlp;

  constructor(path: StorePath, c: GPT2Config, layer: number) {
    super(path);
    this.ln1 = this.child(new LayerNorm(path.sub('ln_1'), c.n_embd, c.layer_norm_epsilon));
    this.attn = this.child(new GPT2Attention(path.sub('attn'), c, layer));
    this.ln2 = this.child(new LayerNorm(path.sub('ln_2'), c.n_embd, c.layer_norm_epsilon));
    this.mlp = this.child(
      new GeluMlp(path.sub('mlp'), {
        hidden: c.n_embd,
        inner: c.n_inner,
        activation: c.activation_function,
        dropout: c.resid_pdrop,
        std: c.initializer_range,
        projStd: c.initializer_range / Math.sqrt(2 * c.n_layer),
      }),
    );
  }

  forward(x: Tensor, blocked: AttentionBlocks, cache: KVCache | undefined): Tensor {
    return torch.tidy(() => {
      const h = x.add(this.attn.forward(this.ln1.forward(x), blocked, cache));
      return h.add(this.mlp.forward(this.ln2.forward(h)));
    });
  }
}

export class GPT2LMHeadModel extends CausalLM<GPT2Config> {
  readonly architecture = 'GPT2LMHeadModel' as const;
  readonly modelType = 'gpt2';
  readonly layout = GPT2_LAYOUT;
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly blocks: GPT2Block[];
  readonly lnF: LayerNorm;
  readonly lmHeadWeight: Tensor;

  /** Builds the model, drawing every parameter from the store's source. `extra`: config.json keys kept for saving. */
  constructor(store: ParameterStore, config: GPT2Config, extra: Record<string, unknown> = {}) {
    const c = config;
    super(store, c, { vocabSize: c.vocab_size, hiddenSize: c.n_embd, numLayers: c.n_layer }, extra);
    const base = store.root.sub('transformer');
    this.wte = this.child(new Embedding(base.sub('wte'), c.vocab_size, c.n_embd, { std: c.initializer_range }));
    this.wpe = this.child(new Embedding(base.sub('wpe'), c.n_positions, c.n_embd, { std: c.initializer_range }));
    this.drop = this.child(new Dropout(base.sub('drop'), c.embd_pdrop));
    this.blocks = Array.from({ length: c.n_layer }, (_, i) => this.child(new GPT2Block(base.sub('h', i), c, i)));
    this.lnF = this.child(new LayerNorm(base.sub('ln_f'), c.n_embd, c.layer_norm_epsilon));
    this.lmHeadWeight = this.declareLmHead(c.tie_word_embeddings, 'transformer.wte.weight', c.initializer_range);
  }

  hiddenStates(inputIds: Tensor, options: ForwardOptions = {}): Tensor {
    const [batch, time] = this.checkInputIds(inputIds);
    this.checkLayout(options, inputIds);
    const past = options.cache?.length ?? 0;
    const maxPositions = this.config.n_positions;
    return torch.tidy(() => {
      const positions = options.positionIds ?? defaultPositionIds(batch, time, past);
      const highest = time === 0 ? -1 : positions.max().item();
      if (highest >= maxPositions) {
        throw new RangeError(
          `position ${highest} is beyond GPT-2's n_positions (${maxPositions}): shorten the sequence to ${maxPositions} tokens`,
        );
      }
      const blocked = this.attentionBlocks(options, { time, past, positions }, null);
      let h = this.drop.forward(this.wte.forward(inputIds).add(this.wpe.forward(positions))); // [B, T, C]
      for (const block of this.blocks) {
        h = this.decoderLayer((x, blocks) => block.forward(x, blocks, options.cache), h, blocked, [], options);
      }
      return this.lnF.forward(h); // [B, T, C]
    });
  }
}
