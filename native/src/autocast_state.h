// Autocast (automatic mixed precision) state per device type, for both libtorch generations:
// libtorch 2.4 replaced the per-device functions (set_cpu_enabled, set_autocast_cpu_dtype,
// set_enabled, set_autocast_gpu_dtype) by ones taking a DeviceType; 1.13 has only the former.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define ALPHA_DPO_AUTOCAST_BY_DEVICE 1
#endif

namespace alpha_dpo {

inline bool autocast_is_enabled(bool cuda) {
#ifdef ALPHA_DPO_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline at::ScalarType autocast_dtype(bool cuda) {
#ifdef ALPHA_DPO_AUTOCAST_BY_DEVICE
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

}  // namespace alpha_dpo
