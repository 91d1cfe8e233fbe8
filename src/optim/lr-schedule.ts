// Learning-rate schedules with Hugging Face transformers' formulas (get_scheduler), as a pure
// function of the step: the multiplier applied to the base learning rate before optimiser
// step `step` (0-based), for `totalSteps` optimiser steps of which `warmupSteps` warm up.
//   constant:              1
//   constant_with_warmup:  step/warmup during warm-up, then 1
//   linear:                step/warmup, then (total − step)/(total − warmup), floored at 0
//   cosine:                step/warmup, then ½·(1 + cos(π·progress)), progress = (step − warmup)/(total − warmup)

export const LR_SCHEDULER_TYPES = ['constant', 'constant_with_warmup', 'linear', 'cosine'] as const;
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number];

export interface LrSchedule {
  type: LrSchedulerType;
  warmupSteps: number;
  totalSteps: number;
}

export function lrMultiplier(schedule: LrSchedule, step: number): number {
  const { type, warmupSteps, totalSteps } = schedule;
  if (type === 'constant') return 1;
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  if (type === 'constant_with_warmup') return 1;
  const remaining = Math.max(1, totalSteps - warmupSteps);
  if (type === 'linear') return Math.max(0, (totalSteps - step) / remaining);
  const progress = (step - warmupSteps) / remaining;
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Warm-up steps from warmup_steps (wins when > 0) or warmup_ratio, as transformers' TrainingArguments. */
export function warmupStepsFor(totalSteps: number, warmupSteps: number, warmupRatio: number): number {
  return warmupSteps > 0 ? warmupSteps : Math.ceil(totalSteps * warmupRatio);
}
