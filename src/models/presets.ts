// Small named configs (config.json objects) for tests, examples and training from scratch.
// Pass one to randomInit(); sizes are parameter counts with tied weights counted once.

export const PRESETS = {
  /** GPT-2 small's shape (124M parameters): transformers' GPT2Config defaults. */
  'gpt2-small': {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
  },
  /** A 2-layer GPT-2 of width 64 (≈ 0.1M parameters with a 256-token vocabulary). */
  'gpt2-tiny': {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: 256,
    n_positions: 128,
    n_embd: 64,
    n_layer: 2,
    n_head: 4,
    bos_token_id: 0,
    eos_token_id: 0,
  },
  /** A Llama of ≈ 28M parameters (SmolLM-like: tied embeddings, grouped-query attention). */
  'llama-30m': {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 32000,
    hidden_size: 512,
    intermediate_size: 1376,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    max_position_embeddings: 2048,
    tie_word_embeddings: true,
  },
  /** A 2-layer Llama of width 64 with grouped-query attention (≈ 0.1M parameters). */
  'llama-tiny': {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
  },
  /** A 2-layer Qwen2 of width 64 (q/k/v biases, grouped-query attention). */
  'qwen2-tiny': {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
  },
  /** A 2-layer Mistral of width 64 with a 16-token sliding window. */
  'mistral-tiny': {
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    sliding_window: 16,
  },
  /** A 2-layer Qwen3 of width 64: per-head q/k norms, head_dim 32 (not hidden / heads = 16), no biases. */
  'qwen3-tiny': {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
  },
  /** A 2-layer Phi-3 of width 64: fused qkv_proj and gate_up_proj, grouped-query attention. */
  'phi3-tiny': {
    architectures: ['Phi3ForCausalLM'],
    model_type: 'phi3',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    original_max_position_embeddings: 512,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
  },
  /** A 2-layer OLMo 2 of width 64: post-sublayer norms, q/k norms over the projections. */
  'olmo2-tiny': {
    architectures: ['Olmo2ForCausalLM'],
    model_type: 'olmo2',
    vocab_size: 256,
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
  },
} as const satisfies Record<string, Record<string, unknown>>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
