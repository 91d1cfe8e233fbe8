// The study's analysis and verdict on synthetic run records whose answer is known by
// construction: selection by the judge's LC win rate against the oracle's gold win rate, a
// contrast whose interval must exclude 0 (called a difference) and one that must not ("no
// difference detected at this power"), and Holm over the two primary contrasts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckpointSummary } from '../src/study/evaluate-checkpoint.js';
import type { StudyPlan } from '../src/study/run-study.js';
import { analyseStudy, selectConfig } from '../src/study/study-analysis.js';
import type { RunRecord } from '../src/study/study-run.js';
import { PRESETS } from '../src/study/study-settings.js';
import { studyVerdict } from '../src/study/study-verdict.js';

const PROMPTS = 40;

function checkpoint(step: number, goldWin: number, lcWin: number): CheckpointSummary {
  return {
    step,
    q: goldWin - 0.5,
    goldWin,
    judgeWin: lcWin,
    lcWin,
    lcGap: lcWin - goldWin,
    klExact: step / 10,
    klMonteCarlo: step / 10,
    klExactPerToken: step / 100,
    length: 20 + step,
    distinct2: 0.9,
    teacherNll: 3,
    unfinished: 0,
  };
}

/** A run whose per-prompt gold wins alternate around `goldWin` (± 0.05) so the prompt bootstrap has some spread. */
function record(
  method: string,
  seed: number,
  goldWin: number,
  options: { split?: 'test' | 'validation'; lcWin?: number; config?: Record<string, number> } = {},
): RunRecord {
  const wins = Array.from({ length: PROMPTS }, (_, p) => goldWin + (p % 2 === 0 ? 0.05 : -0.05));
  return {
    key: `${method}-${seed}-${options.split ?? 'test'}-${JSON.stringify(options.config ?? {})}`,
    spec: { condition: 'biased', method, lossType: 'simpo', config: options.config ?? { beta: 2 }, seed, split: options.split ?? 'test' },
    steps: 10,
    finalLoss: 0.5,
    seconds: 1,
    checkpoints: [checkpoint(0, 0.5, 0.5), checkpoint(10, goldWin, options.lcWin ?? goldWin)],
    final: {
      q: wins.map((w) => w - 0.5),
      goldWin: wins,
      judgeWin: wins,
      length: wins.map(() => 25),
      klExact: wins.map(() => 1),
      judgeLabel: wins.map((w) => [w > 0.5 ? 1 : 0, 1]),
      lengthDiff: wins.map((_, p) => [p % 3, -(p % 2)]),
    },
  };
}

const preset = { ...PRESETS.quick, bootstrapReplicates: 400 };

describe('study analysis', () => {
  test('the judge picks by LC win rate, the oracle by gold win rate', () => {
    const a = record('SimPO', 100, 0.6, { split: 'validation', lcWin: 0.7, config: { beta: 2 } });
    const b = record('SimPO', 100, 0.65, { split: 'validation', lcWin: 0.6, config: { beta: 10 } });
    assert.deepEqual(selectConfig([a, b], 'judge'), { beta: 2 });
    assert.deepEqual(selectConfig([a, b], 'oracle'), { beta: 10 });
  });

  test('a clear gap is called a difference; none is "no difference detected at this power"', () => {
    // α-DPO wins 0.62 on every seed and SimPO 0.50: 12 points, seeds and prompts both tight.
    // DPO matches α-DPO to within 0.002 between seeds: no difference.
    const seeds = [0, 1, 2];
    const records = seeds.flatMap((s) => [
      record('DPO', s, 0.62 + (s - 1) * 0.002),
      record('SimPO', s, 0.5),
      record('α-DPO', s, 0.62 - (s - 1) * 0.002),
    ]);
    const analysis = analyseStudy(preset, records);
    const simpo = analysis.contrasts.find((c) => c.b === 'SimPO');
    const dpo = analysis.contrasts.find((c) => c.b === 'DPO');
    assert.ok(simpo && dpo);
    assert.ok(Math.abs(simpo.difference.estimate - 0.12) < 1e-12);
    assert.ok(simpo.difference.low > 0.1 && simpo.difference.high < 0.14, `[${simpo.difference.low}, ${simpo.difference.high}]`);
    assert.ok(Math.abs(dpo.difference.estimate) < 1e-12);
    assert.ok(dpo.difference.low < 0 && dpo.difference.high > 0);
    // Holm over 2: the smaller p (SimPO's, the bootstrap floor 1/400) is doubled.
    assert.equal(simpo.holmP, 2 / 400);
    assert.equal(simpo.superiority, 1);
    const plan = { preset, world: { calibration: { judge: { lambda: 0.5 }, longerWinsBiased: 0.68 } } } as unknown as StudyPlan;
    const verdict = studyVerdict(plan, analysis).join('\n');
    assert.match(verdict, /α-DPO beat SimPO: its gold win rate against SFT differs by \+12\.0 points/);
    assert.match(verdict, /α-DPO against DPO: no difference detected at this power \(3 seeds × 256 prompts\)/);
  });

  test('the verdict reports the oracle pick and the λ = 0 control when the study has them', () => {
    // SimPO tuned: the judge picks β = 2 (LC 0.7, gold 0.6), the oracle β = 10 (gold 0.65); confirmation
    // wins 0.55 (judge pick) and 0.60 (oracle pick): the practitioner's pick costs 5 points.
    const tuned = [
      record('SimPO', 100, 0.6, { split: 'validation', lcWin: 0.7, config: { beta: 2 } }),
      record('SimPO', 100, 0.65, { split: 'validation', lcWin: 0.6, config: { beta: 10 } }),
    ];
    const confirm = [0, 1].flatMap((s) => [
      record('SimPO', s, 0.55, { config: { beta: 2 } }),
      record('SimPO', s, 0.6, { config: { beta: 10 } }),
    ]);
    // The control condition: SimPO at 0.58, 3 points above its biased-judge run.
    const control = [0, 1].map((s) => ({ ...record('SimPO', s, 0.58, { config: { beta: 2 } }), key: `control-${s}` }));
    for (const r of control) r.spec = { ...r.spec, condition: 'control' };
    const controlTuned = tuned.map((r) => ({ ...r, key: `control-${r.key}`, spec: { ...r.spec, condition: 'control' as const } }));
    const twoConditions = {
      ...preset,
      conditions: ['biased', 'control'] as const,
      methods: preset.methods.filter((m) => m.name === 'SimPO'),
    };
    const analysis = analyseStudy(twoConditions, [...tuned, ...confirm, ...controlTuned, ...control]);
    const plan = {
      preset: twoConditions,
      world: { calibration: { judge: { lambda: 0.5 }, longerWinsBiased: 0.68 } },
    } as unknown as StudyPlan;
    const verdict = studyVerdict(plan, analysis).join('\n');
    assert.match(
      verdict,
      /SimPO picked by the judge's LC win rate reached a gold win rate of 55\.0%, the oracle's pick 60\.0% \(judge − oracle: −5\.0 points\)/,
    );
    assert.match(verdict, /unbiased judge \(λ = 0\) instead, the gold win rate changes by \(points\): SimPO \+3\.0/);
  });
});
