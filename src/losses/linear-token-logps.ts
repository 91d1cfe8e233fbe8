// Log-probs of target tokens straight from final hidden states, without the [tokens, vocab]
// logits of the whole batch: the LM head runs only on the rows given (the completion tokens),
// and with a chunk size in vocabulary chunks fused with the log-softmax and the gather (the
// native op linearTokenLogps, whose backward recomputes each chunk; Liger Kernel's fused linear
// losses follow the same idea). z = h·Wᵀ, soft-capped as cap·tanh(z / cap) when the model caps
// its logits (Gemma), log p(y) = z_y − logsumexp(z), nats.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export interface LinearTokenLogpsOptions {
  /** Vocabulary entries per chunk; 0: the logits of all rows over the whole vocabulary at once. */
  chunk: number;
  /** Final logit soft-capping (the model's finalLogitSoftcap); null: none. */
  softcap: number | null;
}

export interface LinearTokenLogpsResult {
  /** [N] log p(target), float32 (float64 for a float64 model); gradients flow to hidden and weight. */
  logps: Tensor;
  /** [N] log Σ_v p(v)², the collision log-probability WPO aligns by; no gradient. */
  collision: Tensor;
}

/** hidden [N, C], weight [V, C] (the LM head), targets int64 [N] in [0, V). */
export function linearTokenLogps(
  hidden: Tensor,
  weight: Tensor,
  targets: Tensor,
  options: LinearTokenLogpsOptions,
): LinearTokenLogpsResult {
  const cap = options.softcap;
  if (options.chunk > 0) {
    const [logps, collision] = torch.linearTokenLogps(hidden, weight, targets, options.chunk, cap ?? 0);
    return { logps, collision };
  }
  return torch.tidy(() => {
    const statsType = hidden.dtype === 'float64' ? 'float64' : 'float32';
    let z = hidden.linear(weight.to(hidden.dtype)).to(statsType); // [N, V]
    if (cap !== null) z = z.div(cap).tanh().mul(cap);
    const lse = z.logsumexp(1);
    const logps = z.gather(1, targets.unsqueeze(1)).squeeze(1).sub(lse);
    const collision = torch.noGrad(() => z.mul(2).logsumexp(1).sub(lse.mul(2)));
    return { logps, collision };
  });
}
