// Hand-written fused operation: scaled dot-product attention computed over blocks of queries,
// with its own backward that recomputes each block's weights (chunked_attention.cc).
#pragma once
#include <torch/torch.h>

namespace alpha_dpo {

// q [B, H, T, D], k and v [B, Hkv, S, D] (H a multiple of Hkv), blocked bool [B or 1, 1, T or 1, S]
// (true: query may not see key) -> [B, H, T, D] = softmax(mask(cap·tanh(q·kᵀ·scale / cap))) · v,
// the soft cap only when softcap > 0, the softmax in float32 when softmax_in_float32. At most
// about block_bytes of float32 scores exist at once. Under autocast, q, k and v are cast to the
// autocast dtype first (every operation inside would otherwise be lowered one by one).
at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked, double scale,
                             double softcap, bool softmax_in_float32, int64_t block_bytes);

}  // namespace alpha_dpo
