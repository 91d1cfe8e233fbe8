// A dataset's pairs to token ids, with every tokenisation oddity and drop counted by kind.
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { type DataConfig, type DataConfigInput, resolveDataConfig } from '../data-config.js';
import { BadRowError } from '../errors.js';
import type { PreferencePair } from '../formats/preference-pair.js';
import { OddRowReport } from '../odd-row-report.js';
import { formatLocation } from '../row-location.js';
import { bosEosFacts } from './bos-eos-facts.js';
import { type Rendering, renderPair } from './render-pair.js';
import { tokenizePair } from './tokenize-pair.js';
import type { PairTokenLengths, TokenizedPair } from './tokenized-pair.js';
import { truncatePair } from './truncate-pair.js';

export interface TokenizedDataset {
  /** The pairs to train on, in the order given. */
  pairs: TokenizedPair[];
  /** indices[k]: the position in the input of pairs[k] (the dropped ones are missing). */
  indices: number[];
  /** Token counts before truncation of every pair that could be tokenised (dropped ones included). */
  lengths: PairTokenLengths[];
  /** Tokenisation kinds only (truncations, merges, drops; bad_row for dialogues the template rejects). */
  report: OddRowReport;
  /** How the pairs were turned into text (null when there was none). */
  rendering: Rendering | null;
}

export interface TokenizePairsOptions {
  onWarning?: (message: string) => void;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function tokenizePreferencePairs(
  pairs: readonly PreferencePair[],
  tokenizer: Tokenizer,
  config: DataConfigInput | DataConfig = {},
  options: TokenizePairsOptions = {},
): TokenizedDataset {
  const resolved = resolveDataConfig(config);
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  const specials = bosEosFacts(tokenizer);
  const limits = {
    maxLength: resolved.max_length,
    maxPromptLength: resolved.max_prompt_length,
    truncationMode: resolved.truncation_mode,
    bos: specials.bos,
  };
  const kwargs = resolved.enable_thinking === null ? undefined : { enable_thinking: resolved.enable_thinking };
  const report = new OddRowReport();
  const out: TokenizedPair[] = [];
  const indices: number[] = [];
  const lengths: PairTokenLengths[] = [];
  let rendering: Rendering | null = null;
  for (const [index, pair] of pairs.entries()) {
    let tokens: ReturnType<typeof tokenizePair>;
    try {
      const rendered = renderPair(pair, tokenizer, kwargs);
      rendering = rendered.rendering;
      tokens = tokenizePair(rendered, tokenizer, specials);
    } catch (e) {
      if (!(e instanceof BadRowError) || resolved.on_bad_row === 'error') throw e;
      report.add('bad_row', e.location, e.reason);
      if (resolved.on_bad_row === 'warn') warn(`skipped ${formatLocation(e.location)}: ${e.reason}`);
      continue;
    }
    lengths.push(tokens.lengths);
    for (const kind of tokens.notes) report.add(kind, pair.source);
    if (tokens.dropped !== null) {
      report.add(tokens.dropped, pair.source);
      continue;
    }
    const truncation = truncatePair(tokens.sides, limits);
    for (const kind of truncation.notes) report.add(kind, pair.source);
    if (truncation.dropped !== null) {
      report.add(truncation.dropped, pair.source);
      continue;
    }
    const { chosen, rejected } = tokens.sides;
    indices.push(index);
    const chosenPrompt = Int32Array.from(chosen.prompt);
    out.push({
      chosen: { prompt: chosenPrompt, completion: Int32Array.from(chosen.completion) },
      rejected: {
        prompt: sameIds(chosen.prompt, rejected.prompt) ? chosenPrompt : Int32Array.from(rejected.prompt),
        completion: Int32Array.from(rejected.completion),
      },
      source: pair.source,
      metadata: pair.metadata,
    });
  }
  return { pairs: out, indices, lengths, report, rendering };
}
