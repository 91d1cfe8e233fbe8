// Tensor creation from JS data, and the creation functions whose PyTorch signatures are
// overloaded (arange, randint). The plain factories (zeros, ones, randn, ...) are generated.
import { native } from '../native/binding.js';
import { type AnyTypedArray, type DType, dtypeCode, isFloatingPoint } from './dtype.js';
import { nativeOptions, type TensorOptions } from './options.js';
import { type NestedArray, Tensor } from './tensor.js';

type Source = { array: AnyTypedArray; dtype: DType };

function typedArrayDtype(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  return 'uint8';
}

function inferShape(data: NestedArray | bigint | readonly bigint[]): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(data: unknown, shape: readonly number[], dim: number, out: unknown[], path: string): void {
  if (dim === shape.length) {
    if (typeof data !== 'number' && typeof data !== 'boolean' && typeof data !== 'bigint') {
      throw new TypeError(
        `tensor(): element ${path || '[]'} is ${Array.isArray(data) ? 'an array' : typeof data}, expected a number, boolean or bigint (ragged nesting?)`,
      );
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new TypeError(
      `tensor(): ragged nested array: ${path || 'the top level'} has ${Array.isArray(data) ? `length ${data.length}` : 'no array'} where length ${shape[dim]} was expected`,
    );
  }
  for (let i = 0; i < data.length; i++) flatten(data[i], shape, dim + 1, out, `${path}[${i}]`);
}

// Builds the source array directly in the target dtype where JS has one (so int64 values up to
// 2^53 and float64 values arrive exactly); float16/bfloat16 go through float32.
function fromValues(values: unknown[], dtype: DType): Source {
  switch (dtype) {
    case 'float64':
      return { array: Float64Array.from(values, Number), dtype };
    case 'int64':
      return { array: BigInt64Array.from(values, (v) => (typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))))), dtype };
    case 'int32':
      return { array: Int32Array.from(values, Number), dtype };
    case 'uint8':
      return { array: Uint8Array.from(values, Number), dtype };
    case 'bool':
      return { array: Uint8Array.from(values, (v) => (v ? 1 : 0)), dtype };
    default:
      return { array: Float32Array.from(values, Number), dtype: 'float32' };
  }
}

/**
 * A new tensor holding a copy of `data`: a number, nested arrays, or a TypedArray (1-D).
 * Default dtype: float32 for numbers (JS cannot tell 1 from 1.0, so integers are not guessed),
 * bool for booleans, int64 for bigints, the array's own type for a TypedArray.
 */
export function tensor(data: NestedArray | bigint | readonly bigint[] | AnyTypedArray, options: TensorOptions = {}): Tensor {
  let source: Source;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    const array = data as AnyTypedArray;
    shape = [array.length];
    source = { array, dtype: typedArrayDtype(array) };
    if (options.dtype === 'bool' && source.dtype === 'uint8') source = { array, dtype: 'bool' };
  } else {
    shape = inferShape(data as NestedArray);
    const values: unknown[] = [];
    flatten(data, shape, 0, values, '');
    const first = values[0];
    const natural: DType = typeof first === 'boolean' ? 'bool' : typeof first === 'bigint' ? 'int64' : 'float32';
    source = fromValues(values, options.dtype ?? natural);
  }
  let t = Tensor.fromHandle(native.fromBuffer(source.array, shape, dtypeCode(source.dtype)));
  const dtype = options.dtype ?? source.dtype;
  if (dtype !== source.dtype || (options.device !== undefined && options.device !== 'cpu')) {
    const moved = t.to({ dtype, device: options.device ?? 'cpu' });
    t.dispose();
    t = moved;
  }
  if (options.requiresGrad) {
    if (!isFloatingPoint(dtype)) throw new TypeError(`tensor(): only floating-point tensors can require gradients, not ${dtype}`);
    t.requiresGrad_(true);
  }
  return t;
}

/**
 * Values from `start` to `end` (exclusive) by `step`; `arange(end)` starts at 0. Integer
 * arguments give int64, any fractional one float32 (as PyTorch does with Python numbers).
 */
export function arange(end: number, options?: TensorOptions): Tensor;
export function arange(start: number, end: number, step?: number, options?: TensorOptions): Tensor;
export function arange(a: number, b?: number | TensorOptions, c?: number | TensorOptions, d?: TensorOptions): Tensor {
  if (typeof b !== 'number') return Tensor.fromHandle(native.arangeRange(0, a, 1, nativeOptions(b ?? {})));
  const step = typeof c === 'number' ? c : 1;
  const options = (typeof c === 'number' ? d : c) ?? {};
  return Tensor.fromHandle(native.arangeRange(a, b, step, nativeOptions(options)));
}

/** Random integers in [low, high); `randint(high, size)` uses low = 0. int64 unless options.dtype says otherwise. */
export function randint(high: number, size: number | readonly number[], options?: TensorOptions): Tensor;
export function randint(low: number, high: number, size: number | readonly number[], options?: TensorOptions): Tensor;
export function randint(
  a: number,
  b: number | readonly number[],
  c?: number | readonly number[] | TensorOptions,
  d?: TensorOptions,
): Tensor {
  const [low, high, size, options] =
    typeof b === 'number' ? [a, b, c as number | readonly number[], d ?? {}] : [0, a, b, (c as TensorOptions | undefined) ?? {}];
  return Tensor.fromHandle(native.randintRange(low, high, size, nativeOptions({ dtype: 'int64', ...options })));
}

/** Splits `t` into pieces (see Tensor.split). */
export function split(t: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  return t.split(splitSizeOrSections, dim);
}
