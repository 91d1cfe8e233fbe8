// Token embedding lookup whose backward adds into the weight's .grad in place
// (embedding_into_grad.cc).
#pragma once
#include <torch/torch.h>

namespace alpha_dpo {

// weight [V, C], indices int64 [...] -> [..., C], as at::embedding without a padding index. When
// gradients are recorded and weight is a leaf that requires them, the output's backward does not
// hand the [V, C] weight gradient to autograd: it adds the rows into weight.grad where that
// exists (index_add_, in index order) and creates weight.grad as embedding_backward would where it
// does not. For a weight tied to the LM head this removes the dense [V, C] that autograd would
// otherwise allocate and sum with the head's gradient; the sum is the same up to the order of
// float additions. Only .backward() sees this gradient (the node has no edge to the weight).
at::Tensor embedding_into_grad(const at::Tensor& weight, const at::Tensor& indices);

}  // namespace alpha_dpo
