// Parameters drawn from their initialisers (training from scratch, tests). Draws use libtorch's
// default generator, so torch.manualSeed(s) before building a model makes it reproducible.
import type { DType } from '../tensor/dtype.js';
import { ones, randn, zeros } from '../tensor/functions.generated.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Initializer, ParameterSource } from './parameter-store.js';

export class RandomSource implements ParameterSource {
  take(_name: string, shape: readonly number[], dtype: DType, init: Initializer): Tensor {
    switch (init.kind) {
      case 'zeros':
        return zeros(shape, { dtype });
      case 'ones':
        return ones(shape, { dtype });
      case 'normal': {
        // Drawn in float32 and rounded once, so a bfloat16 model gets the same values as a float32 one, rounded.
        const draw = randn(shape);
        const scaled = draw.mul_(init.std);
        if (dtype === 'float32') return scaled;
        const cast = scaled.to(dtype);
        scaled.dispose();
        return cast;
      }
    }
  }
}
