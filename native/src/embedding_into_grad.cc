// A token embedding lookup for weights tied to the LM head (see embedding_into_grad.h).
// Autograd accumulates a leaf's gradient only after every path into it has delivered: a tied
// weight's head gradient waits in the engine's input buffer through the whole backward pass, the
// lookup's dense [V, C] gradient joins it at the end, and the two are summed before .grad takes
// the result. Measured with libtorch 2.13 (SmolLM shape, vocabulary 128,256): resident memory
// rose by two [V, C] tensors at the very end of backward, when every other gradient was already
// held. Here the lookup has its own graph node with no edge to the weight, so the head's gradient
// goes to .grad as soon as it is computed and the lookup's rows are then added into it in place.
#include "embedding_into_grad.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <memory>
#include <type_traits>

namespace alpha_dpo {

namespace {

class EmbeddingIntoGradBackward : public torch::autograd::Node {
 public:
  EmbeddingIntoGradBackward(at::Tensor weight, at::Tensor indices) : weight_(std::move(weight)), indices_(std::move(indices)) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    const at::Tensor& g = grads[0];
    if (!g.defined()) return {};
    at::NoGradGuard no_grad;
    // What autograd would have been handed: embedding_backward's dense gradient (zeros plus each row, in index order).
    const auto dense = [&] { return at::embedding_backward(g.to(weight_.scalar_type()), indices_, weight_.size(0), -1, false, false); };
    at::Tensor& grad = weight_.mutable_grad();
    if (!grad.defined()) {
      grad = dense();
    } else if (grad.is_cuda()) {
      // CUDA's index_add_ adds with atomics (no fixed order); embedding_backward sorts and is deterministic.
      grad.add_(dense());
    } else {
      grad.index_add_(0, indices_, g.reshape({-1, weight_.size(1)}).to(grad.scalar_type()));
    }
    return {};
  }

  std::string name() const override { return "EmbeddingIntoGradBackward"; }

  void release_variables() override {
    weight_.reset();
    indices_.reset();
  }

 private:
  at::Tensor weight_;
  at::Tensor indices_;
};

// Graph nodes are held by std::shared_ptr up to some libtorch 2.x and by c10::intrusive_ptr since;
// an edge's pointer type says which.
using NodePtr = decltype(torch::autograd::Edge{}.function);

template <typename Ptr = NodePtr>
Ptr make_node(const at::Tensor& weight, const at::Tensor& indices) {
  if constexpr (std::is_same_v<Ptr, std::shared_ptr<torch::autograd::Node>>) {
    return std::make_shared<EmbeddingIntoGradBackward>(weight, indices);
  } else {
    return c10::make_intrusive<EmbeddingIntoGradBackward>(weight, indices);
  }
}

}  // namespace

at::Tensor embedding_into_grad(const at::Tensor& weight, const at::Tensor& indices) {
  TORCH_CHECK(weight.dim() == 2, "embeddingIntoGrad: weight must be [V, C], got ", weight.sizes());
  TORCH_CHECK(indices.scalar_type() == at::kLong || indices.scalar_type() == at::kInt,
              "embeddingIntoGrad: indices must be int64 or int32, got ", indices.scalar_type());
  if (!(at::GradMode::is_enabled() && weight.requires_grad() && weight.is_leaf())) return at::embedding(weight, indices);
  // index_select's result is a fresh tensor (at::embedding returns a view of it), so it can carry
  // the node; the reshape to [..., C] is then recorded by autograd as usual.
  const at::Tensor flat_indices = indices.reshape({-1}).to(at::kLong);
  at::Tensor rows = at::index_select(weight.detach(), 0, flat_indices);
  torch::autograd::set_history(rows, make_node(weight, flat_indices));
  std::vector<int64_t> shape = indices.sizes().vec();
  shape.push_back(weight.size(1));
  return rows.view(shape);
}

}  // namespace alpha_dpo
