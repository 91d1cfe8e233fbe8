// Rotary position embeddings (RoFormer, Su et al. 2021, arXiv 2104.09864) as transformers'
// Llama family applies them: frequencies θ^(−2i/d) for i < d/2, the angle table duplicated to
// [cos(f), cos(f)] over the head dimension, and "rotate half": (x₁, x₂) -> (−x₂, x₁) on the two
// halves of each head, not interleaved pairs. Angles are computed in float32 for every dtype.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

/**
 * The RoPE settings of a Hugging Face config, resolved (transformers >= 5 `rope_parameters`;
 * older files give the same as top-level `rope_theta` plus `rope_scaling`). `rope_theta` is the
 * base θ of the frequencies θ^(−2i/d). `linear` divides every frequency by `factor`; `llama3`
 * (Llama 3.1) divides low frequencies by `factor`, keeps high ones and interpolates between
 * (transformers' _compute_llama3_parameters).
 */
export type RopeParameters =
  | { rope_type: 'default'; rope_theta: number }
  | { rope_type: 'linear'; rope_theta: number; factor: number }
  | {
      rope_type: 'llama3';
      rope_theta: number;
      factor: number;
      low_freq_factor: number;
      high_freq_factor: number;
      /** Context length (tokens) of the model before scaling. */
      original_max_position_embeddings: number;
    }
  | {
      /**
       * LongRoPE (Ding et al. 2024, arXiv 2402.13753; Phi-3 128k, Phi-3.5): frequency i divided by
       * short_factor[i], or by long_factor[i] when the pass reaches beyond
       * original_max_position_embeddings; cos and sin multiplied by attention_factor
       * (transformers' _compute_longrope_parameters and longrope_frequency_update).
       */
      rope_type: 'longrope';
      rope_theta: number;
      short_factor: number[];
      long_factor: number[];
      original_max_position_embeddings: number;
      /** Multiplies cos and sin: given, else √(1 + ln(factor) / ln(original_max_position_embeddings)) when factor > 1, else 1. */
      attention_factor: number;
    };

/** The rope_type values ropeInverseFrequencies implements. */
export const ROPE_TYPES = ['default', 'linear', 'llama3'] as const;

/**
 * float32 [headDim / 2]: the inverse frequency of each rotated pair, in radians per position.
 * `long` picks LongRoPE's long_factor (ignored by the other types).
 */
export function ropeInverseFrequencies(headDim: number, rope: RopeParameters, long = false): Tensor {
  return torch.tidy(() => {
    const half = Math.floor(headDim / 2);
    // 1 / θ^(2i/d), in float32 as transformers computes it.
    const exponents = torch.arange(0, headDim, 2).to('float32').div(headDim);
    const inv = torch.full([half], rope.rope_theta, { dtype: 'float32' }).pow(exponents).reciprocal();
    switch (rope.rope_type) {
      case 'default':
        return inv;
      case 'longrope':
        return inv.div(torch.tensor(long ? rope.long_factor : rope.short_factor, { dtype: 'float32' }));
      case 'linear':
        return inv.div(rope.factor);
      case 'llama3': {
        const { factor, low_freq_factor: low, high_freq_factor: high } = rope;
        const oldContext = rope.original_max_position_embeddings;
        const lowFreqWavelen = oldContext / low;
        const highFreqWavelen = oldContext / high;
        const wavelen = inv.reciprocal().mul(2 * Math.PI); // positions per full turn
        const scaled = torch.where(wavelen.gt(lowFreqWavelen), inv.div(factor), inv);
        const smooth = wavelen
          .reciprocal()
          .mul(oldContext)
          .sub(low)
          .div(high - low);
        const smoothed = smooth.neg().add(1).mul(scaled).div(factor).add(smooth.mul(scaled));
        const medium = wavelen.lt(highFreqWavelen).logicalNot().logicalAnd(wavelen.gt(lowFreqWavelen).logicalNot());
        return torch.where(medium, smoothed, scaled);
      }
    }
  });
}

/** cos and sin tables [B, T, headDim] for int64 positions [B, T], times `scaling` in float32 (LongRoPE), cast to `dtype`. */
export function ropeCosSin(invFreq: Tensor, positionIds: Tensor, dtype: torch.DType, scaling = 1): { cos: Tensor; sin: Tensor } {
  return torch.tidy(() => {
    const freqs = positionIds.to('float32').unsqueeze(-1).mul(invFreq); // [B, T, d/2]
    const angles = torch.cat([freqs, freqs], -1); // [B, T, d]
    if (scaling === 1) return { cos: angles.cos().to(dtype), sin: angles.sin().to(dtype) };
    return { cos: angles.cos().mul(scaling).to(dtype), sin: angles.sin().mul(scaling).to(dtype) };
  });
}

/**
 * x·cos + rotate_half(x)·sin for x [B, H, T, D] and tables [B, T, d]. When d < D (partial rotary
 * embeddings, Phi-3's partial_rotary_factor) only the first d features rotate; the rest pass unchanged.
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return torch.tidy(() => {
    const width = x.size(-1);
    const d = cos.size(-1);
    const r = d < width ? x.narrow(-1, 0, d) : x;
    const x1 = r.narrow(-1, 0, d / 2);
    const x2 = r.narrow(-1, d / 2, d / 2);
    const rotated = torch.cat([x2.neg(), x1], -1);
    const out = r.mul(cos.unsqueeze(1)).add(rotated.mul(sin.unsqueeze(1)));
    return d < width ? torch.cat([out, x.narrow(-1, d, width - d)], -1) : out;
  });
}
