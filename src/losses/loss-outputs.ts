// What every loss call does with its outputs, pairs or unpaired examples alike: read the metrics
// and the losses' finiteness in one transfer, and turn a non-finite loss into a typed error.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { ConfigKey, ResolvedLossConfig } from './config.js';
import { NonFiniteLossError } from './errors.js';

/** Reads every metric, and whether every loss is finite, in one device-to-host transfer. */
export function readMetrics(metrics: Record<string, Tensor | number>, losses: Tensor): { values: Record<string, number>; finite: boolean } {
  const names = Object.keys(metrics);
  const tensorNames = names.filter((n) => typeof metrics[n] !== 'number');
  const scalars = [losses.detach().isfinite().all(), ...tensorNames.map((n) => (metrics[n] as Tensor).detach().reshape([]))];
  const [finite, ...read] = torch.stack(scalars.map((t) => t.to('float64'))).toNumbers();
  const values: Record<string, number> = {};
  for (const name of names) {
    const m = metrics[name] as Tensor | number;
    values[name] = typeof m === 'number' ? m : (read[tensorNames.indexOf(name)] as number);
  }
  return { values, finite: finite === 1 };
}

/** The typed error for non-finite losses: which rows, their values, and the settings that made them. */
export function nonFiniteLoss(losses: Tensor, config: ResolvedLossConfig, keys: readonly ConfigKey[]): NonFiniteLossError {
  const values = losses.detach().to('float64').toNumbers();
  const rows = values.flatMap((v, i) => (Number.isFinite(v) ? [] : [i]));
  const settings = [...new Set(keys)]
    .filter((k) => config[k] !== null)
    .map((k) => `${k} ${typeof config[k] === 'string' ? `'${config[k]}'` : String(config[k])}`)
    .join(', ');
  return new NonFiniteLossError(
    rows,
    rows.map((i) => values[i] as number),
    settings,
  );
}
