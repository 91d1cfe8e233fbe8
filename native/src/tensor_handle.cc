#include "tensor_handle.h"

#include <atomic>

#include "errors.h"

namespace alpha_dpo {

namespace {

// Marks Externals created by this addon, so a foreign External is rejected, never reinterpreted.
const napi_type_tag kTensorTag = {0x5a1f0d9c3b2e4a71ULL, 0x9e8d7c6b5a493827ULL};

std::atomic<int64_t> g_live{0};

int64_t storage_bytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

void release(Napi::Env env, TensorBox* box) {
  if (!box->tensor.defined()) return;
  box->tensor.reset();
  g_live--;
  if (box->reported_bytes) {
    napi_adjust_external_memory(env, -box->reported_bytes, nullptr);
    box->reported_bytes = 0;
  }
}

TensorBox* box_of(const Napi::Value& value) {
  bool ok = false;
  if (value.Type() == napi_external) {
    napi_check_object_type_tag(value.Env(), value, &kTensorTag, &ok);
  }
  if (!ok) throw Napi::TypeError::New(value.Env(), "expected a Tensor");
  return value.As<Napi::External<TensorBox>>().Data();
}

}  // namespace

Napi::Value wrap_tensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* box = new TensorBox{std::move(tensor), 0};
  box->reported_bytes = storage_bytes(box->tensor);
  g_live++;
  auto external = Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* b) {
    release(env, b);
    delete b;
  });
  napi_type_tag_object(env, external, &kTensorTag);
  if (box->reported_bytes) napi_adjust_external_memory(env, box->reported_bytes, nullptr);
  return external;
}

bool is_tensor_handle(const Napi::Value& value) {
  bool ok = false;
  if (value.Type() == napi_external) napi_check_object_type_tag(value.Env(), value, &kTensorTag, &ok);
  return ok;
}

const at::Tensor& unwrap_tensor(const Napi::Value& value) {
  TensorBox* box = box_of(value);
  if (!box->tensor.defined()) {
    throw torch_error(value.Env(), "Tensor used after dispose(): it was released by dispose() or by the scope that created it (keep it with torch.keep() or return it from the scope)");
  }
  return box->tensor;
}

bool dispose_tensor(Napi::Env env, const Napi::Value& value) {
  TensorBox* box = box_of(value);
  bool was = box->tensor.defined();
  release(env, box);
  return was;
}

int64_t live_tensor_count() { return g_live.load(); }

Napi::Error torch_error(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("name", Napi::String::New(env, "TorchError"));
  return error;
}

}  // namespace alpha_dpo
