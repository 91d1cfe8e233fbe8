#include "convert.h"

#include <cmath>

#include "errors.h"

namespace alpha_dpo {

namespace {

[[noreturn]] void type_error(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

bool absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

int64_t to_int64(const Napi::CallbackInfo& info, size_t i, const Napi::Value& v) {
  if (!v.IsNumber()) type_error(info, i, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) type_error(info, i, "an integer");
  return static_cast<int64_t>(d);
}

}  // namespace

void expect_args(const Napi::CallbackInfo& info, size_t count, const char* name) {
  if (info.Length() < count) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + ": expected " + std::to_string(count) +
                                               " arguments, got " + std::to_string(info.Length()));
  }
}

const at::Tensor& arg_tensor(const Napi::CallbackInfo& info, size_t i) { return unwrap_tensor(info[i]); }

c10::optional<at::Tensor> arg_opt_tensor(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return unwrap_tensor(info[i]);
}

std::vector<at::Tensor> arg_tensor_list(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) type_error(info, i, "an array of Tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out.push_back(unwrap_tensor(arr.Get(k)));
  return out;
}

// A JS number that is an exact integer becomes an integral Scalar (so int tensors stay int,
// as with Python ints); any other number a double Scalar; a boolean a bool Scalar.
at::Scalar arg_scalar(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) type_error(info, i, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= 9007199254740992.0) {
    return at::Scalar(static_cast<int64_t>(d));
  }
  return at::Scalar(d);
}

c10::optional<at::Scalar> arg_opt_scalar(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return arg_scalar(info, i);
}

int64_t arg_int(const Napi::CallbackInfo& info, size_t i) { return to_int64(info, i, info[i]); }

c10::optional<int64_t> arg_opt_int(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return arg_int(info, i);
}

std::vector<int64_t> arg_int_list(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsNumber()) return {to_int64(info, i, v)};
  if (!v.IsArray()) type_error(info, i, "an integer or an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out[k] = to_int64(info, i, arr.Get(k));
  return out;
}

c10::optional<std::vector<int64_t>> arg_opt_int_list(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return arg_int_list(info, i);
}

double arg_double(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) type_error(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBoolean()) type_error(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) type_error(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

c10::optional<std::string> arg_opt_string(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return arg_string(info, i);
}

// dtypes cross the boundary as c10::ScalarType codes (stable across libtorch 1.13 and 2.x).
at::ScalarType arg_dtype(const Napi::CallbackInfo& info, size_t i) {
  int64_t code = arg_int(info, i);
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) type_error(info, i, "a dtype code");
  return static_cast<at::ScalarType>(code);
}

c10::optional<at::ScalarType> arg_opt_dtype(const Napi::CallbackInfo& info, size_t i) {
  if (absent(info[i])) return c10::nullopt;
  return arg_dtype(info, i);
}

at::TensorOptions arg_options(const Napi::CallbackInfo& info, size_t i) {
  at::TensorOptions options;
  if (absent(info[i])) return options;
  if (!info[i].IsObject()) type_error(info, i, "an options object");
  auto obj = info[i].As<Napi::Object>();
  Napi::Value dtype = obj.Get("dtype");
  if (!absent(dtype)) {
    if (!dtype.IsNumber()) type_error(info, i, "options.dtype as a dtype code");
    options = options.dtype(static_cast<at::ScalarType>(dtype.As<Napi::Number>().Int32Value()));
  }
  Napi::Value device = obj.Get("device");
  if (!absent(device)) {
    if (!device.IsString()) type_error(info, i, "options.device as a string");
    options = options.device(c10::Device(device.As<Napi::String>().Utf8Value()));
  }
  Napi::Value requires_grad = obj.Get("requiresGrad");
  if (!absent(requires_grad)) options = options.requires_grad(requires_grad.ToBoolean().Value());
  return options;
}

int64_t reduction_code(const std::string& reduction) {
  if (reduction == "none") return 0;
  if (reduction == "mean") return 1;
  if (reduction == "sum") return 2;
  throw std::invalid_argument("reduction must be 'none', 'mean' or 'sum', got '" + reduction + "'");
}

at::Tensor to_dtype_device(const at::Tensor& t, c10::optional<at::ScalarType> dtype,
                           const c10::optional<std::string>& device, bool copy) {
  at::ScalarType target_dtype = dtype.value_or(t.scalar_type());
  c10::Device target_device = device ? c10::Device(*device) : t.device();
  return t.to(target_device, target_dtype, /*non_blocking=*/false, copy);
}

Napi::Value to_js(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); k++) arr.Set(static_cast<uint32_t>(k), wrap_tensor(env, ts[k]));
  return arr;
}

Napi::Value to_js(Napi::Env env, const std::tuple<at::Tensor, at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, 2);
  arr.Set(0u, wrap_tensor(env, std::get<0>(ts)));
  arr.Set(1u, wrap_tensor(env, std::get<1>(ts)));
  return arr;
}

}  // namespace alpha_dpo
