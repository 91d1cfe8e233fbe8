// Every N-API entry point is registered through guarded<F>: the one place where C++
// exceptions (c10::Error from libtorch, std::exception, our own argument errors) become
// JavaScript errors. Nothing thrown in libtorch may reach the N-API boundary and abort.
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <exception>
#include <string>

namespace alpha_dpo {

// A JS Error whose name is TorchError and whose message is libtorch's, without its C++ backtrace.
Napi::Error torch_error(Napi::Env env, const std::string& message);

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw torch_error(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw torch_error(info.Env(), e.what());
  } catch (...) {
    throw torch_error(info.Env(), "unknown C++ exception in libtorch");
  }
}

}  // namespace alpha_dpo
