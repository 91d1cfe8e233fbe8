import type { NativeOptions } from '../native/handle.js';
import { type DType, dtypeCode } from './dtype.js';

/** `cpu`, `cuda` or `cuda:N` (CUDA needs a CUDA build of libtorch, see the README). */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export function nativeOptions(options: TensorOptions): NativeOptions {
  const out: NativeOptions = {};
  if (options.dtype !== undefined) out.dtype = dtypeCode(options.dtype);
  if (options.device !== undefined) out.device = options.device;
  if (options.requiresGrad !== undefined) out.requiresGrad = options.requiresGrad;
  return out;
}
