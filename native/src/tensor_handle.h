// A tensor handle is a JS External that owns one at::Tensor (a reference to its storage).
// dispose() releases the tensor at once; the External's finalizer releases it when the
// handle is garbage collected without dispose(). Sizes are reported to V8 as external
// memory so that the collector runs when tensors, not JS objects, fill memory.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace alpha_dpo {

struct TensorBox {
  at::Tensor tensor;
  int64_t reported_bytes = 0;
};

// Wraps a tensor in a new handle (an undefined tensor becomes null).
Napi::Value wrap_tensor(Napi::Env env, at::Tensor tensor);

// The tensor behind a handle; throws a TypeError for a non-handle and an Error after dispose().
const at::Tensor& unwrap_tensor(const Napi::Value& value);

// True when value is one of our handles.
bool is_tensor_handle(const Napi::Value& value);

// Releases the tensor now. Returns false if it had already been released.
bool dispose_tensor(Napi::Env env, const Napi::Value& value);

// Number of handles whose tensor has not been released (for leak tests).
int64_t live_tensor_count();

}  // namespace alpha_dpo
