// KTO's rule of thumb for imbalanced unpaired data (Ethayarajh et al. 2024, §4.2): with n_D
// desirable and n_U undesirable examples, λ_D·n_D / (λ_U·n_U) should lie in [1, 4/3]. The ranges
// and their rounding are TRL 1.13 KTOTrainer's (which warns with them when the data is loaded).
import type { ResolvedLossConfig } from './config.js';

/** A warning with the advised ranges when the weights fall outside them, else null (also for balanced data). */
export function unpairedWeightAdvice(desirable: number, undesirable: number, config: ResolvedLossConfig): string | null {
  if (desirable === undesirable) return null;
  const nD = Math.max(desirable, 1);
  const nU = Math.max(undesirable, 1);
  const wd = config.desirable_weight;
  const wu = config.undesirable_weight;
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const desirableRange = [round2((nU * wu) / nD), round2(((nU * wu) / nD) * 1.33)] as const;
  const undesirableRange = [round2((nD * wd) / nU / 1.33), round2((nD * wd) / nU)] as const;
  const inside = (x: number, [lo, hi]: readonly [number, number]) => lo <= x && x <= hi;
  if (inside(wd, desirableRange) || inside(wu, undesirableRange)) return null;
  return (
    `${desirable} desirable and ${undesirable} undesirable examples, but desirable_weight ${wd} and undesirable_weight ${wu} ` +
    `put λ_D·n_D/(λ_U·n_U) at ${round2((wd * nD) / (wu * nU))}, outside KTO's advised [1, 4/3]: set desirable_weight in ` +
    `[${desirableRange[0]}, ${desirableRange[1]}] or undesirable_weight in [${undesirableRange[0]}, ${undesirableRange[1]}] (not both).`
  );
}
