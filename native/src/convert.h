// Conversions between JS values and ATen arguments and results, shared by core.cc and the
// generated operations. Argument readers take (info, index) and throw a TypeError naming
// the expected type when a value does not fit.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <string>
#include <tuple>
#include <vector>

#include "tensor_handle.h"

namespace alpha_dpo {

void expect_args(const Napi::CallbackInfo& info, size_t count, const char* name);

const at::Tensor& arg_tensor(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> arg_opt_tensor(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> arg_tensor_list(const Napi::CallbackInfo& info, size_t i);
at::Scalar arg_scalar(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Scalar> arg_opt_scalar(const Napi::CallbackInfo& info, size_t i);
int64_t arg_int(const Napi::CallbackInfo& info, size_t i);
c10::optional<int64_t> arg_opt_int(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> arg_int_list(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<int64_t>> arg_opt_int_list(const Napi::CallbackInfo& info, size_t i);
double arg_double(const Napi::CallbackInfo& info, size_t i);
bool arg_bool(const Napi::CallbackInfo& info, size_t i);
std::string arg_string(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::string> arg_opt_string(const Napi::CallbackInfo& info, size_t i);
at::ScalarType arg_dtype(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::ScalarType> arg_opt_dtype(const Napi::CallbackInfo& info, size_t i);
// {dtype?: ScalarType code, device?: string, requiresGrad?: boolean}
at::TensorOptions arg_options(const Napi::CallbackInfo& info, size_t i);

// at::Reduction code for 'none' | 'mean' | 'sum'.
int64_t reduction_code(const std::string& reduction);

// t.to(dtype, device), returning t itself when nothing changes and copy is false.
at::Tensor to_dtype_device(const at::Tensor& t, c10::optional<at::ScalarType> dtype,
                           const c10::optional<std::string>& device, bool copy);

inline Napi::Value to_js(Napi::Env env, at::Tensor t) { return wrap_tensor(env, std::move(t)); }
inline Napi::Value to_js(Napi::Env env, bool v) { return Napi::Boolean::New(env, v); }
Napi::Value to_js(Napi::Env env, const std::vector<at::Tensor>& ts);
Napi::Value to_js(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts);

}  // namespace alpha_dpo
