// Process-wide engine state: gradient mode, random seeds, threads, devices, live tensors.
import { native } from '../native/binding.js';
import { tensor } from './creation.js';
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
