// Process-wide engine state: gradient mode, autocast, random seeds, threads, devices, live tensors.
import { mallocTuning, native } from '../native/binding.js';
import { tensor } from './creation.js';
import { type DType, dtypeCode, dtypeFromCode } from './dtype.js';
import { Tensor } from './tensor.js';

/** Runs `fn` with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs `fn` with gradient recording on (torch.enable_grad()). */
export function enableGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/** The device types autocast has a state for. */
export type AutocastDevice = 'cpu' | 'cuda';

/**
 * Runs `fn` under libtorch's automatic mixed precision for `deviceType` (torch.autocast): the
 * operations on autocast's lower-precision list (linear, matmul, mm, bmm, addmm, baddbmm,
 * convolutions) run in `dtype`, those on its float32 list (cross_entropy, nll_loss, …) in float32,
 * and every other operation in its inputs' dtype. `dtype` null runs `fn` with autocast off (a
 * float32 region inside an autocast one). CPU takes bfloat16; CUDA float16 or bfloat16.
 * The previous state comes back when `fn` returns or throws, so scopes nest; when the outermost
 * one ends, libtorch's cache of weights cast for the scope is cleared (run the optimiser outside).
 * Call backward() outside the scope, as in PyTorch: the backward of each operation runs in the
 * dtype its forward ran in. `fn` must be synchronous.
 */
export function autocast<T>(deviceType: AutocastDevice, dtype: DType | null, fn: () => T): T {
  const code = dtype === null ? native.autocastState(deviceType).dtype : dtypeCode(dtype);
  const previous = native.autocastEnter(deviceType, dtype !== null, code);
  try {
    const result = fn();
    if (result instanceof Promise) throw new TypeError('autocast() needs a synchronous function: its state cannot follow an await');
    return result;
  } finally {
    native.autocastExit(deviceType, previous.enabled, previous.dtype);
  }
}

/** Whether autocast is on for `deviceType` here, and its dtype (torch.is_autocast_enabled / get_autocast_dtype). */
export function autocastState(deviceType: AutocastDevice): { enabled: boolean; dtype: DType } {
  const state = native.autocastState(deviceType);
  return { enabled: state.enabled, dtype: dtypeFromCode(state.dtype) };
}

/** Seeds libtorch's default generators (CPU and, when present, CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: the seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** The CPU generator's complete state, as bytes (save it in checkpoints). */
export function getRngState(): Uint8Array {
  const h = native.getRngState();
  const t = Tensor.fromHandle(h);
  try {
    return t.toArray() as Uint8Array;
  } finally {
    t.dispose();
  }
}

/** Restores a state returned by getRngState(). */
export function setRngState(state: Uint8Array): void {
  const t = tensor(state);
  try {
    native.setRngState(t.handle);
  } finally {
    t.dispose();
  }
}

/** How the package set the C library's allocator when the addon loaded (see native/binding.ts keepFreedMemory). */
export function mallocSettings(): string {
  return mallocTuning;
}

/** Intra-op threads (OpenMP) used by libtorch. */
export function getNumThreads(): number {
  return native.getNumThreads();
}

export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}

export function getNumInteropThreads(): number {
  return native.getNumInteropThreads();
}

/** Can only be called once, before any inter-op parallel work (libtorch's rule). */
export function setNumInteropThreads(n: number): void {
  native.setNumInteropThreads(n);
}

export const cuda = {
  /** True when the linked libtorch has CUDA and a GPU is visible. */
  isAvailable: (): boolean => native.cudaIsAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
};

/** Number of tensors alive in the addon (created and neither disposed nor collected). */
export function liveTensorCount(): number {
  return native.liveTensorCount();
}

/** libtorch version and parallel settings of the linked build. */
export function buildInfo(): { torchVersion: string; parallelInfo: string; cxx11Abi: boolean } {
  return native.buildInfo();
}
