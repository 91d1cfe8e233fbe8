// Tensor handles are JS numbers naming a slot in a table of at::Tensor, tagged with the
// slot's generation so that a handle used after dispose() (even once its slot is reused) is
// detected. dispose() frees the slot at once. The TypeScript Tensor registers each handle
// with a FinalizationRegistry as the safety net for tensors that are never disposed.
//
// Why not napi_external with a finalizer: Node runs N-API finalizers from the event loop,
// so a synchronous training loop that never yields piled up ~200 bytes of pending
// finalizer state per tensor (measured: RSS +16 MiB per 40,000 adds). A table slot costs
// nothing once freed.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace alpha_dpo {

// Stores a tensor in a new slot and returns its handle (an undefined tensor becomes null).
Napi::Value wrap_tensor(Napi::Env env, at::Tensor tensor);

// The tensor behind a handle; throws a TypeError for a non-handle and an Error after dispose().
const at::Tensor& unwrap_tensor(const Napi::Value& value);

// True when value is a handle whose tensor has not been released.
bool is_live_handle(const Napi::Value& value);

// Releases the tensor now. Returns false if it had already been released.
bool dispose_tensor(Napi::Env env, const Napi::Value& value);

// Number of handles whose tensor has not been released (for leak tests).
int64_t live_tensor_count();

}  // namespace alpha_dpo
