// The report's verdict, written from the numbers: each contrast against α-DPO is called a
// difference only when its 95% interval excludes 0 and its Holm-adjusted p-value is below 0.05;
// otherwise it says "no difference detected at this power" with the interval, so the reader sees
// how large a difference the study could have missed. Then what the judge's length bias did.
import type { StudyPlan } from './run-study.js';
import type { MethodResult, StudyAnalysis } from './study-analysis.js';

const pts = (x: number) => `${(100 * x).toFixed(1)}`;
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${pts(Math.abs(x))}`;

export function studyVerdict(plan: StudyPlan, analysis: StudyAnalysis): string[] {
  const out: string[] = [];
  const biased = analysis.methods.filter((m) => m.condition === 'biased' && m.selections.includes('judge'));
  if (biased.length === 0) return ['No confirmation run has finished yet: nothing to conclude.'];
  const seeds = Math.max(...biased.map((m) => m.seeds.length));
  const prompts = plan.preset.testPrompts;
  for (const c of analysis.contrasts) {
    const d = c.difference;
    const where = c.condition === 'control' ? ' with the unbiased (λ = 0) judge' : '';
    const ci = `95% CI [${signed(d.low)}, ${signed(d.high)}] points`;
    const p = Number.isNaN(c.holmP) ? d.pValue : c.holmP;
    const pText = Number.isNaN(c.holmP)
      ? `secondary contrast, unadjusted p = ${d.pValue.toPrecision(2)}`
      : `Holm-adjusted p = ${c.holmP.toPrecision(2)}`;
    if ((d.low > 0 || d.high < 0) && p < 0.05) {
      out.push(
        `${c.a} ${d.estimate > 0 ? 'beat' : 'fell behind'} ${c.b}${where}: its gold win rate against SFT differs by ${signed(d.estimate)} points ` +
          `(${ci}; ${pText}; Welch over seed means p = ${fmtP(c.welch.pValue)}; ` +
          `a run of ${c.a} beat a run of ${c.b} in ${pts(c.superiority)}% of run pairs, ${c.seeds} seeds).`,
      );
    } else {
      out.push(
        `${c.a} against ${c.b}${where}: no difference detected at this power (${c.seeds} seeds × ${prompts} prompts): ` +
          `the gold win rate differs by ${signed(d.estimate)} points, ${ci}, ${pText}; ` +
          `a run of ${c.a} beat a run of ${c.b} in ${pts(c.superiority)}% of run pairs. A true difference as large as the interval's ends cannot be ruled out.`,
      );
    }
  }
  const best = [...biased].sort((a, b) => b.metrics.goldWin.estimate - a.metrics.goldWin.estimate)[0] as MethodResult;
  out.push(
    `Against the SFT model every method's gold win rate is ${biased
      .map((m) => `${m.method} ${pts(m.metrics.goldWin.estimate)}% [${pts(m.metrics.goldWin.low)}, ${pts(m.metrics.goldWin.high)}]`)
      .join(', ')}; the highest point estimate is ${best.method}'s.`,
  );
  const gaps = biased.map((m) => `${m.method} ${signed(m.metrics.lcGap.estimate)}`).join(', ');
  const judgeOver = biased.map((m) => `${m.method} ${signed(m.metrics.judgeWin.estimate - m.metrics.goldWin.estimate)}`).join(', ');
  out.push(
    `The length-biased judge (λ = ${plan.world.calibration.judge.lambda.toFixed(2)}, longer wins ${pts(plan.world.calibration.longerWinsBiased)}% of SFT pairs) ` +
      `rated the policies above the gold reward (raw judge − gold win rate, points: ${judgeOver}); the length-controlled win rate ` +
      `left a gap to the gold win rate of ${gaps} points. Mean length went from ${biased[0]?.trajectory[0]?.length.toFixed(1)} words (SFT) to ` +
      `${biased.map((m) => `${m.method} ${m.metrics.length.estimate.toFixed(1)}`).join(', ')}.`,
  );
  // What the practitioner's selection cost against the oracle's, where tuning made them differ.
  for (const m of analysis.methods.filter((x) => x.condition === 'biased' && x.selections.length === 1 && x.selections[0] === 'oracle')) {
    const judged = biased.find((x) => x.method === m.method);
    if (!judged) continue;
    out.push(
      `${m.method} picked by the judge's LC win rate reached a gold win rate of ${pts(judged.metrics.goldWin.estimate)}%, the oracle's pick ` +
        `${pts(m.metrics.goldWin.estimate)}% (judge − oracle: ${signed(judged.metrics.goldWin.estimate - m.metrics.goldWin.estimate)} points).`,
    );
  }
  // The λ = 0 control: how much the judge's length bias cost each method.
  const control = analysis.methods.filter((m) => m.condition === 'control' && m.selections.includes('judge'));
  const costs = control.flatMap((c) => {
    const b = biased.find((x) => x.method === c.method);
    return b ? [`${c.method} ${signed(c.metrics.goldWin.estimate - b.metrics.goldWin.estimate)}`] : [];
  });
  if (costs.length > 0) {
    out.push(
      `Trained on pairs labelled by the unbiased judge (λ = 0) instead, the gold win rate changes by (points): ${costs.join(', ')}.`,
    );
  }
  if (seeds < 5) {
    out.push(
      `With ${seeds} seed${seeds === 1 ? '' : 's'} the intervals are wide; the full preset (10 seeds, tuned grids, λ = 0 control) is the test that can detect a few points.`,
    );
  }
  return out;
}

function fmtP(p: number): string {
  return Number.isFinite(p) ? p.toPrecision(2) : 'n/a';
}
