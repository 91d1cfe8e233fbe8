// Which section of the page a metric is drawn in, following TRL's metric names: `loss`, then
// the slash families (`rewards/*`, `logps/*`, `logits/*`, `margin/*`, `gap/*`, any other
// `family/*`), optimisation (learning rate, gradient norm, epoch), throughput, then evaluation
// (`eval_*`, the Trainer's prefix for evaluation metrics).

export interface MetricGroup {
  /** Section title. */
  name: string;
  metrics: string[];
}

const FAMILY_ORDER = ['loss', 'rewards', 'logps', 'logits', 'margin', 'gap'];
const OPTIMISATION = new Set(['learning_rate', 'grad_norm', 'epoch']);
const THROUGHPUT = new Set(['tokens_per_second', 'num_tokens', 'train_runtime', 'train_samples_per_second', 'train_steps_per_second']);

/** The section a metric name belongs to. */
export function metricGroupOf(name: string): string {
  if (name.startsWith('eval_')) return 'eval';
  if (OPTIMISATION.has(name)) return 'optimisation';
  if (THROUGHPUT.has(name)) return 'throughput';
  const slash = name.indexOf('/');
  if (slash > 0) return name.slice(0, slash);
  return name === 'loss' ? 'loss' : 'other';
}

function rank(group: string): number {
  const known = FAMILY_ORDER.indexOf(group);
  if (known >= 0) return known;
  if (group === 'optimisation') return 101;
  if (group === 'throughput') return 102;
  if (group === 'other') return 103;
  if (group === 'eval') return 104;
  return 100; // another slash family (e.g. wpo/*): after the known ones
}

/** Groups metric names into sections in display order; names keep their order within a section. */
export function groupMetrics(names: Iterable<string>): MetricGroup[] {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const group = metricGroupOf(name);
    groups.set(group, [...(groups.get(group) ?? []), name]);
  }
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)).map(([name, metrics]) => ({ name, metrics }));
}
