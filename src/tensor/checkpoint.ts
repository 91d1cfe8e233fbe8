// Activation checkpointing (torch.utils.checkpoint, PyTorch's reentrant form): a block's
// intermediate activations are not kept for backward but recomputed there. The native side
// (core.cc, CheckpointBackward) runs the block under no-grad, keeps its input and the CPU RNG and
// autocast state, and on backward replays it with gradients on, from that state, so dropout
// draws the same masks and the gradients equal those of the plain computation.
import { native } from '../native/binding.js';
import type { Handle } from '../native/handle.js';
import { isGradEnabled } from './runtime.js';
import { keep, tidy } from './scope.js';
import { Tensor } from './tensor.js';

/**
 * `fn(input, ...context)` without keeping the activations inside `fn`; backward recomputes them.
 * `fn` must read tensors only from its arguments or from long-lived objects (parameters): the
 * tensors it needs besides `input` (masks, rotary tables) go in `context`, which is held until
 * backward, whatever scope created them. Parameters used by `fn` get their gradients during the
 * replay. Without gradients (no-grad, or an input that does not require them) it is a plain call.
 * CPU tensors only (CUDA's backward runs on its own threads, which cannot call JavaScript).
 */
export function checkpoint(fn: (input: Tensor, ...context: Tensor[]) => Tensor, input: Tensor, context: readonly Tensor[] = []): Tensor {
  if (!isGradEnabled() || !input.requiresGrad) return fn(input, ...context);
  const run = (x: Handle, ctx: Handle[]): Handle => {
    // The block's intermediates are released as soon as it returns; its output is handed to the
    // native side, which takes it and releases this handle.
    const out = tidy(() => fn(Tensor.fromHandle(x), ...ctx.map((h) => Tensor.fromHandle(h))));
    if (!(out instanceof Tensor)) throw new TypeError('checkpoint: the function must return a Tensor');
    return keep(out).handle;
  };
  return Tensor.fromHandle(
    native.checkpoint(
      run,
      input.handle,
      context.map((t) => t.handle),
    ),
  );
}
