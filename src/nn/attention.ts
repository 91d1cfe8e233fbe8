// Scaled dot-product attention: softmax(q·kᵀ·scale, optionally soft-capped, masked) · v.
// Grouped-query attention repeats each key/value head for its group of consecutive query heads
// (transformers' repeat_kv, i.e. repeat_interleave). Two implementations of the same arithmetic:
// - 'chunked' (the default): the native chunkedAttention op computes blocks of queries at a time
//   and recomputes each block's weights in the backward pass, so neither the [B, H, T, S] scores
//   nor the weights are ever held whole, in memory or saved for the backward pass;
// - 'eager': matmul, mask, softmax and matmul as four tensor operations (transformers' eager
//   attention), which autograd records, keeping every layer's weights for the backward pass.
// Dropout on the attention weights (training with attention dropout on) always runs eager.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { AttentionBlocks } from './attention-mask.js';

// torch.finfo(dtype).min for the floating-point dtypes.
const MOST_NEGATIVE: Partial<Record<torch.DType, number>> = {
  float32: -3.4028234663852886e38,
  float64: -Number.MAX_VALUE,
  bfloat16: -3.3895313892515355e38,
  float16: -65504,
};

export interface AttentionOptions {
  /** Multiplies q·kᵀ (1/√head_dim as a rule). */
  scale: number;
  /**
   * Attention logit soft-capping (Gemma 2's attn_logit_softcapping): scaled scores s become
   * cap·tanh(s / cap) before masking, bounding them to (−cap, cap). Omitted or null: none.
   */
  softcap?: number | null | undefined;
  /**
   * bool [B or 1, 1, T, S], true where attention is not allowed (see blockedAttention); or, for a
   * packed row, one such mask per span of queries and keys (see layoutBlockedAttention).
   */
  blocked: AttentionBlocks;
  /** Softmax in float32 and cast back (the Llama family); false: in the working dtype (GPT-2). */
  softmaxInFloat32: boolean;
  /** Dropout probability on the attention weights, applied only when `training`. */
  dropout: number;
  training: boolean;
  /** Which implementation computes it; defaultAttentionImplementation when omitted. */
  implementation?: AttentionImplementation | undefined;
}

export type AttentionImplementation = 'chunked' | 'eager';

/** `value` as an AttentionImplementation; a RangeError naming `name` and the choices otherwise. */
export function checkAttentionImplementation(value: unknown, name: string): AttentionImplementation {
  if (value === 'chunked' || value === 'eager') return value;
  throw new RangeError(`${name} must be 'chunked' or 'eager', got '${String(value)}'`);
}

/**
 * The implementation used when AttentionOptions names none: ALPHA_DPO_ATTENTION=eager in the
 * environment selects the eager one for the whole process (read once, at load), else 'chunked'.
 */
export const defaultAttentionImplementation: AttentionImplementation = process.env['ALPHA_DPO_ATTENTION']
  ? checkAttentionImplementation(process.env['ALPHA_DPO_ATTENTION'], 'ALPHA_DPO_ATTENTION')
  : 'chunked';

/**
 * About this many bytes of float32 scores per block of queries in chunked attention: below
 * glibc's 32 MiB mmap threshold, so the blocks' memory is reused rather than mapped afresh.
 */
export const CHUNKED_ATTENTION_BLOCK_BYTES = 8 * 1024 * 1024;

/** [B, Hkv, S, D] -> [B, Hkv·groups, S, D], each head repeated `groups` times consecutively. */
export function repeatKv(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [b, h, s, d] = x.shape as [number, number, number, number];
  return torch.tidy(() =>
    x
      .unsqueeze(2)
      .expand([b, h, groups, s, d])
      .reshape([b, h * groups, s, d]),
  );
}

/** q [B, H, T, D], k and v [B, Hkv, S, D] (H a multiple of Hkv) -> [B, H, T, D]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const heads = q.size(1);
  const kvHeads = k.size(1);
  if (heads % kvHeads !== 0) throw new RangeError(`${heads} query heads cannot share ${kvHeads} key/value heads`);
  const { blocked } = options;
  if (!('spans' in blocked)) return attend(q, k, v, blocked, options);
  // A packed row: spans never see each other, so each is attended alone (Σ L² scores instead of T²).
  return torch.tidy(() =>
    torch.cat(
      blocked.spans.map((s) => {
        const part = (t: Tensor) => t.narrow(2, s.start, s.length);
        return attend(part(q), part(k), part(v), s.blocked, options);
      }),
      2,
    ),
  );
}

function attend(q: Tensor, k: Tensor, v: Tensor, blocked: Tensor, options: AttentionOptions): Tensor {
  const dropout = options.training && options.dropout > 0;
  if ((options.implementation ?? defaultAttentionImplementation) === 'chunked' && !dropout) {
    const cap = options.softcap ?? 0;
    return torch.chunkedAttention(q, k, v, blocked, options.scale, cap, options.softmaxInFloat32, CHUNKED_ATTENTION_BLOCK_BYTES);
  }
  return torch.tidy(() => {
    const groups = q.size(1) / k.size(1);
    const keys = repeatKv(k, groups);
    const values = repeatKv(v, groups);
    let scores = q.matmul(keys.transpose(-2, -1)).mul(options.scale); // [B, H, T, S]
    const cap = options.softcap;
    if (cap !== undefined && cap !== null) scores = scores.div(cap).tanh().mul(cap);
    // The dtype's most negative finite value, as transformers: a row with every key blocked
    // (a padding query) gets uniform weights instead of NaN.
    const masked = scores.maskedFill(blocked, MOST_NEGATIVE[scores.dtype] as number);
    let weights = options.softmaxInFloat32 ? masked.softmax(-1, 'float32').to(q.dtype) : masked.softmax(-1);
    if (dropout) weights = weights.dropout(options.dropout, true);
    return weights.matmul(values);
  });
}
