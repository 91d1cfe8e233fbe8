// The LM head fused with log-softmax and the gather of the target token, chunked over the
// vocabulary (the idea of Liger Kernel's fused linear cross-entropy, written for log-probs):
//   z_nv = h_n·w_v (soft-capped: cap·tanh(z / cap)), log p_n = z_n,y_n − logsumexp_v z_nv.
// Forward keeps a running logsumexp over chunks; backward recomputes each chunk's logits and
// uses ∂ log p_n / ∂ z_nv = 1[v = y_n] − softmax(z_n)_v (times the soft-cap's 1 − tanh²), so
// neither the [N, V] logits nor their gradient exist at once. Statistics are float32 whatever
// the input dtype (float64 for float64). Exact: the same arithmetic as the plain path, summed in another order.
#include "linear_token_logps.h"

#include <algorithm>
#include <limits>

namespace alpha_dpo {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// float64 for float64 inputs, else float32 (bfloat16 and float16 logits are upcast).
at::ScalarType stats_type(const at::Tensor& hidden) { return hidden.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

// Chunk logits [N, len] in the statistics' dtype and, when soft-capped, tanh(z / cap) for the backward pass.
at::Tensor chunk_logits(const at::Tensor& hidden, const at::Tensor& weight, int64_t start, int64_t len, double softcap,
                        at::Tensor* tanh_out) {
  at::Tensor z = at::matmul(hidden, weight.narrow(0, start, len).t()).to(stats_type(hidden));
  if (softcap > 0) {
    at::Tensor t = at::tanh(z / softcap);
    if (tanh_out != nullptr) *tanh_out = t;
    z = t * softcap;
  }
  return z;
}

class LinearTokenLogps : public torch::autograd::Function<LinearTokenLogps> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                               int64_t chunk, double softcap) {
    const int64_t n = hidden.size(0);
    const int64_t vocab = weight.size(0);
    const double inf = std::numeric_limits<double>::infinity();
    const auto f32 = hidden.options().dtype(stats_type(hidden));
    at::Tensor w = weight.to(hidden.scalar_type());
    at::Tensor lse = at::full({n}, -inf, f32);
    at::Tensor lse2 = at::full({n}, -inf, f32);
    at::Tensor target = at::zeros({n}, f32);
    for (int64_t start = 0; start < vocab; start += chunk) {
      const int64_t len = std::min(chunk, vocab - start);
      at::Tensor z = chunk_logits(hidden, w, start, len, softcap, nullptr);  // [N, len]
      lse = at::logaddexp(lse, at::logsumexp(z, {1}));
      lse2 = at::logaddexp(lse2, at::logsumexp(z * 2, {1}));
      at::Tensor inside = targets.ge(start).logical_and(targets.lt(start + len));
      at::Tensor local = (targets - start).clamp(0, len - 1).unsqueeze(1);
      target = at::where(inside, z.gather(1, local).squeeze(1), target);
    }
    at::Tensor logp = target - lse;
    at::Tensor collision = lse2 - lse * 2;  // log Σ p² = logsumexp(2z) − 2·logsumexp(z)
    ctx->save_for_backward({hidden, weight, targets, lse});
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["softcap"] = softcap;
    ctx->mark_non_differentiable({collision});
    return {logp, collision};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& hidden = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& targets = saved[2];
    const at::Tensor& lse = saved[3];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const double softcap = ctx->saved_data["softcap"].toDouble();
    const int64_t vocab = weight.size(0);
    // Only the gradients autograd asks for: with a frozen LM head (LoRA, or a tied embedding that
    // does not train) the [V, C] weight gradient, a matmul as large as the head itself, is skipped.
    const bool want_hidden = ctx->needs_input_grad(0);
    const bool want_weight = ctx->needs_input_grad(1);
    if (!want_hidden && !want_weight) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    at::Tensor g = grads[0].defined() ? grads[0].to(lse.scalar_type()) : at::zeros_like(lse);
    at::Tensor w = weight.to(hidden.scalar_type());
    at::Tensor grad_hidden = want_hidden ? at::zeros(hidden.sizes(), hidden.options().dtype(lse.scalar_type())) : at::Tensor();
    at::Tensor grad_weight = want_weight ? at::empty(weight.sizes(), weight.options()) : at::Tensor();
    for (int64_t start = 0; start < vocab; start += chunk) {
      const int64_t len = std::min(chunk, vocab - start);
      at::Tensor t;
      at::Tensor z = chunk_logits(hidden, w, start, len, softcap, &t);
      // ∂L/∂z_nv = g_n·(1[v = y_n] − p_nv)
      at::Tensor gz = at::exp(z - lse.unsqueeze(1)).mul_(g.neg().unsqueeze(1));
      at::Tensor inside = targets.ge(start).logical_and(targets.lt(start + len));
      at::Tensor local = (targets - start).clamp(0, len - 1).unsqueeze(1);
      gz.scatter_add_(1, local, at::where(inside, g, at::zeros_like(g)).unsqueeze(1));
      if (softcap > 0) gz.mul_(1 - t * t);  // d(cap·tanh(u / cap))/du
      at::Tensor gzc = gz.to(hidden.scalar_type());
      if (want_hidden) grad_hidden.add_(at::matmul(gzc, w.narrow(0, start, len)));
      if (want_weight) grad_weight.narrow(0, start, len).copy_(at::matmul(gzc.t(), hidden));  // copy_ casts to weight's dtype
    }
    return {want_hidden ? grad_hidden.to(hidden.scalar_type()) : at::Tensor(), grad_weight, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor> linear_token_logps(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& targets,
                                                      int64_t chunk, double softcap) {
  TORCH_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1),
              "linearTokenLogps: hidden must be [N, C] and weight [V, C] with the same C, got ", hidden.sizes(), " and ", weight.sizes());
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0) && targets.scalar_type() == at::kLong,
              "linearTokenLogps: targets must be int64 [N] with N = ", hidden.size(0), ", got ", targets.scalar_type(), " ", targets.sizes());
  TORCH_CHECK(chunk >= 1, "linearTokenLogps: chunk must be at least 1, got ", chunk);
  TORCH_CHECK(softcap >= 0, "linearTokenLogps: softcap must be 0 (none) or positive, got ", softcap);
  if (targets.numel() > 0) {
    TORCH_CHECK(targets.min().item<int64_t>() >= 0 && targets.max().item<int64_t>() < weight.size(0),
                "linearTokenLogps: a target id is outside [0, ", weight.size(0), ")");
  }
  auto out = LinearTokenLogps::apply(hidden, weight, targets, chunk, softcap);
  return {out[0], out[1]};
}

}  // namespace alpha_dpo
