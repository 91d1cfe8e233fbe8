// torch.distributed in the addon: one process group per process over libtorch's c10d — a
// TCPStore rendezvous (rank 0 hosts it) and ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL
// (CUDA tensors, only compiled when the linked libtorch has CUDA and NCCL; untested here).
//
// Built only when scripts/find-libtorch.mjs --c10d finds c10d and Gloo (it then defines
// ALPHA_DPO_C10D_GLOO, and ALPHA_DPO_C10D_NCCL for NCCL). Without them the functions still
// exist, distBuildInfo() says what the build has, and distInit throws saying what is missing.
//
// Collectives are synchronous (the trainer is) but never wait forever: every operation runs
// with the group's timeout (Gloo's own timeout plus Work::wait(timeout)), and a peer that died
// closes its sockets, which fails the operation at once. Failures are JS errors naming the
// rank that stopped: each rank's heartbeat thread bumps a counter in the store every
// kHeartbeatEvery, and after a failure the ranks whose counter stood still are reported.
#include <napi.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "convert.h"
#include "errors.h"

#if defined(ALPHA_DPO_C10D_GLOO)
#define USE_C10D 1
#define USE_DISTRIBUTED 1
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(ALPHA_DPO_C10D_NCCL)
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace alpha_dpo {

namespace {

#if defined(ALPHA_DPO_C10D_GLOO)

// 1.13 derives the process groups from c10d::ProcessGroup; 2.x from c10d::Backend (the
// ProcessGroup there dispatches to Backends). The collective methods used are the same.
#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;
#else
using Group = c10d::ProcessGroup;
#endif

constexpr auto kHeartbeatEvery = std::chrono::milliseconds(500);

std::string heartbeat_key(int rank) { return "alpha_dpo/heartbeat/" + std::to_string(rank); }

// Bumps this rank's counter in the store until stopped, through a store connection of its own.
class Heartbeat {
 public:
  Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank) : store_(std::move(store)), rank_(rank) {
    thread_ = std::thread([this] { run(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    int64_t beat = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      try {
        std::string value = std::to_string(++beat);
        store_->set(heartbeat_key(rank_), std::vector<uint8_t>(value.begin(), value.end()));
      } catch (...) {
        // The store is gone (rank 0 stopped); the collectives report that.
      }
      wake_.wait_for(lock, kHeartbeatEvery, [this] { return stop_; });
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  int rank_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

struct GroupState {
  std::string backend;
  std::string host;
  int port;
  int rank;
  int worldSize;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Group> group;
  std::unique_ptr<Heartbeat> heartbeat;
};

std::unique_ptr<GroupState> state;

c10::intrusive_ptr<c10d::TCPStore> connect_store(const std::string& host, int port, bool isServer, int worldSize,
                                                  std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = isServer;
  options.numWorkers = static_cast<std::size_t>(worldSize);
  options.waitWorkers = false;
  options.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(host, options);
}

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0; }

// The network interface Gloo listens on, as torch.distributed picks it: GLOO_SOCKET_IFNAME,
// else the machine's own hostname; loopback when the master is on loopback (one machine).
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& masterHost) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (is_loopback(masterHost)) return c10d::ProcessGroupGloo::createDeviceForHostname(masterHost);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

GroupState& current(const char* what) {
  if (!state) {
    throw std::runtime_error(std::string("torch.distributed.") + what +
                             ": no process group; call torch.distributed.initProcessGroup() first");
  }
  return *state;
}

int64_t read_counter(c10d::Store& store, int rank) {
  auto key = heartbeat_key(rank);
  if (!store.check({key})) return -1;
  auto bytes = store.get(key);
  return std::stoll(std::string(bytes.begin(), bytes.end()));
}

// After a failed collective: which ranks stopped beating. Reads every counter, waits three
// beats, reads again. An unreachable store means rank 0, which hosts it, stopped.
std::string diagnose(GroupState& s) {
  std::vector<int> stopped;
  try {
    auto store = connect_store(s.host, s.port, false, s.worldSize, std::chrono::milliseconds(3000));
    std::vector<int64_t> before(s.worldSize);
    for (int r = 0; r < s.worldSize; r++) before[r] = r == s.rank ? 0 : read_counter(*store, r);
    std::this_thread::sleep_for(kHeartbeatEvery * 3);
    for (int r = 0; r < s.worldSize; r++) {
      if (r != s.rank && read_counter(*store, r) == before[r]) stopped.push_back(r);
    }
  } catch (...) {
    if (s.rank != 0) stopped.push_back(0);
  }
  if (stopped.empty()) {
    return "every other rank is still alive, so one of them is stuck or behind (a hang, or ranks running different numbers "
           "of collectives)";
  }
  std::ostringstream out;
  out << (stopped.size() == 1 ? "rank " : "ranks ");
  for (size_t k = 0; k < stopped.size(); k++) out << (k ? ", " : "") << stopped[k];
  out << (stopped.size() == 1 ? " has" : " have") << " stopped (process died or was killed";
  if (std::find(stopped.begin(), stopped.end(), 0) != stopped.end()) out << "; rank 0 hosts the rendezvous store";
  out << ")";
  return out.str();
}

// Runs one collective to completion within the group's timeout; a failure becomes an error
// naming the operation, this rank and the rank that stopped.
void run_collective(GroupState& s, const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
  std::string cause;
  try {
    auto work = start();
    if (work->wait(s.timeout)) return;
    cause = "the operation did not complete";
  } catch (const c10::Error& e) {
    cause = e.what_without_backtrace();
  } catch (const std::exception& e) {
    cause = e.what();
  }
  std::ostringstream out;
  out << "torch.distributed." << what << " failed on rank " << s.rank << " of " << s.worldSize << " (timeout "
      << s.timeout.count() / 1000.0 << " s): " << diagnose(s) << ". Cause: " << cause;
  throw std::runtime_error(out.str());
}

std::vector<at::Tensor> one(const at::Tensor& t) { return {t}; }

void check_tensor(const GroupState& s, const at::Tensor& t, const char* what) {
  if (!t.is_contiguous()) throw std::runtime_error(std::string("torch.distributed.") + what + ": the tensor must be contiguous");
  bool cuda = t.device().is_cuda();
  if (s.backend == "gloo" && cuda) {
    throw std::runtime_error(std::string("torch.distributed.") + what + ": the gloo backend takes CPU tensors; use backend 'nccl' for CUDA");
  }
  if (s.backend == "nccl" && !cuda) {
    throw std::runtime_error(std::string("torch.distributed.") + what + ": the nccl backend takes CUDA tensors; use backend 'gloo' for CPU");
  }
}

#endif  // ALPHA_DPO_C10D_GLOO

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto obj = Napi::Object::New(info.Env());
#if defined(ALPHA_DPO_C10D_GLOO)
  obj.Set("gloo", true);
#else
  obj.Set("gloo", false);
#endif
#if defined(ALPHA_DPO_C10D_NCCL)
  obj.Set("nccl", true);
#else
  obj.Set("nccl", false);
#endif
  return obj;
}

#if defined(ALPHA_DPO_C10D_GLOO)

// distInit(backend, host, port, rank, worldSize, timeoutMs)
Napi::Value Init(const Napi::CallbackInfo& info) {
  expect_args(info, 6, "distInit");
  if (state) throw std::runtime_error("torch.distributed.initProcessGroup: a process group already exists; call destroyProcessGroup() first");
  auto s = std::make_unique<GroupState>();
  s->backend = arg_string(info, 0);
  s->host = arg_string(info, 1);
  s->port = static_cast<int>(arg_int(info, 2));
  s->rank = static_cast<int>(arg_int(info, 3));
  s->worldSize = static_cast<int>(arg_int(info, 4));
  s->timeout = std::chrono::milliseconds(arg_int(info, 5));
  s->store = connect_store(s->host, s->port, s->rank == 0, s->worldSize, s->timeout);
  if (s->backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(s->timeout);
    options->devices.push_back(gloo_device(s->host));
    s->group = c10::make_intrusive<c10d::ProcessGroupGloo>(s->store, s->rank, s->worldSize, options);
  } else if (s->backend == "nccl") {
#if defined(ALPHA_DPO_C10D_NCCL)
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = s->timeout;
    s->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(s->store, s->rank, s->worldSize, options);
#else
    throw std::runtime_error("torch.distributed.initProcessGroup: this addon was built without NCCL (the linked libtorch has no CUDA/NCCL)");
#endif
  } else {
    throw std::runtime_error("torch.distributed.initProcessGroup: unknown backend " + s->backend);
  }
  auto beatStore = connect_store(s->host, s->port, false, s->worldSize, s->timeout);
  s->heartbeat = std::make_unique<Heartbeat>(beatStore, s->rank);
  state = std::move(s);
  return info.Env().Undefined();
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  bool had = static_cast<bool>(state);
  state.reset();
  return Napi::Boolean::New(info.Env(), had);
}

Napi::Value Rank(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state ? state->rank : -1);
}

Napi::Value WorldSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state ? state->worldSize : -1);
}

// distAllReduce(tensor, op): in place; op 'sum' | 'avg' | 'max' | 'min' | 'product'.
// Gloo has no AVG: it is the sum divided by the world size, as torch.distributed documents.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "distAllReduce");
  auto& s = current("allReduce");
  at::Tensor t = arg_tensor(info, 0);
  std::string op = arg_string(info, 1);
  check_tensor(s, t, "allReduce");
  c10d::AllreduceOptions options;
  options.timeout = s.timeout;
  if (op == "sum" || op == "avg") options.reduceOp = c10d::ReduceOp::SUM;
  else if (op == "max") options.reduceOp = c10d::ReduceOp::MAX;
  else if (op == "min") options.reduceOp = c10d::ReduceOp::MIN;
  else if (op == "product") options.reduceOp = c10d::ReduceOp::PRODUCT;
  else throw std::runtime_error("torch.distributed.allReduce: unknown op " + op + " (sum, avg, max, min, product)");
  auto tensors = one(t);
  run_collective(s, "allReduce", [&] { return s.group->allreduce(tensors, options); });
  if (op == "avg") {
    at::NoGradGuard noGrad;
    t.div_(s.worldSize);
  }
  return info.Env().Undefined();
}

// distBroadcast(tensor, src): in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  expect_args(info, 2, "distBroadcast");
  auto& s = current("broadcast");
  at::Tensor t = arg_tensor(info, 0);
  check_tensor(s, t, "broadcast");
  c10d::BroadcastOptions options;
  options.rootRank = arg_int(info, 1);
  options.timeout = s.timeout;
  if (options.rootRank < 0 || options.rootRank >= s.worldSize) throw std::runtime_error("torch.distributed.broadcast: src out of range");
  auto tensors = one(t);
  run_collective(s, "broadcast", [&] { return s.group->broadcast(tensors, options); });
  return info.Env().Undefined();
}

// distAllGather(tensor) -> one new tensor per rank, in rank order.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  expect_args(info, 1, "distAllGather");
  auto& s = current("allGather");
  at::Tensor t = arg_tensor(info, 0);
  check_tensor(s, t, "allGather");
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < s.worldSize; r++) outputs[0].push_back(at::empty_like(t));
  auto inputs = one(t);
  c10d::AllgatherOptions options;
  options.timeout = s.timeout;
  run_collective(s, "allGather", [&] { return s.group->allgather(outputs, inputs, options); });
  return to_js(info.Env(), outputs[0]);
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto& s = current("barrier");
  c10d::BarrierOptions options;
  options.timeout = s.timeout;
  run_collective(s, "barrier", [&] { return s.group->barrier(options); });
  return info.Env().Undefined();
}

#else

Napi::Value Unavailable(const Napi::CallbackInfo& info) {
  throw std::runtime_error("torch.distributed: this addon was built without c10d/Gloo");
}

#endif  // ALPHA_DPO_C10D_GLOO

}  // namespace

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
#define ALPHA_DPO_EXPORT(js, fn) exports.Set(js, Napi::Function::New(env, guarded<fn>, js))
  ALPHA_DPO_EXPORT("distBuildInfo", BuildInfo);
#if defined(ALPHA_DPO_C10D_GLOO)
  ALPHA_DPO_EXPORT("distInit", Init);
  ALPHA_DPO_EXPORT("distDestroy", Destroy);
  ALPHA_DPO_EXPORT("distRank", Rank);
  ALPHA_DPO_EXPORT("distWorldSize", WorldSize);
  ALPHA_DPO_EXPORT("distAllReduce", AllReduce);
  ALPHA_DPO_EXPORT("distBroadcast", Broadcast);
  ALPHA_DPO_EXPORT("distAllGather", AllGather);
  ALPHA_DPO_EXPORT("distBarrier", Barrier);
  // Stop the heartbeat thread and Gloo's threads before the process tears libtorch down.
  env.AddCleanupHook([] { state.reset(); });
#else
  for (const char* name : {"distInit", "distDestroy", "distRank", "distWorldSize", "distAllReduce", "distBroadcast", "distAllGather", "distBarrier"}) {
    exports.Set(name, Napi::Function::New(env, guarded<Unavailable>, name));
  }
#endif
#undef ALPHA_DPO_EXPORT
}

}  // namespace alpha_dpo
