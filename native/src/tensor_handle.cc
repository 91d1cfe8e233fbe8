#include "tensor_handle.h"

#include <cmath>
#include <vector>

#include "errors.h"

namespace alpha_dpo {

namespace {

// handle = generation · 2^24 + slot: up to 16M live tensors, generations wrap at 2^28,
// and every handle is an exact integer in a double.
constexpr uint64_t kSlotBits = 24;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
constexpr uint32_t kGenerationMask = (uint32_t{1} << 28) - 1;

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 1;
  int64_t reported_bytes = 0;
};

std::vector<Slot> g_slots;
std::vector<uint32_t> g_free;
int64_t g_live = 0;

int64_t storage_bytes(const at::Tensor& t) {
  if (!t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

// The slot a handle names and whether its generation is current; throws for a non-handle.
Slot* slot_of(const Napi::Value& value, bool* current) {
  if (!value.IsNumber()) throw Napi::TypeError::New(value.Env(), "expected a Tensor");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || std::trunc(d) != d) throw Napi::TypeError::New(value.Env(), "expected a Tensor");
  auto h = static_cast<uint64_t>(d);
  uint64_t index = h & kSlotMask;
  if (index >= g_slots.size()) throw Napi::TypeError::New(value.Env(), "expected a Tensor (unknown handle)");
  Slot* slot = &g_slots[index];
  *current = slot->generation == static_cast<uint32_t>(h >> kSlotBits) && slot->tensor.defined();
  return slot;
}

}  // namespace

Napi::Value wrap_tensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  uint32_t index;
  if (!g_free.empty()) {
    index = g_free.back();
    g_free.pop_back();
  } else {
    if (g_slots.size() > kSlotMask) throw std::runtime_error("too many live tensors (16M): dispose tensors or use torch.tidy()");
    index = static_cast<uint32_t>(g_slots.size());
    g_slots.emplace_back();
  }
  Slot& slot = g_slots[index];
  slot.tensor = std::move(tensor);
  slot.reported_bytes = storage_bytes(slot.tensor);
  g_live++;
  // Tell V8 about the memory so the collector runs when undisposed tensors fill memory.
  if (slot.reported_bytes) napi_adjust_external_memory(env, slot.reported_bytes, nullptr);
  return Napi::Number::New(env, static_cast<double>((static_cast<uint64_t>(slot.generation) << kSlotBits) | index));
}

const at::Tensor& unwrap_tensor(const Napi::Value& value) {
  bool current = false;
  Slot* slot = slot_of(value, &current);
  if (!current) {
    throw torch_error(value.Env(),
                      "Tensor used after dispose(): it was released by dispose() or by the torch.tidy() scope that created "
                      "it (return it from the scope, or keep it with torch.keep())");
  }
  return slot->tensor;
}

bool is_live_handle(const Napi::Value& value) {
  if (!value.IsNumber()) return false;
  bool current = false;
  try {
    slot_of(value, &current);
  } catch (const Napi::Error&) {
    return false;
  }
  return current;
}

bool dispose_tensor(Napi::Env env, const Napi::Value& value) {
  bool current = false;
  Slot* slot = slot_of(value, &current);
  if (!current) return false;
  slot->tensor.reset();
  slot->generation = (slot->generation + 1) & kGenerationMask;
  if (slot->generation == 0) slot->generation = 1;
  if (slot->reported_bytes) napi_adjust_external_memory(env, -slot->reported_bytes, nullptr);
  slot->reported_bytes = 0;
  g_free.push_back(static_cast<uint32_t>(slot - g_slots.data()));
  g_live--;
  return true;
}

int64_t live_tensor_count() { return g_live; }

Napi::Error torch_error(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("name", Napi::String::New(env, "TorchError"));
  return error;
}

}  // namespace alpha_dpo
