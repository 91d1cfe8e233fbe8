// f-DPO scores (Wang et al. 2023, arXiv 2309.16240): the loss sees f′(u) of each probability
// ratio u = π_θ/π_ref instead of log u, constants dropped. Formulas as TRL ≥ 0.29's _compute_loss.
import type { Tensor } from '../tensor/tensor.js';
import type { ResolvedLossConfig } from './config.js';
import { logRatios } from './shared-terms.js';
import type { LossContext } from './types.js';

// Largest exponent kept before exp(), per dtype, so the score stays finite (TRL clamps float32 and
// bfloat16 at 80 and float16 at 11; float64 is not in TRL's table, we use 700 < log(DBL_MAX) ≈ 709.8).
const EXP_CAP: Record<string, number> = { float64: 700, float32: 80, bfloat16: 80, float16: 11 };

/** f′(u) of the ratio u = e^ρ for the configured divergence, additive constants dropped (ρ in nats). */
export function fDivergenceScore(rho: Tensor, config: ResolvedLossConfig): Tensor {
  switch (config.f_divergence_type) {
    case 'reverse_kl': // f′(u) = log u + 1: plain DPO
      return rho;
    case 'forward_kl': // f′(u) = 1 − 1/u → −exp(−ρ)
      return rho.neg().exp().neg();
    case 'js_divergence': // f′(u) = log(2u/(1 + u)) → log σ(ρ)
      return rho.logSigmoid();
    case 'alpha_divergence': {
      // f′(u) = (u^(a−1) − 1)/(a − 1) → exp((a − 1)ρ)/(a − 1); a → 1 is reverse KL.
      const a = config.f_alpha_divergence_coef;
      if (Math.abs(a - 1) < 1e-6) return rho;
      const cap = EXP_CAP[rho.dtype] ?? 80;
      return rho
        .mul(a - 1)
        .clamp(null, cap)
        .exp()
        .div(a - 1);
    }
  }
}

/** The f-divergence scores s_w = f′(u_w), s_l = f′(u_l) of the chosen and rejected completions (nats for reverse_kl). */
export function fDivergenceScores(context: LossContext): { chosen: Tensor; rejected: Tensor } {
  const rho = logRatios(context);
  return { chosen: fDivergenceScore(rho.chosen, context.config), rejected: fDivergenceScore(rho.rejected, context.config) };
}

/** Δ = s_w − s_l: DPO's Δπ − Δref when f_divergence_type is reverse_kl. */
export function scoreDelta(context: LossContext): Tensor {
  const s = fDivergenceScores(context);
  return s.chosen.sub(s.rejected);
}
