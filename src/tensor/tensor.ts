// The Tensor class: one libtorch tensor behind a native handle. Operations come from the
// generated TensorMethods; this file holds what needs hand-written care: metadata, data in
// and out, conversion, autograd accessors and lifetime.
import { inspect } from 'node:util';
import { native } from '../native/binding.js';
import type { Handle } from '../native/handle.js';
import { type AnyTypedArray, type DType, dtypeCode, dtypeFromCode } from './dtype.js';
import { formatTensor } from './format.js';
import { TensorMethods } from './methods.generated.js';
import type { Device } from './options.js';
import { track } from './scope.js';

export interface ToOptions {
  dtype?: DType;
  device?: Device;
  /** Always return a new tensor, even when nothing changes (PyTorch's copy=True). */
  copy?: boolean;
}

export type NestedArray = number | boolean | NestedArray[];

// Safety net for tensors that are never disposed: when the Tensor object is collected, its
// slot is freed. dispose() unregisters, so disposed tensors leave nothing pending here.
const collected = new FinalizationRegistry<Handle>((handle) => {
  native.dispose(handle);
});

export class Tensor extends TensorMethods {
  readonly handle: Handle;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;

  constructor(handle: Handle) {
    super();
    this.handle = handle;
    collected.register(this, handle, this);
    track(this);
  }

  static fromHandle(handle: Handle): Tensor {
    return new Tensor(handle);
  }

  protected wrap(handle: Handle): Tensor {
    return new Tensor(handle);
  }

  // ---- metadata (shape and dtype never change for a given handle in this API) ----

  get shape(): readonly number[] {
    this.#shape ??= Object.freeze(native.shape(this.handle));
    return this.#shape;
  }

  get dtype(): DType {
    this.#dtype ??= dtypeFromCode(native.dtype(this.handle));
    return this.#dtype;
  }

  get device(): string {
    return native.device(this.handle);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Size of dimension `dim` (negative counts from the end). */
  size(dim: number): number {
    const d = dim < 0 ? dim + this.ndim : dim;
    const s = this.shape[d];
    if (s === undefined) throw new RangeError(`dimension ${dim} out of range for a ${this.ndim}-d tensor`);
    return s;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get strides(): number[] {
    return native.strides(this.handle);
  }

  get isContiguous(): boolean {
    return native.isContiguous(this.handle);
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }

  set requiresGrad(value: boolean) {
    this.requiresGrad_(value);
  }

  /** The accumulated gradient (a new handle sharing its memory), or null. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle);
    return h === null ? null : new Tensor(h);
  }

  set grad(value: Tensor | null) {
    native.setGrad(this.handle, value === null ? null : value.handle);
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }

  /** Name of the autograd node that produced this tensor (e.g. "MulBackward0"), or null. */
  get gradFn(): string | null {
    return native.gradFnName(this.handle);
  }

  /** Keep .grad for this non-leaf tensor after backward(). */
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }

  // ---- data out ----

  /** The single value of a one-element tensor. */
  item(): number {
    return Number(native.item(this.handle));
  }

  /**
   * A copy of the elements in row-major order: Float32Array for float32, float16 and bfloat16
   * (widened exactly), Float64Array, BigInt64Array for int64, Int32Array, Uint8Array for uint8
   * and bool.
   */
  toArray(): AnyTypedArray {
    const dtype = this.dtype;
    if (dtype === 'float16' || dtype === 'bfloat16') {
      const wide = this.to('float32');
      try {
        return new Float32Array(native.toBuffer(wide.handle));
      } finally {
        wide.dispose();
      }
    }
    const buffer = native.toBuffer(this.handle);
    switch (dtype) {
      case 'float32':
        return new Float32Array(buffer);
      case 'float64':
        return new Float64Array(buffer);
      case 'int64':
        return new BigInt64Array(buffer);
      case 'int32':
        return new Int32Array(buffer);
      default:
        return new Uint8Array(buffer);
    }
  }

  /** The elements as plain numbers (int64 beyond 2^53 loses precision). */
  toNumbers(): number[] {
    const a = this.toArray();
    return a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a as ArrayLike<number>);
  }

  /** Nested JS arrays of numbers (booleans for bool tensors), like PyTorch's tolist(). */
  tolist(): NestedArray {
    const flat = this.toNumbers();
    const bool = this.dtype === 'bool';
    const shape = this.shape;
    if (shape.length === 0) return bool ? flat[0] === 1 : (flat[0] as number);
    let offset = 0;
    const build = (dim: number): NestedArray[] => {
      const n = shape[dim] as number;
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        if (dim === shape.length - 1) {
          const v = flat[offset++] as number;
          out.push(bool ? v === 1 : v);
        } else out.push(build(dim + 1));
      }
      return out;
    };
    return build(0);
  }

  /**
   * An ArrayBuffer aliasing this tensor's memory (no copy; writes change the tensor). Only for
   * contiguous CPU tensors; the buffer keeps the memory alive. Used for file I/O.
   */
  dataView(): ArrayBuffer {
    return native.dataView(this.handle);
  }

  // ---- conversion ----

  /** Converts dtype and/or device; returns this same tensor's data when nothing changes (as PyTorch does). */
  to(target: DType | Device | ToOptions): Tensor {
    const opts: ToOptions =
      typeof target === 'string'
        ? target === 'cpu' || target.startsWith('cuda')
          ? { device: target as Device }
          : { dtype: target as DType }
        : target;
    return this.wrap(
      native.toTyped(this.handle, opts.dtype === undefined ? null : dtypeCode(opts.dtype), opts.device ?? null, opts.copy ?? false),
    );
  }

  float(): Tensor {
    return this.to('float32');
  }

  double(): Tensor {
    return this.to('float64');
  }

  long(): Tensor {
    return this.to('int64');
  }

  int(): Tensor {
    return this.to('int32');
  }

  bool(): Tensor {
    return this.to('bool');
  }

  /** Splits into pieces of `splitSize` along `dim` (the last may be smaller), or into the given sizes. */
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    const handles =
      typeof splitSizeOrSections === 'number'
        ? native.splitEqual(this.handle, splitSizeOrSections, dim)
        : native.splitSizes(this.handle, splitSizeOrSections, dim);
    return handles.map((h) => new Tensor(h));
  }

  // ---- lifetime ----

  /** Releases the tensor's memory now. Later use throws; a second dispose() does nothing. */
  dispose(): void {
    if (native.dispose(this.handle)) collected.unregister(this);
  }

  get isDisposed(): boolean {
    return !native.isLive(this.handle);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- display ----

  toString(): string {
    if (this.isDisposed) return 'tensor(<disposed>)';
    const parts: string[] = [];
    const dtype = this.dtype;
    if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') parts.push(`dtype=${dtype}`);
    const device = this.device;
    if (device !== 'cpu') parts.push(`device='${device}'`);
    const fn = this.gradFn;
    if (fn) parts.push(`gradFn=<${fn}>`);
    else if (this.requiresGrad) parts.push('requiresGrad=true');
    if (this.numel === 0) parts.push(`size=[${this.shape.join(', ')}]`);
    const suffix = parts.length ? `, ${parts.join(', ')}` : '';
    return formatTensor(this.toNumbers(), this.shape, dtype, suffix);
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
