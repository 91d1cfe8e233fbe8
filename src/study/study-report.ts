// The study's report as Markdown (report.md) and as one self-contained HTML file (report.html:
// inline SVG charts drawn from the data, inline CSS, no script and nothing fetched at view time).
// Both have the same sections, in REPORT_SECTIONS' order.
import type { StudyPlan } from './run-study.js';
import { type Interval, KL_TARGETS, type MethodResult, type StudyAnalysis } from './study-analysis.js';
import { studyVerdict } from './study-verdict.js';
import { type ChartSeries, escapeXml, svgChart } from './svg-chart.js';

export const REPORT_SECTIONS = [
  'Verdict',
  'Results',
  'Contrasts',
  'Reward–KL frontier',
  'Win rate vs KL',
  'Length over training',
  'LC − gold gap',
  'Seed scatter',
  'Tuning',
  'Setup',
] as const;

interface Section {
  title: (typeof REPORT_SECTIONS)[number];
  markdown: string;
  html: string;
}

const pct = (x: number) => (100 * x).toFixed(1);
const ci = (v: Interval, scale = 100, digits = 1) =>
  `${(scale * v.estimate).toFixed(digits)} [${(scale * v.low).toFixed(digits)}, ${(scale * v.high).toFixed(digits)}]`;
const rowName = (m: MethodResult) =>
  `${m.method}${m.condition === 'control' ? ' (λ = 0)' : ''}${m.selections.length === 1 && m.selections[0] === 'oracle' ? ' (oracle pick)' : ''}`;

/** A Markdown table and the same as HTML. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): { markdown: string; html: string } {
  const md = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  );
  const html = `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  return { markdown: md, html };
}

function perMethodSeries(
  methods: readonly MethodResult[],
  x: (c: MethodResult['trajectory'][number]) => number,
  y: (c: MethodResult['trajectory'][number]) => number,
): ChartSeries[] {
  return methods.map((m) => ({
    name: rowName(m),
    line: true,
    points: m.trajectory.map((c) => ({
      x: x(c),
      y: y(c),
      label: `${rowName(m)} step ${Math.round(c.step)}: (${x(c).toFixed(3)}, ${y(c).toFixed(3)})`,
    })),
  }));
}

function trajectoryTable(
  methods: readonly MethodResult[],
  columns: { name: string; value: (c: MethodResult['trajectory'][number]) => string }[],
) {
  return table(
    ['method', 'step', ...columns.map((c) => c.name)],
    methods.flatMap((m) => m.trajectory.map((c) => [rowName(m), String(Math.round(c.step)), ...columns.map((col) => col.value(c))])),
  );
}

export function studySections(plan: StudyPlan, analysis: StudyAnalysis): Section[] {
  const methods = analysis.methods;
  const verdict = studyVerdict(plan, analysis);
  const sections: Section[] = [];
  const push = (title: Section['title'], markdown: string, html: string) => sections.push({ title, markdown, html });

  push('Verdict', verdict.join('\n\n'), verdict.map((p) => `<p>${escapeXml(p)}</p>`).join('\n'));

  const results = table(
    [
      'method',
      'seeds',
      'gold win vs SFT %',
      'gold q',
      'judge win %',
      'LC win %',
      'LC − gold (pts)',
      'KL exact (nats)',
      'KL MC',
      'length',
      'distinct-2',
      'teacher NLL',
    ],
    methods.map((m) => [
      rowName(m),
      String(m.seeds.length),
      ci(m.metrics.goldWin),
      ci(m.metrics.q, 1, 3),
      ci(m.metrics.judgeWin),
      ci(m.metrics.lcWin),
      ci(m.metrics.lcGap),
      ci(m.metrics.klExact, 1, 2),
      m.klMonteCarlo.toFixed(2),
      ci(m.metrics.length, 1, 1),
      m.distinct2.toFixed(3),
      m.teacherNll.toFixed(2),
    ]),
  );
  const resultsNote =
    'Final checkpoint, test prompts. Point estimate [95% CI], hierarchical bootstrap over seeds then prompts ' +
    `(${plan.preset.bootstrapReplicates} replicates; the LC GLM refitted inside each). KL MC, distinct-2 and teacher NLL are seed means.`;
  push('Results', `${results.markdown}\n\n${resultsNote}`, `${results.html}<p class="note">${escapeXml(resultsNote)}</p>`);

  const contrastTable = table(
    ['contrast', 'condition', 'seeds', 'Δ gold win (pts) [95% CI]', 'bootstrap p', 'Holm p', 'Welch p (seed means)', 'P(run A > run B)'],
    analysis.contrasts.map((c) => [
      `${c.a} − ${c.b}`,
      c.condition === 'control' ? 'λ = 0' : 'length-biased judge',
      String(c.seeds),
      ci(c.difference),
      c.difference.pValue.toPrecision(2),
      Number.isNaN(c.holmP) ? '— (secondary)' : c.holmP.toPrecision(2),
      Number.isFinite(c.welch.pValue) ? c.welch.pValue.toPrecision(2) : 'n/a',
      pct(c.superiority),
    ]),
  );
  push('Contrasts', contrastTable.markdown, contrastTable.html);

  const frontier = perMethodSeries(
    methods,
    (c) => c.klExact,
    (c) => c.q,
  );
  const atKl = table(
    ['method', ...KL_TARGETS.map((k) => `gold q at KL = ${k}`)],
    methods.map((m) => [
      rowName(m),
      ...KL_TARGETS.map((k) => (m.qAtKl[String(k)] == null ? 'beyond reach' : (m.qAtKl[String(k)] as number).toFixed(3))),
    ]),
  );
  const frontierTable = trajectoryTable(methods, [
    { name: 'KL exact', value: (c) => c.klExact.toFixed(3) },
    { name: 'gold q', value: (c) => c.q.toFixed(4) },
  ]);
  push(
    'Reward–KL frontier',
    `${frontierTable.markdown}\n\n${atKl.markdown}`,
    `${svgChart(frontier, { title: 'Gold reward against KL to SFT', xLabel: 'exact KL(π ‖ π_SFT), nats per response', yLabel: 'mean gold q' })}${atKl.html}`,
  );

  const winKl = perMethodSeries(
    methods,
    (c) => c.klExact,
    (c) => c.goldWin,
  );
  const winTable = trajectoryTable(methods, [
    { name: 'KL exact', value: (c) => c.klExact.toFixed(3) },
    { name: 'gold win %', value: (c) => pct(c.goldWin) },
    { name: 'judge win %', value: (c) => pct(c.judgeWin) },
  ]);
  push(
    'Win rate vs KL',
    winTable.markdown,
    svgChart(winKl, {
      title: 'Gold win rate against KL',
      xLabel: 'exact KL, nats per response',
      yLabel: 'gold win rate vs SFT',
      yReference: 0.5,
    }),
  );

  const lengthTable = trajectoryTable(methods, [{ name: 'mean length (words)', value: (c) => c.length.toFixed(2) }]);
  push(
    'Length over training',
    lengthTable.markdown,
    svgChart(
      perMethodSeries(
        methods,
        (c) => c.step,
        (c) => c.length,
      ),
      { title: 'Response length over training', xLabel: 'optimiser step', yLabel: 'mean words per response' },
    ),
  );

  const gapTable = trajectoryTable(methods, [
    { name: 'LC win %', value: (c) => pct(c.lcWin) },
    { name: 'gold win %', value: (c) => pct(c.goldWin) },
    { name: 'LC − gold (pts)', value: (c) => pct(c.lcGap) },
  ]);
  push(
    'LC − gold gap',
    gapTable.markdown,
    svgChart(
      perMethodSeries(
        methods,
        (c) => c.step,
        (c) => c.lcGap,
      ),
      {
        title: 'Length-controlled minus gold win rate',
        xLabel: 'optimiser step',
        yLabel: 'LC − gold win rate',
        yReference: 0,
      },
    ),
  );

  const scatter: ChartSeries[] = methods.map((m) => ({
    name: rowName(m),
    line: false,
    points: m.perSeed.map((s) => ({
      x: s.klExact,
      y: s.goldWin,
      label: `${rowName(m)} seed ${s.seed}: KL ${s.klExact.toFixed(2)}, win ${pct(s.goldWin)}%`,
    })),
  }));
  const seedTable = table(
    ['method', 'seed', 'gold win %', 'gold q', 'KL exact', 'length'],
    methods.flatMap((m) =>
      m.perSeed.map((s) => [rowName(m), String(s.seed), pct(s.goldWin), s.q.toFixed(4), s.klExact.toFixed(3), s.length.toFixed(2)]),
    ),
  );
  push(
    'Seed scatter',
    seedTable.markdown,
    `${svgChart(scatter, { title: 'Each seed’s run at the end', xLabel: 'exact KL, nats per response', yLabel: 'gold win rate vs SFT', yReference: 0.5 })}${seedTable.html}`,
  );

  const tuning =
    analysis.tuning.length === 0
      ? { markdown: 'This preset does not tune: one configuration per method (listed under Setup).', html: '' }
      : table(
          ['condition', 'method', 'configuration', 'LC win % (judge)', 'gold win % (oracle)', 'KL exact'],
          analysis.tuning.map((t) => [t.condition, t.method, JSON.stringify(t.config), pct(t.lcWin), pct(t.goldWin), t.klExact.toFixed(2)]),
        );
  push('Tuning', tuning.markdown, tuning.html || `<p>${escapeXml(tuning.markdown)}</p>`);

  const w = plan.world;
  const pairs = w.pairStats.biased;
  const setup = [
    `Preset \`${plan.preset.name}\`: teacher language with ${plan.preset.world.topics} topics and ${plan.preset.world.words} words (vocabulary ${w.vocabSize}), ` +
      `a ${w.parameters}-parameter Llama trained from scratch (SFT loss ${w.sftLoss.first.toFixed(3)} → ${w.sftLoss.last.toFixed(3)} nats/token), ` +
      `${plan.preset.trainPrompts} training prompts × ${plan.preset.samplesPerPrompt} SFT samples → ${pairs.pairs} best/worst pairs (${pairs.tiedPrompts} prompts tied).`,
    `Judge: λ = ${w.calibration.judge.lambda.toFixed(3)}, μ_L = ${w.calibration.judge.meanLength.toFixed(2)}, σ_L = ${w.calibration.judge.sdLength.toFixed(2)} words; ` +
      `longer wins ${pct(w.calibration.longerWinsBiased)}% of ${w.calibration.comparedPairs} SFT sample pairs of unequal length (λ = 0: ${pct(w.calibration.longerWinsControl)}%). ` +
      `Chosen responses average ${pairs.meanChosenLength.toFixed(1)} words against ${pairs.meanRejectedLength.toFixed(1)} rejected; the chosen one is longer in ${pct(pairs.chosenLonger)}% of pairs.`,
    `Gold reward τ = ${w.tau.toFixed(3)} nats/token; SFT samples' mean q ${w.calibration.sftMeanQ.toFixed(3)}, mean length ${w.calibration.sftMeanLength.toFixed(1)} words.`,
    `Runs: ${plan.preset.batchSize} pairs per step, one epoch, AdamW, cosine, 10% warm-up, clipping 1; ${plan.preset.checkpoints} evaluations per run on ` +
      `${plan.preset.testPrompts} test prompts × ${plan.preset.evalSamplesPerPrompt} samples, each against the SFT sample drawn with the same random numbers. ` +
      `Seeds: ${plan.preset.seeds.join(', ')}. Runs finished: ${analysis.runsDone}.`,
    `Configurations: ${methods.map((m) => `${rowName(m)} (${m.selections.join(' and ')} selection) ${JSON.stringify(m.config)}`).join('; ')}.`,
  ];
  const code = (text: string) => escapeXml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
  push('Setup', setup.join('\n\n'), setup.map((p) => `<p>${code(p)}</p>`).join('\n'));
  return sections;
}

export function studyReportMarkdown(plan: StudyPlan, analysis: StudyAnalysis): string {
  const sections = studySections(plan, analysis);
  return `# LenTrap study (${plan.preset.name})\n\n${sections.map((s) => `## ${s.title}\n\n${s.markdown}\n`).join('\n')}`;
}

export function studyReportHtml(plan: StudyPlan, analysis: StudyAnalysis): string {
  const sections = studySections(plan, analysis);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LenTrap study (${escapeXml(plan.preset.name)})</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg { margin: 0.5em 1em 0.5em 0; font-family: system-ui, sans-serif; }
.note { color: #555; font-size: 13px; }
</style></head><body>
<h1>LenTrap study (${escapeXml(plan.preset.name)})</h1>
${sections.map((s) => `<section><h2>${escapeXml(s.title)}</h2>\n${s.html}\n</section>`).join('\n')}
</body></html>
`;
}
