// From run records to the study's answer: selection (by the judge's length-controlled win rate,
// as a practitioner would; by the gold win rate, as an oracle), the per-method table with 95%
// hierarchical-bootstrap intervals, the contrasts against α-DPO with Holm-adjusted p-values, a
// Welch check over seed means and P(one run beats another), and the reward–KL frontier. It reads
// whatever runs have finished, so a study can be reported part-way.

import type { CheckpointSummary, PromptValues } from './evaluate-checkpoint.js';
import { fitLcWinRate, type LcObservation } from './lc-win-rate.js';
import { cacheKey } from './run-cache.js';
import type { RunRecord } from './study-run.js';
import type { JudgeCondition, MethodConfig, StudyPreset } from './study-settings.js';
import {
  type BootstrapInterval,
  hierarchicalBootstrap,
  holmAdjust,
  probabilityOfSuperiority,
  type WelchResult,
  welchTest,
} from './study-statistics.js';

export type Selection = 'judge' | 'oracle';

/** The configuration with the best final LC win rate (judge) or gold win rate (oracle); the first on ties. */
export function selectConfig(records: readonly RunRecord[], by: Selection): MethodConfig {
  const score = (r: RunRecord) => {
    const last = r.checkpoints[r.checkpoints.length - 1] as CheckpointSummary;
    return by === 'judge' ? last.lcWin : last.goldWin;
  };
  let best = records[0] as RunRecord;
  for (const r of records) if (score(r) > score(best)) best = r;
  return best.spec.config;
}

/** Metrics with a bootstrap interval, in the table's order. */
export const TABLE_METRICS = ['goldWin', 'q', 'judgeWin', 'lcWin', 'lcGap', 'klExact', 'length'] as const;
export type TableMetric = (typeof TABLE_METRICS)[number];

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface MethodResult {
  condition: JudgeCondition;
  method: string;
  /** Which selection picked this configuration ('judge' also covers an untuned, single-configuration method). */
  selections: Selection[];
  config: MethodConfig;
  seeds: number[];
  metrics: Record<TableMetric, Interval>;
  /** Seed means of corpus-level metrics (no per-prompt values to resample). */
  distinct2: number;
  teacherNll: number;
  klMonteCarlo: number;
  /** Final-checkpoint values of each seed's run, for the seed scatter. */
  perSeed: { seed: number; goldWin: number; q: number; klExact: number; length: number }[];
  /** Mean over seeds at each checkpoint (step 0 = the SFT model). */
  trajectory: CheckpointSummary[];
  /** Gold q on the mean frontier at KL = 2, 5, 10 nats (null beyond the frontier's reach). */
  qAtKl: Record<string, number | null>;
}

export interface Contrast {
  condition: JudgeCondition;
  a: string;
  b: string;
  /** Gold win rate of a − b at the end, paired by seed and prompt. */
  difference: BootstrapInterval;
  /** Holm-adjusted p over the primary contrasts; NaN for a secondary one. */
  holmP: number;
  welch: WelchResult;
  /** P(a run of a has a higher final gold win rate than a run of b). */
  superiority: number;
  seeds: number;
}

export interface TuningRow {
  condition: JudgeCondition;
  method: string;
  config: MethodConfig;
  lcWin: number;
  goldWin: number;
  klExact: number;
}

export interface StudyAnalysis {
  methods: MethodResult[];
  contrasts: Contrast[];
  tuning: TuningRow[];
  runsDone: number;
}

export const KL_TARGETS = [2, 5, 10] as const;
export const REFERENCE_METHOD = 'α-DPO';
/** The design's primary contrasts are α-DPO against these; Holm's correction runs over them. Others are secondary (unadjusted). */
export const PRIMARY_COMPARATORS: readonly string[] = ['SimPO', 'DPO'];

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const last = (r: RunRecord) => r.checkpoints[r.checkpoints.length - 1] as CheckpointSummary;

type PerPromptKey = 'q' | 'goldWin' | 'judgeWin' | 'klExact' | 'length';

/** Mean over drawn seeds of the mean over drawn prompts of a per-prompt value. */
function nestedMean(runs: readonly RunRecord[], value: (f: PromptValues, p: number) => number) {
  return (seeds: readonly number[], prompts: readonly (readonly number[])[]) =>
    mean(seeds.map((s, i) => mean((prompts[i] as number[]).map((p) => value((runs[s] as RunRecord).final, p)))));
}

function lcStatistic(runs: readonly RunRecord[], gap: boolean) {
  return (seeds: readonly number[], prompts: readonly (readonly number[])[]) => {
    const obs: LcObservation[] = [];
    const wins: number[] = [];
    seeds.forEach((s, i) => {
      const f = (runs[s] as RunRecord).final;
      for (const p of prompts[i] as number[]) {
        (f.judgeLabel[p] as number[]).forEach((label, j) => {
          obs.push({ label, lengthDiff: f.lengthDiff[p]?.[j] as number });
        });
        wins.push(f.goldWin[p] as number);
      }
    });
    const lc = fitLcWinRate(obs).lcWinRate;
    return gap ? lc - mean(wins) : lc;
  };
}

function interval(b: BootstrapInterval): Interval {
  return { estimate: b.estimate, low: b.low, high: b.high };
}

/** Linear interpolation of q at `kl` along checkpoints sorted by KL; null outside the covered range. */
export function qAtKl(points: readonly { kl: number; q: number }[], kl: number): number | null {
  const sorted = [...points].sort((a, b) => a.kl - b.kl);
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as { kl: number; q: number };
    const b = sorted[i + 1] as { kl: number; q: number };
    if (a.kl <= kl && kl <= b.kl) return b.kl === a.kl ? a.q : a.q + ((kl - a.kl) / (b.kl - a.kl)) * (b.q - a.q);
  }
  return null;
}

function averageTrajectory(runs: readonly RunRecord[]): CheckpointSummary[] {
  const count = Math.min(...runs.map((r) => r.checkpoints.length));
  return Array.from({ length: count }, (_, i) => {
    const at = runs.map((r) => r.checkpoints[i] as CheckpointSummary);
    const out = { ...(at[0] as CheckpointSummary) };
    for (const key of Object.keys(out) as (keyof CheckpointSummary)[]) out[key] = mean(at.map((c) => c[key]));
    return out;
  });
}

export function analyseStudy(preset: StudyPreset, records: readonly RunRecord[]): StudyAnalysis {
  const replicates = preset.bootstrapReplicates;
  const tuning: TuningRow[] = records
    .filter((r) => r.spec.split === 'validation')
    .map((r) => ({ condition: r.spec.condition, method: r.spec.method, config: r.spec.config, ...pick(last(r)) }));
  const methods: MethodResult[] = [];
  for (const condition of preset.conditions) {
    for (const method of preset.methods) {
      const tuned = records.filter((r) => r.spec.condition === condition && r.spec.method === method.name && r.spec.split === 'validation');
      const confirm = records.filter((r) => r.spec.condition === condition && r.spec.method === method.name && r.spec.split === 'test');
      const picks: { selection: Selection; config: MethodConfig }[] =
        tuned.length > 0
          ? [
              { selection: 'judge', config: selectConfig(tuned, 'judge') },
              { selection: 'oracle', config: selectConfig(tuned, 'oracle') },
            ]
          : [...new Map(confirm.map((r) => [cacheKey(r.spec.config), r.spec.config])).values()].map((config) => ({
              selection: 'judge' as const,
              config,
            }));
      const byConfig = new Map<string, { config: MethodConfig; selections: Selection[] }>();
      for (const p of picks) {
        const k = cacheKey(p.config);
        const entry = byConfig.get(k) ?? { config: p.config, selections: [] };
        entry.selections.push(p.selection);
        byConfig.set(k, entry);
      }
      for (const [k, { config, selections }] of byConfig) {
        const runs = confirm.filter((r) => cacheKey(r.spec.config) === k).sort((a, b) => a.spec.seed - b.spec.seed);
        if (runs.length === 0) continue;
        const options = { seeds: runs.length, prompts: (runs[0] as RunRecord).final.q.length, replicates, rngSeed: 17 };
        const boot = (key: PerPromptKey) =>
          interval(
            hierarchicalBootstrap(
              nestedMean(runs, (f, p) => f[key][p] as number),
              options,
            ),
          );
        const trajectory = averageTrajectory(runs);
        const frontier = trajectory.map((c) => ({ kl: c.klExact, q: c.q }));
        methods.push({
          condition,
          method: method.name,
          selections,
          config,
          seeds: runs.map((r) => r.spec.seed),
          metrics: {
            goldWin: boot('goldWin'),
            q: boot('q'),
            judgeWin: boot('judgeWin'),
            lcWin: interval(hierarchicalBootstrap(lcStatistic(runs, false), options)),
            lcGap: interval(hierarchicalBootstrap(lcStatistic(runs, true), options)),
            klExact: boot('klExact'),
            length: boot('length'),
          },
          distinct2: mean(runs.map((r) => last(r).distinct2)),
          teacherNll: mean(runs.map((r) => last(r).teacherNll)),
          klMonteCarlo: mean(runs.map((r) => last(r).klMonteCarlo)),
          perSeed: runs.map((r) => ({
            seed: r.spec.seed,
            goldWin: last(r).goldWin,
            q: last(r).q,
            klExact: last(r).klExact,
            length: last(r).length,
          })),
          trajectory,
          qAtKl: Object.fromEntries(KL_TARGETS.map((t) => [String(t), qAtKl(frontier, t)])),
        });
      }
    }
  }
  return { methods, contrasts: contrasts(preset, methods, records), tuning, runsDone: records.length };
}

function pick(c: CheckpointSummary) {
  return { lcWin: c.lcWin, goldWin: c.goldWin, klExact: c.klExact };
}

/** The judge-selected row of each method per condition against α-DPO's, paired by seed; Holm over all of a condition's contrasts. */
function contrasts(preset: StudyPreset, methods: readonly MethodResult[], records: readonly RunRecord[]): Contrast[] {
  const out: Contrast[] = [];
  for (const condition of preset.conditions) {
    const judged = methods.filter((m) => m.condition === condition && m.selections.includes('judge'));
    const reference = judged.find((m) => m.method === REFERENCE_METHOD);
    if (!reference) continue;
    const runsOf = (m: MethodResult) =>
      records.filter(
        (r) =>
          r.spec.condition === condition &&
          r.spec.method === m.method &&
          r.spec.split === 'test' &&
          cacheKey(r.spec.config) === cacheKey(m.config),
      );
    const found: Contrast[] = [];
    for (const other of judged) {
      if (other === reference) continue;
      const a = runsOf(reference);
      const b = runsOf(other);
      const seeds = a.map((r) => r.spec.seed).filter((s) => b.some((r) => r.spec.seed === s));
      if (seeds.length === 0) continue;
      const pa = seeds.map((s) => a.find((r) => r.spec.seed === s) as RunRecord);
      const pb = seeds.map((s) => b.find((r) => r.spec.seed === s) as RunRecord);
      const difference = hierarchicalBootstrap(
        (ss, ps) =>
          mean(
            ss.map((s, i) =>
              mean(
                (ps[i] as number[]).map(
                  (p) => ((pa[s] as RunRecord).final.goldWin[p] as number) - ((pb[s] as RunRecord).final.goldWin[p] as number),
                ),
              ),
            ),
          ),
        { seeds: seeds.length, prompts: (pa[0] as RunRecord).final.goldWin.length, replicates: preset.bootstrapReplicates, rngSeed: 23 },
      );
      const wa = pa.map((r) => last(r).goldWin);
      const wb = pb.map((r) => last(r).goldWin);
      found.push({
        condition,
        a: reference.method,
        b: other.method,
        difference,
        holmP: Number.NaN,
        welch: welchTest(wa, wb),
        superiority: probabilityOfSuperiority(wa, wb),
        seeds: seeds.length,
      });
    }
    const primary = found.filter((c) => PRIMARY_COMPARATORS.includes(c.b));
    const adjusted = holmAdjust(primary.map((c) => c.difference.pValue));
    primary.forEach((c, i) => {
      c.holmP = adjusted[i] as number;
    });
    out.push(...found);
  }
  return out;
}
