// Hand-written part of the shim: handles, data in and out, autograd and autocast state, RNG and threads.
// The tensor operations themselves are generated (ops.generated.cc).
#include <ATen/Parallel.h>
#include "autocast_state.h"
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>
#include <type_traits>
#include <utility>

#include "convert.h"
#include "errors.h"

namespace alpha_dpo {

namespace {

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "dispose");
  return Napi::Boolean::New(info.Env(), dispose_tensor(info.Env(), info[0]));
}

Napi::Value IsHandleLive(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "isLive");
  return Napi::Boolean::New(info.Env(), is_live_handle(info[0]));
}

Napi::Value LiveTensorCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(live_tensor_count()));
}

Napi::Value IntList(Napi::Env env, at::IntArrayRef values) {
  auto arr = Napi::Array::New(env, values.size());
  for (size_t k = 0; k < values.size(); k++) arr.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(values[k])));
  return arr;
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "shape");
  return IntList(info.Env(), arg_tensor(info, 0).sizes());
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "strides");
  return IntList(info.Env(), arg_tensor(info, 0).strides());
}

Napi::Value DtypeCode(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "dtype");
  return Napi::Number::New(info.Env(), static_cast<int>(arg_tensor(info, 0).scalar_type()));
}

Napi::Value DeviceName(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "device");
  return Napi::String::New(info.Env(), arg_tensor(info, 0).device().str());
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "isContiguous");
  return Napi::Boolean::New(info.Env(), arg_tensor(info, 0).is_contiguous());
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "requiresGrad");
  return Napi::Boolean::New(info.Env(), arg_tensor(info, 0).requires_grad());
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "isLeaf");
  return Napi::Boolean::New(info.Env(), arg_tensor(info, 0).is_leaf());
}

Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "gradFnName");
  const auto& fn = arg_tensor(info, 0).grad_fn();
  if (!fn) return info.Env().Null();
  return Napi::String::New(info.Env(), fn->name());
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "grad");
  return wrap_tensor(info.Env(), arg_tensor(info, 0).grad());
}

Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "setGrad");
  at::Tensor t = arg_tensor(info, 0);
  c10::optional<at::Tensor> g = arg_opt_tensor(info, 1);
  t.mutable_grad() = g ? *g : at::Tensor();
  return info.Env().Undefined();
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "retainGrad");
  arg_tensor(info, 0).retain_grad();
  return info.Env().Undefined();
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "item");
  const at::Tensor& t = arg_tensor(info, 0);
  at::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
  if (s.isIntegral(false)) return Napi::Number::New(info.Env(), static_cast<double>(s.toLong()));
  return Napi::Number::New(info.Env(), s.toDouble());
}

// fromBuffer(bytes: ArrayBufferView, shape, dtypeCode): a new CPU tensor holding a copy of the bytes.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "fromBuffer");
  if (!info[0].IsTypedArray() && !info[0].IsDataView()) {
    throw Napi::TypeError::New(info.Env(), "fromBuffer: expected a TypedArray or DataView");
  }
  const uint8_t* data;
  size_t length;
  if (info[0].IsTypedArray()) {
    auto view = info[0].As<Napi::TypedArray>();
    data = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    length = view.ByteLength();
  } else {
    auto view = info[0].As<Napi::DataView>();
    data = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    length = view.ByteLength();
  }
  std::vector<int64_t> shape = arg_int_list(info, 1);
  at::ScalarType dtype = arg_dtype(info, 2);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (static_cast<size_t>(t.nbytes()) != length) {
    throw std::invalid_argument("fromBuffer: " + std::to_string(length) + " bytes given for a tensor of " +
                                std::to_string(t.nbytes()) + " bytes (shape " + c10::str(t.sizes()) + ", " +
                                c10::toString(dtype) + ")");
  }
  if (length) std::memcpy(t.data_ptr(), data, length);
  return wrap_tensor(info.Env(), std::move(t));
}

// toBuffer(h): a new ArrayBuffer with a copy of the tensor's elements in row-major order (from any device).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "toBuffer");
  at::Tensor t = arg_tensor(info, 0).detach().to(at::kCPU).contiguous();
  auto buffer = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
  if (t.nbytes()) std::memcpy(buffer.Data(), t.data_ptr(), t.nbytes());
  return buffer;
}

// dataView(h): an ArrayBuffer over the tensor's own memory (no copy), keeping the storage alive
// while the buffer lives. Only for contiguous CPU tensors; used for file I/O.
Napi::Value DataView(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "dataView");
  const at::Tensor& t = arg_tensor(info, 0);
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    throw std::invalid_argument("dataView needs a contiguous CPU tensor (call .contiguous() or .to('cpu') first)");
  }
  if (t.nbytes() == 0) return Napi::ArrayBuffer::New(info.Env(), 0);
  auto* keep = new at::Tensor(t);
  return Napi::ArrayBuffer::New(info.Env(), t.data_ptr(), t.nbytes(),
                                [](Napi::Env, void*, at::Tensor* hint) { delete hint; }, keep);
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setGradEnabled");
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(arg_bool(info, 0));
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

bool autocast_cuda(const Napi::CallbackInfo& info, size_t i) {
  std::string device = arg_string(info, i);
  if (device == "cpu") return false;
  if (device == "cuda") return true;
  throw std::invalid_argument("autocast: the device type must be 'cpu' or 'cuda', got '" + device + "'");
}

void autocast_set(bool cuda, bool enabled, at::ScalarType dtype) {
#ifdef ALPHA_DPO_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dtype);
#else
  if (cuda) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

Napi::Value AutocastState(Napi::Env env, bool cuda) {
  auto obj = Napi::Object::New(env);
  obj.Set("enabled", Napi::Boolean::New(env, autocast_is_enabled(cuda)));
  obj.Set("dtype", Napi::Number::New(env, static_cast<int>(autocast_dtype(cuda))));
  return obj;
}

// autocastState(deviceType): { enabled, dtype code }.
Napi::Value GetAutocastState(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "autocastState");
  return AutocastState(info.Env(), autocast_cuda(info, 0));
}

// autocastEnter(deviceType, enabled, dtypeCode): sets the state, counts one more nesting level
// (as torch.autocast.__enter__) and returns the previous state for autocastExit.
Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "autocastEnter");
  bool cuda = autocast_cuda(info, 0);
  bool enabled = arg_bool(info, 1);
  at::ScalarType dtype = arg_dtype(info, 2);
  if (cuda && enabled && !torch::cuda::is_available()) {
    throw std::invalid_argument("autocast('cuda'): this libtorch has no CUDA device; use 'cpu'");
  }
  if (!cuda && enabled && dtype != at::kBFloat16) {
    // libtorch 1.13's CPU autocast knows only bfloat16 (float16 came in 2.x, without fast CPU kernels).
    throw std::invalid_argument(std::string("autocast('cpu') runs in bfloat16, got ") + c10::toString(dtype));
  }
  if (cuda && enabled && dtype != at::kBFloat16 && dtype != at::kHalf) {
    throw std::invalid_argument(std::string("autocast('cuda') runs in float16 or bfloat16, got ") + c10::toString(dtype));
  }
  Napi::Value previous = AutocastState(info.Env(), cuda);
  autocast_set(cuda, enabled, dtype);
  at::autocast::increment_nesting();
  return previous;
}

// autocastExit(deviceType, enabled, dtypeCode): restores a state autocastEnter returned. When the
// outermost scope ends, the cache of weights cast for this scope is dropped (torch.autocast.__exit__):
// the next scope must see the weights as the optimiser left them.
Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "autocastExit");
  bool cuda = autocast_cuda(info, 0);
  autocast_set(cuda, arg_bool(info, 1), arg_dtype(info, 2));
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  return info.Env().Undefined();
}

// Activation checkpointing, PyTorch's reentrant form (torch.utils.checkpoint with
// use_reentrant=True): the forward runs a JS function under no-grad, keeping only its input;
// backward replays it with gradients on, from the same CPU RNG state and autocast state, and
// backpropagates through the replay (parameters get their gradients there), returning the
// input's gradient. CPU autograd runs backward on the thread that called backward(), the JS
// thread, so the replay can call JS synchronously; CUDA backward runs on device threads, so
// CUDA tensors are refused.
struct AutocastSnapshot {
  bool enabled;
  at::ScalarType dtype;
  static AutocastSnapshot now() { return {autocast_is_enabled(false), autocast_dtype(false)}; }
};

// Puts the CPU generator and autocast into a saved state for a replay; the destructor restores
// what was there before (also when the replay throws).
class ReplayState {
 public:
  ReplayState(const at::Tensor& rng_state, AutocastSnapshot autocast) : autocast_before_(AutocastSnapshot::now()) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng_before_ = gen.get_state();
    gen.set_state(rng_state);
    autocast_set(false, autocast.enabled, autocast.dtype);
    at::autocast::increment_nesting();
  }
  ~ReplayState() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    autocast_set(false, autocast_before_.enabled, autocast_before_.dtype);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng_before_);
  }
  ReplayState(const ReplayState&) = delete;
  ReplayState& operator=(const ReplayState&) = delete;

 private:
  at::Tensor rng_before_;
  AutocastSnapshot autocast_before_;
};

// Calls fn(inputHandle, contextHandles) and takes the tensor it returns; the JS side hands the
// returned handle over, so it is released here.
at::Tensor call_block(Napi::Env env, const Napi::FunctionReference& fn, const at::Tensor& input,
                      const std::vector<at::Tensor>& context) {
  auto handles = Napi::Array::New(env, context.size());
  for (size_t k = 0; k < context.size(); k++) handles.Set(static_cast<uint32_t>(k), wrap_tensor(env, context[k]));
  Napi::Value result = fn.Call({wrap_tensor(env, input), handles});
  at::Tensor out = unwrap_tensor(result);
  dispose_tensor(env, result);
  if (!out.defined()) throw std::invalid_argument("checkpoint: the function returned an undefined tensor");
  return out;
}

// How libtorch owns autograd nodes: std::shared_ptr up to 2.x, c10::intrusive_ptr in newer ones
// (read from the type Tensor::grad_fn() returns, so no version test is needed).
using NodePtr = std::decay_t<decltype(std::declval<at::Tensor>().grad_fn())>;
template <typename Ptr>
struct NodeMaker;
template <typename T>
struct NodeMaker<std::shared_ptr<T>> {
  template <typename N>
  static std::shared_ptr<N> make() {
    return std::make_shared<N>();
  }
};
template <typename T>
struct NodeMaker<c10::intrusive_ptr<T>> {
  template <typename N>
  static c10::intrusive_ptr<N> make() {
    return c10::make_intrusive<N>();
  }
};

struct CheckpointBackward : public torch::autograd::Node {
  napi_env env = nullptr;
  std::shared_ptr<Napi::FunctionReference> fn;
  at::Tensor input;  // detached
  std::vector<at::Tensor> context;
  at::Tensor rng_state;
  AutocastSnapshot autocast{false, at::kBFloat16};

  std::string name() const override { return "CheckpointBackward"; }

  void release_variables() override {
    input.reset();
    context.clear();
    fn.reset();
  }

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!fn) throw std::runtime_error("checkpoint: backward through this block ran already and freed its replay; pass retainGraph to backward() to run it twice");
    Napi::Env js(env);
    Napi::HandleScope scope(js);
    at::Tensor x = input.detach().requires_grad_(true);
    at::Tensor out;
    {
      ReplayState replay(rng_state, autocast);
      c10::AutoGradMode grad_mode(true);
      out = call_block(js, *fn, x, context);
    }
    if (grads[0].defined() && out.requires_grad()) torch::autograd::backward({out}, {grads[0]});
    return {x.grad()};
  }
};

// checkpoint(fn, input, context): fn(input, ...context) computed without keeping its activations.
Napi::Value Checkpoint(const Napi::CallbackInfo& info) {
  expect_args(info, 3, "checkpoint");
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "checkpoint: expected a function as the first argument");
  const at::Tensor& input = arg_tensor(info, 1);
  if (!input.device().is_cpu()) {
    throw std::invalid_argument("checkpoint: CPU tensors only (CUDA runs backward on its own threads, which cannot call JavaScript)");
  }
  auto node = NodeMaker<NodePtr>::make<CheckpointBackward>();
  node->env = info.Env();
  node->fn = std::make_shared<Napi::FunctionReference>(Napi::Persistent(info[0].As<Napi::Function>()));
  node->input = input.detach();
  node->context = arg_tensor_list(info, 2);
  node->autocast = AutocastSnapshot::now();
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    node->rng_state = gen.get_state();
  }
  at::Tensor out;
  {
    c10::AutoGradMode no_grad(false);
    out = call_block(info.Env(), *node->fn, node->input, node->context);
  }
  if (!c10::GradMode::is_enabled() || !input.requires_grad()) return wrap_tensor(info.Env(), std::move(out));
  if (!torch::autograd::isDifferentiableType(out.scalar_type())) throw std::invalid_argument("checkpoint: the function must return a floating-point tensor");
  // A view would share its base's autograd history; the block's output gets a history of its own.
  if (out.is_view() || out.is_same(node->input)) out = out.clone();
  node->set_next_edges(torch::autograd::collect_next_edges(input));
  torch::autograd::set_history(out, NodePtr(node));
  return wrap_tensor(info.Env(), std::move(out));
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "manualSeed");
  torch::manual_seed(static_cast<uint64_t>(arg_int(info, 0)));
  return info.Env().Undefined();
}

// The CPU generator's full state as a uint8 tensor (Mersenne Twister + normal cache), for checkpoints.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap_tensor(info.Env(), gen.get_state());
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setRngState");
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(arg_tensor(info, 0));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setNumThreads");
  int64_t n = arg_int(info, 0);
  if (n < 1) throw std::invalid_argument("setNumThreads: the number of threads must be at least 1");
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// glibc's malloc serves blocks above its mmap threshold (128 KiB at first, raised dynamically up
// to 32 MiB) with fresh mmap'd pages and returns the heap's free top to the system above its
// trim threshold: a training step allocates and frees the same activation-sized blocks every
// pass, so each pass pays its page faults again. Fixing the threshold at `mmap` bytes (at most
// 32 MiB, glibc's cap) and keeping up to `trim` free bytes lets the next pass reuse them.
// Returns false where the C library is not glibc (nothing done).
Napi::Value SetMallocThresholds(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "setMallocThresholds");
  const int64_t mmap = arg_int(info, 0);
  const int64_t trim = arg_int(info, 1);
  if (mmap < 0 || trim < 0 || mmap > (int64_t{1} << 30) || trim > (int64_t{1} << 40)) {
    throw std::invalid_argument("setMallocThresholds: thresholds must be non-negative byte counts (mmap ≤ 1 GiB)");
  }
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap)) == 1 && mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<int64_t>(trim, INT32_MAX))) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value GetNumInteropThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_interop_threads());
}

Napi::Value SetNumInteropThreads(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "setNumInteropThreads");
  at::set_num_interop_threads(static_cast<int>(arg_int(info, 0)));
  return info.Env().Undefined();
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto obj = Napi::Object::New(info.Env());
  obj.Set("torchVersion", TORCH_VERSION);
  obj.Set("parallelInfo", at::get_parallel_info());
  obj.Set("cxx11Abi", Napi::Boolean::New(info.Env(), _GLIBCXX_USE_CXX11_ABI == 1));
  return obj;
}

}  // namespace

void RegisterCore(Napi::Env env, Napi::Object exports) {
#define ALPHA_DPO_EXPORT(js, fn) exports.Set(js, Napi::Function::New(env, guarded<fn>, js))
  ALPHA_DPO_EXPORT("dispose", Dispose);
  ALPHA_DPO_EXPORT("isLive", IsHandleLive);
  ALPHA_DPO_EXPORT("liveTensorCount", LiveTensorCount);
  ALPHA_DPO_EXPORT("shape", Shape);
  ALPHA_DPO_EXPORT("strides", Strides);
  ALPHA_DPO_EXPORT("dtype", DtypeCode);
  ALPHA_DPO_EXPORT("device", DeviceName);
  ALPHA_DPO_EXPORT("isContiguous", IsContiguous);
  ALPHA_DPO_EXPORT("requiresGrad", RequiresGrad);
  ALPHA_DPO_EXPORT("isLeaf", IsLeaf);
  ALPHA_DPO_EXPORT("gradFnName", GradFnName);
  ALPHA_DPO_EXPORT("grad", Grad);
  ALPHA_DPO_EXPORT("setGrad", SetGrad);
  ALPHA_DPO_EXPORT("retainGrad", RetainGrad);
  ALPHA_DPO_EXPORT("item", Item);
  ALPHA_DPO_EXPORT("fromBuffer", FromBuffer);
  ALPHA_DPO_EXPORT("toBuffer", ToBuffer);
  ALPHA_DPO_EXPORT("dataView", DataView);
  ALPHA_DPO_EXPORT("setGradEnabled", SetGradEnabled);
  ALPHA_DPO_EXPORT("isGradEnabled", IsGradEnabled);
  ALPHA_DPO_EXPORT("autocastState", GetAutocastState);
  ALPHA_DPO_EXPORT("autocastEnter", AutocastEnter);
  ALPHA_DPO_EXPORT("autocastExit", AutocastExit);
  ALPHA_DPO_EXPORT("checkpoint", Checkpoint);
  ALPHA_DPO_EXPORT("manualSeed", ManualSeed);
  ALPHA_DPO_EXPORT("getRngState", GetRngState);
  ALPHA_DPO_EXPORT("setRngState", SetRngState);
  ALPHA_DPO_EXPORT("getNumThreads", GetNumThreads);
  ALPHA_DPO_EXPORT("setNumThreads", SetNumThreads);
  ALPHA_DPO_EXPORT("getNumInteropThreads", GetNumInteropThreads);
  ALPHA_DPO_EXPORT("setMallocThresholds", SetMallocThresholds);
  ALPHA_DPO_EXPORT("setNumInteropThreads", SetNumInteropThreads);
  ALPHA_DPO_EXPORT("cudaIsAvailable", CudaIsAvailable);
  ALPHA_DPO_EXPORT("cudaDeviceCount", CudaDeviceCount);
  ALPHA_DPO_EXPORT("cudaSynchronize", CudaSynchronize);
  ALPHA_DPO_EXPORT("buildInfo", BuildInfo);
#undef ALPHA_DPO_EXPORT
}

}  // namespace alpha_dpo
