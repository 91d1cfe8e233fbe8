// Loads the libtorch addon. This module is the only one that touches the .node file; the
// rest of the package sees the typed `native` object.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddonLoadError, TorchError } from './errors.js';
import type { Handle } from './handle.js';
import type { NativeOps } from './ops.generated.js';

// OpenMP reads its settings when libgomp loads, i.e. when the addon loads below. A passive wait
// policy made a PyTorch training step 1.6x faster on a 2-core machine (idle OpenMP threads stop
// spinning against the BLAS threads). A user's own setting wins.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

/** The hand-written half of the addon (native/src/core.cc). */
export interface NativeCore {
  dispose(h: Handle): boolean;
  isLive(h: unknown): boolean;
  liveTensorCount(): number;
  shape(h: Handle): number[];
  strides(h: Handle): number[];
  dtype(h: Handle): number;
  device(h: Handle): string;
  isContiguous(h: Handle): boolean;
  requiresGrad(h: Handle): boolean;
  isLeaf(h: Handle): boolean;
  gradFnName(h: Handle): string | null;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, grad: Handle | null): void;
  retainGrad(h: Handle): void;
  item(h: Handle): number | boolean;
  fromBuffer(bytes: ArrayBufferView, shape: readonly number[], dtype: number): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  dataView(h: Handle): ArrayBuffer;
  setGradEnabled(enabled: boolean): boolean;
  isGradEnabled(): boolean;
  autocastState(deviceType: 'cpu' | 'cuda'): { enabled: boolean; dtype: number };
  autocastEnter(deviceType: 'cpu' | 'cuda', enabled: boolean, dtype: number): { enabled: boolean; dtype: number };
  autocastExit(deviceType: 'cpu' | 'cuda', enabled: boolean, dtype: number): void;
  checkpoint(fn: (input: Handle, context: Handle[]) => Handle, input: Handle, context: readonly Handle[]): Handle;
  manualSeed(seed: number): void;
  getRngState(): Handle;
  setRngState(state: Handle): void;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  getNumInteropThreads(): number;
  setNumInteropThreads(n: number): void;
  /** glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD in bytes; false where the C library is not glibc (or it refused). Absent from addons built before it. */
  setMallocThresholds?(mmap: number, trim: number): boolean;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  buildInfo(): { torchVersion: string; parallelInfo: string; cxx11Abi: boolean };
}

/** torch.distributed's half of the addon (native/src/distributed.cc); absent from addons built before it. */
export interface NativeDistributed {
  distBuildInfo?(): { gloo: boolean; nccl: boolean };
  distInit(backend: string, host: string, port: number, rank: number, worldSize: number, timeoutMs: number): void;
  distDestroy(): boolean;
  distRank(): number;
  distWorldSize(): number;
  distAllReduce(h: Handle, op: string): void;
  distBroadcast(h: Handle, src: number): void;
  distAllGather(h: Handle): Handle[];
  distBarrier(): void;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// ALPHA_DPO_ADDON names another build of the addon, e.g. one against a second libtorch made with
// `npm run build:native -- --out DIR` (CI runs the tests against both libtorch versions).
const addonPath = process.env.ALPHA_DPO_ADDON
  ? resolve(process.env.ALPHA_DPO_ADDON)
  : join(root, 'build', 'Release', 'alpha_dpo_native.node');

/**
 * The addon's libtorch exceptions arrive as plain Errors named 'TorchError' (native/src/errors.h);
 * this gives them TorchError's prototype. Only a throw pays for it: the wrapper's try costs
 * nothing on the normal path.
 */
function withTorchErrors<T extends object>(addon: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(addon)) {
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof Error && e.name === 'TorchError') Object.setPrototypeOf(e, TorchError.prototype);
        throw e;
      }
    };
  }
  return wrapped as T;
}

function load(): NativeCore & NativeOps & NativeDistributed {
  const require = createRequire(import.meta.url);
  let addon: NativeCore & NativeOps & NativeDistributed;
  try {
    addon = require(addonPath) as NativeCore & NativeOps & NativeDistributed;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new AddonLoadError(addonPath, reason, { cause: e, fromEnvironment: process.env.ALPHA_DPO_ADDON !== undefined });
  }
  return withTorchErrors(addon);
}

/**
 * Debian's libtorch 1.13 starts with one intra-op thread whatever the machine has (its OpenMP
 * reports omp_get_max_threads() = 1), where PyTorch's own builds use every physical core. When
 * the user set no OMP_NUM_THREADS and libtorch chose a single thread on a machine with more
 * CPUs, use all of them; any other choice libtorch made is kept. OMP_NUM_THREADS=1 keeps one.
 */
function useAvailableCores(addon: NativeCore): void {
  if (process.env.OMP_NUM_THREADS) return;
  const cpus = availableParallelism();
  if (cpus > 1 && addon.getNumThreads() === 1) addon.setNumThreads(cpus);
}

/**
 * A training step frees and reallocates the same activation-sized blocks every pass; glibc's
 * defaults hand many of them back to the system and fault them in again (measured: the GPT-2
 * DPO step 20–25% faster with the thresholds below, the same peak RSS). Blocks up to 32 MiB
 * (glibc's cap) then come from the heap, and up to 1 GiB of free heap is kept for reuse.
 * Skipped when the user tunes malloc themselves (GLIBC_TUNABLES with glibc.malloc, MALLOC_*_
 * variables) or sets ALPHA_DPO_MALLOC=default.
 */
function keepFreedMemory(addon: NativeCore): string {
  const env = process.env;
  if (env.ALPHA_DPO_MALLOC === 'default') return "glibc's defaults (ALPHA_DPO_MALLOC=default)";
  if (env.GLIBC_TUNABLES?.includes('glibc.malloc') || Object.keys(env).some((k) => k.startsWith('MALLOC_') && k.endsWith('_'))) {
    return 'left to your GLIBC_TUNABLES / MALLOC_*_ settings';
  }
  if (addon.setMallocThresholds === undefined) return 'not applied: this addon predates setMallocThresholds (npm run build:native)';
  return addon.setMallocThresholds(32 * 2 ** 20, 2 ** 30)
    ? "glibc mmap threshold 32 MiB, trim threshold 1 GiB (ALPHA_DPO_MALLOC=default for glibc's own)"
    : 'not applied: the C library is not glibc, or it refused the thresholds';
}

export const native = load();
useAvailableCores(native);
/** What keepFreedMemory did when the addon loaded, for `alpha-dpo info`. */
export const mallocTuning = keepFreedMemory(native);
