// Hand-written fused operation: the LM head, log-softmax over the vocabulary and the target's
// gather in one pass over vocabulary chunks, with its own backward (linear_token_logps.cc).
#pragma once
#include <torch/torch.h>

#include <tuple>

namespace alpha_dpo {

// hidden [N, C], weight [V, C], targets int64 [N] -> (log p(target) [N] float32 (float64 for float64 inputs), differentiable
// with respect to hidden and weight; log Σ_v p(v)² [N], not differentiable). Logits are
// z = hidden·weightᵀ, or cap·tanh(z / cap) when softcap > 0, and are never held for more than
// `chunk` vocabulary entries at once, in the forward pass or the backward pass.
std::tuple<at::Tensor, at::Tensor> linear_token_logps(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                                      int64_t chunk, double softcap);

}  // namespace alpha_dpo
