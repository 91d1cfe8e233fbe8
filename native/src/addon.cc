// Module entry point of the alpha-dpo native addon.
#include <napi.h>

namespace alpha_dpo {
void RegisterCore(Napi::Env env, Napi::Object exports);
void RegisterGeneratedOps(Napi::Env env, Napi::Object exports);
void RegisterDistributed(Napi::Env env, Napi::Object exports);
}  // namespace alpha_dpo

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  alpha_dpo::RegisterCore(env, exports);
  alpha_dpo::RegisterGeneratedOps(env, exports);
  alpha_dpo::RegisterDistributed(env, exports);
  return exports;
}

NODE_API_MODULE(alpha_dpo_native, Init)
