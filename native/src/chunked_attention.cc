// Scaled dot-product attention over blocks of queries, with its own backward: the same
// arithmetic as the eager path (softmax over each query's whole row of keys, so no online
// rescaling), but only one block of rows of the [B, H, T, S] scores exists at a time, in the
// forward pass and in the backward pass, which recomputes each block's weights from q and k.
// Eager attention keeps the weights of every layer for the backward pass (T·S per head); this
// keeps q, k and v only. Blocks are sized to stay below glibc's mmap threshold, so their memory
// is reused from one block to the next instead of being mapped and faulted in again.
#include "chunked_attention.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include "autocast_state.h"

#include <algorithm>
#include <limits>

namespace alpha_dpo {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// torch.finfo(dtype).min, the value eager attention writes into blocked scores: a query whose
// every key is blocked (padding) gets uniform weights instead of NaN, as in transformers.
double most_negative(at::ScalarType dtype) {
  switch (dtype) {
    case at::kDouble:
      return std::numeric_limits<double>::lowest();
    case at::kBFloat16:
      return -3.3895313892515355e38;
    case at::kHalf:
      return -65504.0;
    default:
      return std::numeric_limits<float>::lowest();
  }
}

// Accumulated key and value gradients: float64 for float64, else float32.
at::ScalarType accumulate_type(at::ScalarType working) { return working == at::kDouble ? at::kDouble : at::kFloat; }

// [B, Hkv, S, D] -> [B, Hkv·groups, S, D], each head repeated `groups` times consecutively (repeat_kv).
at::Tensor repeat_kv(const at::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  const auto b = x.size(0), h = x.size(1), s = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, h, groups, s, d}).reshape({b, h * groups, s, d});
}

// [B, Hkv·groups, S, D] -> [B, Hkv, S, D]: the gradient of repeat_kv sums each group.
at::Tensor sum_groups(const at::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  const auto b = x.size(0), h = x.size(1) / groups, s = x.size(2), d = x.size(3);
  return x.view({b, h, groups, s, d}).sum(2);
}

struct Settings {
  double scale;
  double softcap;  // 0: none
  bool softmax_in_float32;
  int64_t rows;  // queries per block
};

// One block's softmax [B, H, r, S] as the eager path computes it: in float32 when
// softmax_in_float32, else in the working dtype; `tanh_out` receives tanh(s / cap) when soft-capped
// (for the backward pass). The weights that multiply v are this cast to the working dtype.
at::Tensor block_softmax(const at::Tensor& q_block, const at::Tensor& keys, const at::Tensor& blocked_block, const Settings& s,
                         at::Tensor* tanh_out) {
  at::Tensor scores = at::matmul(q_block, keys.transpose(-2, -1)).mul(s.scale);
  if (s.softcap > 0) {
    at::Tensor t = scores.div(s.softcap).tanh();
    if (tanh_out != nullptr) *tanh_out = t;
    scores = t.mul(s.softcap);
  }
  at::Tensor masked = scores.masked_fill(blocked_block, most_negative(scores.scalar_type()));
  return s.softmax_in_float32 ? at::softmax(masked, -1, at::kFloat) : at::softmax(masked, -1);
}

// Queries [start, start + rows) of the mask, which may broadcast over queries (size 1 in dim 2).
at::Tensor mask_rows(const at::Tensor& blocked, int64_t start, int64_t rows) {
  return blocked.size(2) == 1 ? blocked : blocked.narrow(2, start, rows);
}

class ChunkedAttention : public torch::autograd::Function<ChunkedAttention> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& blocked, double scale, double softcap, bool softmax_in_float32, int64_t rows) {
    const Settings s{scale, softcap, softmax_in_float32, rows};
    const int64_t t = q.size(2);
    const int64_t groups = q.size(1) / k.size(1);
    at::Tensor keys = repeat_kv(k, groups);
    at::Tensor values = repeat_kv(v, groups);
    at::Tensor out = at::empty({q.size(0), q.size(1), t, v.size(3)}, q.options());
    for (int64_t start = 0; start < t; start += rows) {
      const int64_t r = std::min(rows, t - start);
      at::Tensor weights = block_softmax(q.narrow(2, start, r), keys, mask_rows(blocked, start, r), s, nullptr).to(q.scalar_type());
      out.narrow(2, start, r).copy_(at::matmul(weights, values));
    }
    ctx->save_for_backward({q, k, v, blocked});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["softcap"] = softcap;
    ctx->saved_data["softmax_in_float32"] = softmax_in_float32;
    ctx->saved_data["rows"] = rows;
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& q = saved[0];
    const at::Tensor& k = saved[1];
    const at::Tensor& v = saved[2];
    const at::Tensor& blocked = saved[3];
    const Settings s{ctx->saved_data["scale"].toDouble(), ctx->saved_data["softcap"].toDouble(),
                     ctx->saved_data["softmax_in_float32"].toBool(), ctx->saved_data["rows"].toInt()};
    const variable_list none{at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const bool want_q = ctx->needs_input_grad(0), want_k = ctx->needs_input_grad(1), want_v = ctx->needs_input_grad(2);
    if (!grads[0].defined() || (!want_q && !want_k && !want_v)) return none;
    const at::ScalarType working = q.scalar_type();
    const at::ScalarType accumulate = accumulate_type(working);
    const int64_t t = q.size(2);
    const int64_t groups = q.size(1) / k.size(1);
    at::Tensor keys = repeat_kv(k, groups);
    at::Tensor values = repeat_kv(v, groups);
    at::Tensor grad_out = grads[0].to(working);
    at::Tensor grad_q = want_q ? at::empty(q.sizes(), q.options()) : at::Tensor();
    at::Tensor grad_keys = want_k ? at::zeros(keys.sizes(), keys.options().dtype(accumulate)) : at::Tensor();
    at::Tensor grad_values = want_v ? at::zeros(values.sizes(), values.options().dtype(accumulate)) : at::Tensor();
    for (int64_t start = 0; start < t; start += s.rows) {
      const int64_t r = std::min(s.rows, t - start);
      at::Tensor q_block = q.narrow(2, start, r);
      at::Tensor blocked_block = mask_rows(blocked, start, r);
      at::Tensor tanh_block;
      at::Tensor probs = block_softmax(q_block, keys, blocked_block, s, &tanh_block);  // [B, H, r, S]
      at::Tensor weights = probs.to(working);
      at::Tensor grad_block = grad_out.narrow(2, start, r);  // [B, H, r, D]
      if (want_v) grad_values.add_(at::matmul(weights.transpose(-2, -1), grad_block));
      if (!want_q && !want_k) continue;
      // Softmax backward, p ⊙ (g − Σ g ⊙ p), by the kernel eager's autograd calls, in the dtype
      // the softmax ran in; then the mask, the soft cap and the scale in the working dtype.
      at::Tensor g = at::matmul(grad_block, values.transpose(-2, -1)).to(probs.scalar_type());
      at::Tensor grad_scores_w = at::_softmax_backward_data(g, probs, -1, probs.scalar_type()).to(working);
      grad_scores_w.masked_fill_(blocked_block, 0);  // blocked keys get no gradient
      if (s.softcap > 0) grad_scores_w.mul_(tanh_block.mul(tanh_block).neg_().add_(1));  // d(cap·tanh(u / cap))/du
      grad_scores_w.mul_(s.scale);
      if (want_q) grad_q.narrow(2, start, r).copy_(at::matmul(grad_scores_w, keys));
      if (want_k) grad_keys.add_(at::matmul(grad_scores_w.transpose(-2, -1), q_block));
    }
    variable_list out = none;
    if (want_q) out[0] = grad_q;
    if (want_k) out[1] = sum_groups(grad_keys, groups).to(k.scalar_type());
    if (want_v) out[2] = sum_groups(grad_values, groups).to(v.scalar_type());
    return out;
  }
};

}  // namespace

at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked, double scale,
                             double softcap, bool softmax_in_float32, int64_t block_bytes) {
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "chunkedAttention: q, k and v must be [B, H, T, D], got ", q.sizes(), ", ",
              k.sizes(), " and ", v.sizes());
  TORCH_CHECK(k.sizes() == v.sizes() && q.size(0) == k.size(0) && q.size(3) == k.size(3),
              "chunkedAttention: k and v must be [B, Hkv, S, D] with q's B and D, got q ", q.sizes(), ", k ", k.sizes(), ", v ", v.sizes());
  TORCH_CHECK(k.size(1) >= 1 && q.size(1) % k.size(1) == 0, "chunkedAttention: ", q.size(1), " query heads cannot share ", k.size(1),
              " key/value heads");
  TORCH_CHECK(blocked.dim() == 4 && blocked.scalar_type() == at::kBool && blocked.size(1) == 1 &&
                  (blocked.size(0) == 1 || blocked.size(0) == q.size(0)) && (blocked.size(2) == 1 || blocked.size(2) == q.size(2)) &&
                  blocked.size(3) == k.size(2),
              "chunkedAttention: blocked must be bool [B or 1, 1, T or 1, S] = [", q.size(0), ", 1, ", q.size(2), ", ", k.size(2), "], got ",
              blocked.scalar_type(), " ", blocked.sizes());
  TORCH_CHECK(softcap >= 0, "chunkedAttention: softcap must be 0 (none) or positive, got ", softcap);
  TORCH_CHECK(block_bytes >= 1, "chunkedAttention: blockBytes must be positive, got ", block_bytes);
  // Under autocast every matmul here would run in the autocast dtype; the working dtype is
  // chosen once instead (q, k and v cast to it), and autocast is off inside, so the backward
  // pass recomputes the forward's weights in the same dtype whatever the autocast state then.
  at::ScalarType working = q.scalar_type();
  if (at::isFloatingType(working) && working != at::kDouble) {
    if (autocast_is_enabled(q.is_cuda())) working = autocast_dtype(q.is_cuda());
  }
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const int64_t per_row = std::max<int64_t>(1, q.size(0) * q.size(1) * k.size(2) * 4);  // one float32 row of scores, every head
  const int64_t rows = std::max<int64_t>(1, std::min<int64_t>(q.size(2), block_bytes / per_row));
  return ChunkedAttention::apply(q.to(working), k.to(working), v.to(working), blocked, scale, softcap, softmax_in_float32, rows)[0];
}

}  // namespace alpha_dpo
