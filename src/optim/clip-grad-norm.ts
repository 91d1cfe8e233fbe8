// Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ (norm_type 2):
// total = ‖(‖g_1‖, …, ‖g_n‖)‖₂; every gradient is scaled by min(1, maxNorm / (total + 1e-6)).
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

/** Clips in place and returns the total norm before clipping (what TRL logs as grad_norm). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  return torch.noGrad(() =>
    torch.tidy(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const total = torch
        .stack(grads.map((g) => g.norm(2, null, false).to('float32')))
        .norm(2)
        .item();
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) g.mul_(coef);
      return total;
    }),
  );
}
