// Parameters without data: each one is a single zero broadcast to its shape (a view that owns one
// element, whatever the shape), so a model can be built just to learn which parameters it
// declares, with their names and shapes, before a checkpoint's tensor data is read.
import type { DType } from '../tensor/dtype.js';
import { zeros } from '../tensor/functions.generated.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Initializer, ParameterSource } from './parameter-store.js';

export class ShapeOnlySource implements ParameterSource {
  take(_name: string, shape: readonly number[], dtype: DType, _init: Initializer): Tensor {
    return tidy(() => zeros([], { dtype }).expand(shape));
  }
}
