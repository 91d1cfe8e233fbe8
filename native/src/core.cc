// Hand-written part of the shim: handles, data in and out, autograd state, RNG and threads.
// The tensor operations themselves are generated (ops.generated.cc).
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstring>

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
  ALPHA_DPO_EXPORT("manualSeed", ManualSeed);
  ALPHA_DPO_EXPORT("getRngState", GetRngState);
  ALPHA_DPO_EXPORT("setRngState", SetRngState);
  ALPHA_DPO_EXPORT("getNumThreads", GetNumThreads);
  ALPHA_DPO_EXPORT("setNumThreads", SetNumThreads);
  ALPHA_DPO_EXPORT("getNumInteropThreads", GetNumInteropThreads);
  ALPHA_DPO_EXPORT("setNumInteropThreads", SetNumInteropThreads);
  ALPHA_DPO_EXPORT("cudaIsAvailable", CudaIsAvailable);
  ALPHA_DPO_EXPORT("cudaDeviceCount", CudaDeviceCount);
  ALPHA_DPO_EXPORT("cudaSynchronize", CudaSynchronize);
  ALPHA_DPO_EXPORT("buildInfo", BuildInfo);
#undef ALPHA_DPO_EXPORT
}

}  // namespace alpha_dpo
