// `alpha-dpo data inspect FILE [--model DIR] [--json]`: what a preference dataset holds and what
// training would make of it. Bad rows are counted here rather than stopping the inspection,
// unless --on_bad_row is given.
import { type DataConfig, resolveDataConfig } from '../data/data-config.js';
import { UNPAIRED_FORMATS } from '../data/formats/dataset-format.js';
import { exampleAsPair } from '../data/formats/unpaired-example.js';
import { ODD_ROW_KINDS } from '../data/odd-row-kinds.js';
import { OddRowReport } from '../data/odd-row-report.js';
import { loadPreferenceDataset, type PreferenceDataset } from '../data/preference-dataset.js';
import { formatLocation } from '../data/row-location.js';
import { type TokenLengthStats, tokenLengthStats } from '../data/tokenize/token-length-stats.js';
import { tokenizePreferencePairs } from '../data/tokenize/tokenize-pairs.js';
import type { DataCommandArgs } from './data-args.js';

interface TokenSummary {
  model: string;
  rendering: string | null;
  lengths: TokenLengthStats;
  truncation: {
    max_length: number | null;
    max_prompt_length: number | null;
    truncation_mode: string;
    /** Pairs whose prompt max_prompt_length cuts. */
    prompt_truncated: number;
    /** Pairs with a completion max_length cuts. */
    completion_truncated: number;
    /** Pairs dropped because a completion would have no token left. */
    dropped: number;
  };
}

export interface InspectResult {
  files: string[];
  format: string | null;
  format_source: string | null;
  rows: number;
  /** Usable pairs: after reading, and after tokenising when a model was given (0 for unpaired data). */
  pairs: number;
  /** Unpaired data: usable examples by label (after tokenising when a model was given); null for pairs. */
  examples: { desirable: number; undesirable: number } | null;
  odd_rows: ReturnType<OddRowReport['toJSON']>;
  ignored_columns: string[];
  tokens: TokenSummary | null;
  /** Why there are no token statistics, when there are none. */
  tokens_note: string | null;
}

async function tokenSummary(
  dataset: PreferenceDataset,
  model: string,
  config: DataConfig,
  report: OddRowReport,
): Promise<{ summary: TokenSummary; pairs: number; desirable: number }> {
  const { AutoTokenizer } = await import('../tokenizers/index.js');
  const tokenizer = await AutoTokenizer.fromPretrained(model);
  // Unpaired examples are tokenised as pairs of two equal completions (tokenize-unpaired.ts).
  const source = dataset.examples.length > 0 ? dataset.examples.map(exampleAsPair) : dataset.pairs;
  const tokenized = tokenizePreferencePairs(source, tokenizer, config);
  const desirable = tokenized.indices.filter((i) => dataset.examples[i]?.label === true).length;
  report.mergeFrom(tokenized.report);
  const summary: TokenSummary = {
    model,
    rendering: tokenized.rendering,
    lengths: tokenLengthStats(tokenized.lengths),
    truncation: {
      max_length: config.max_length,
      max_prompt_length: config.max_prompt_length,
      truncation_mode: config.truncation_mode,
      prompt_truncated: tokenized.report.count('truncated_prompt'),
      completion_truncated: tokenized.report.count('truncated_completion'),
      dropped: tokenized.report.count('completion_truncated_to_nothing'),
    },
  };
  return { summary, pairs: tokenized.pairs.length, desirable };
}

export async function inspectData(args: DataCommandArgs): Promise<InspectResult> {
  const config = resolveDataConfig({ on_bad_row: 'skip', ...args.config });
  const split = args.flags.get('split') ?? null;
  const dataset = await loadPreferenceDataset(args.files.length === 1 ? (args.files[0] as string) : args.files, config, { split });
  const report = new OddRowReport();
  report.mergeFrom(dataset.report);
  const model = args.flags.get('model');
  let tokens: TokenSummary | null = null;
  const unpaired = dataset.format !== null && UNPAIRED_FORMATS.includes(dataset.format);
  let pairs = dataset.pairs.length;
  let total = dataset.examples.length;
  let desirable = dataset.examples.filter((e) => e.label).length;
  if (model !== undefined && (dataset.pairs.length > 0 || dataset.examples.length > 0)) {
    const result = await tokenSummary(dataset, model, config, report);
    tokens = result.summary;
    if (unpaired) {
      total = result.pairs;
      desirable = result.desirable;
    } else pairs = result.pairs;
  }
  const source = dataset.formatSource;
  return {
    files: dataset.files,
    format: dataset.format,
    format_source: source === null ? null : source === 'config' ? 'dataset_format' : formatLocation(source),
    rows: dataset.rows,
    pairs,
    examples: unpaired ? { desirable, undesirable: total - desirable } : null,
    odd_rows: report.toJSON(),
    ignored_columns: dataset.ignoredColumns,
    tokens,
    tokens_note:
      tokens !== null
        ? null
        : model === undefined
          ? 'token lengths and truncation need --model DIR (a folder with tokenizer.json)'
          : 'no pairs to tokenise',
  };
}

function percentileRow(name: string, stats: Record<string, number>): string {
  return `  ${name.padEnd(10)}${['p50', 'p90', 'p95', 'p99', 'p100'].map((p) => String(stats[p]).padStart(8)).join('')}`;
}

/** The result as text for a person. */
export function formatInspect(result: InspectResult): string {
  const lines: string[] = [];
  lines.push(
    `files: ${result.files.length === 1 ? result.files[0] : `${result.files.length}\n${result.files.map((f) => `  ${f}`).join('\n')}`}`,
  );
  lines.push(
    `format: ${result.format ?? 'none (no row fits a known format)'}${result.format_source ? ` (from ${result.format_source})` : ''}`,
  );
  lines.push(`rows read: ${result.rows}`);
  if (result.examples === null) lines.push(`usable pairs: ${result.pairs}`);
  else {
    const { desirable, undesirable } = result.examples;
    lines.push(`usable examples: ${desirable + undesirable} (desirable ${desirable}, undesirable ${undesirable})`);
  }
  const kinds = Object.entries(result.odd_rows);
  // With one file, "FILE:12" reads better as "line 12" (and "FILE row 3" as "row 3").
  const only = result.files.length === 1 ? (result.files[0] as string) : null;
  const shorten = (example: string) =>
    only === null
      ? example
      : example.startsWith(`${only}:`)
        ? `line ${example.slice(only.length + 1)}`
        : example.replace(`${only} row `, 'row ');
  if (kinds.length === 0) lines.push('odd rows: none');
  else {
    lines.push('odd rows (kind, what is done, count, first examples):');
    for (const [kind, entry] of kinds) {
      lines.push(`  ${kind.padEnd(32)}${entry.action.padEnd(8)}${String(entry.count).padStart(7)}`);
      lines.push(`      ${ODD_ROW_KINDS[kind as keyof typeof ODD_ROW_KINDS].doc}`);
      const examples = entry.examples.map(shorten);
      if (kind === 'bad_row') for (const example of examples) lines.push(`      at ${example}`);
      else lines.push(`      at ${examples.join(', ')}${entry.count > examples.length ? ', …' : ''}`);
    }
  }
  if (result.ignored_columns.length > 0)
    lines.push(`ignored columns (neither used nor scalar metadata): ${result.ignored_columns.join(', ')}`);
  const t = result.tokens;
  if (t === null) lines.push(`tokens: ${result.tokens_note}`);
  else {
    lines.push(`tokens (${t.model}, rendered as ${t.rendering}), before truncation:`);
    lines.push(`  ${''.padEnd(10)}${['p50', 'p90', 'p95', 'p99', 'max'].map((p) => p.padStart(8)).join('')}`);
    lines.push(percentileRow('prompt', t.lengths.prompt));
    if (result.examples !== null) lines.push(percentileRow('completion', t.lengths.chosen));
    else {
      lines.push(percentileRow('chosen', t.lengths.chosen));
      lines.push(percentileRow('rejected', t.lengths.rejected));
    }
    lines.push(percentileRow('sequence', t.lengths.sequence));
    const c = t.truncation;
    lines.push(`with max_length ${c.max_length}, max_prompt_length ${c.max_prompt_length}, truncation_mode ${c.truncation_mode}:`);
    lines.push(
      `  prompt cut in ${c.prompt_truncated} ${result.examples === null ? 'pairs' : 'examples'}, completion cut in ${c.completion_truncated}, dropped (no completion token left) ${c.dropped}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
