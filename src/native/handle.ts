/** An opaque reference to one libtorch tensor owned by the native addon (a slot number; see native/src/tensor_handle.h). */
export type Handle = number & { readonly __brand: 'alpha-dpo.TensorHandle' };

/** Tensor options as the addon reads them: dtype as a c10::ScalarType code. */
export interface NativeOptions {
  dtype?: number;
  device?: string;
  requiresGrad?: boolean;
}
