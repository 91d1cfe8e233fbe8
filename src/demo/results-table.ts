// The demo's one table, as plain text: a row per policy (SFT first), the columns of
// evaluate-policy.ts, then notes saying how each column is measured.
import type { DemoResult } from './run-demo.js';
import type { MeanWithInterval } from './summary-stats.js';

function withInterval(m: MeanWithInterval, digits: number): string {
  return `${m.mean.toFixed(digits)} ± ${m.halfWidth95.toFixed(digits)}`;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Pads every column to its widest cell; the first column left-aligned, the others right-aligned. */
function layout(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] as readonly string[]).map((_, c) => Math.max(...rows.map((r) => [...(r[c] as string)].length)));
  const pad = (cell: string, c: number) => {
    const fill = ' '.repeat((widths[c] as number) - [...cell].length);
    return c === 0 ? cell + fill : fill + cell;
  };
  return rows.map((r) => r.map(pad).join('  ').trimEnd());
}

/** The table and its notes, newline-terminated. Deterministic: the same result gives the same text. */
export function formatDemoTable(result: DemoResult): string {
  const header = ['policy', 'gold reward (95% CI)', 'win vs SFT', 'perfect', 'length', 'KL to SFT (nats)', 'held-out acc'];
  const body = result.rows.map((row) => {
    const e = row.evaluation;
    return [
      row.method,
      withInterval(e.reward, 3),
      e.winRate === null ? '—' : `${percent(e.winRate.mean)} ± ${(100 * e.winRate.halfWidth95).toFixed(1)}`,
      percent(e.perfect),
      e.meanLength.toFixed(2),
      row.method === 'SFT' ? '0 (itself)' : withInterval(e.kl, 2),
      e.heldOutAccuracy === null ? '—' : percent(e.heldOutAccuracy),
    ];
  });
  const lines = layout([header, ...body]);
  const rule = '─'.repeat(Math.max(...lines.map((l) => [...l].length)));
  const s = result.sizes;
  const tp = result.trainPairs;
  const notes = [
    `seed ${result.seed}${result.quick ? ' (--quick sizes: not meant to be read)' : ''}; ${s.evalPrompts} held-out prompts × ${s.evalSamplesPerPrompt} samples per policy (temperature 1, same random streams for every policy)`,
    `gold reward: (LCS with the sorted letters − 0.5 per extra letter)/n − 0.5 if no EOS; 1 = perfect. Mean of per-prompt means, ±1.96 standard errors over prompts`,
    `win vs SFT: sample j against the SFT model's sample j of the same prompt, by gold reward, ties count ½ (± 95% CI over prompts)`,
    `perfect: share of samples exactly sorted and ended; length: letters per response (EOS not counted; ideal mean ${result.idealLength.toFixed(2)})`,
    `KL to SFT: Monte-Carlo estimate on the policy's own samples, mean over samples of Σ_t [log π(y_t) − log π_sft(y_t)] (nats per response, ± 95% CI)`,
    `held-out acc: share of ${result.heldOutPairs.pairs} held-out best/worst pairs where the loss's own implicit reward (chosenRewards > rejectedRewards) ranks chosen first`,
    `training pairs: ${tp.pairs} from ${tp.prompts} prompts × ${s.samplesPerPrompt} SFT samples (${tp.tiedPrompts} prompts all tied); chosen gold ${tp.meanChosenReward.toFixed(3)}, rejected ${tp.meanRejectedReward.toFixed(3)}; chosen ${tp.meanChosenLength.toFixed(2)} tokens, rejected ${tp.meanRejectedLength.toFixed(2)} (EOS included)`,
    `methods (${s.preferenceSteps} steps × ${s.preferenceBatchSize} pairs each, cosine, 10% warm-up): ${result.methods
      .map(
        (m) =>
          `${m.name} ${m.lossType} ${Object.entries(m.loss)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} ln=${m.ln} lr=${m.learningRate}`,
      )
      .join('; ')}`,
    'one seed is not evidence: compare several (--seed N) before concluding anything',
  ];
  return [lines[0], rule, ...lines.slice(1), rule, ...notes.map((n) => `  ${n}`)].join('\n') + '\n';
}
