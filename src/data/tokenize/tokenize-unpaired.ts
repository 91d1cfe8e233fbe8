// Unpaired examples to token ids. Each example is tokenised as a pair whose two sides are its
// completion (exampleAsPair), so rendering, BOS/EOS, the prompt boundary, truncation and every
// odd-row kind are exactly the pairs' (truncation then reduces to TRL's rule for one sequence).
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { DataConfig, DataConfigInput } from '../data-config.js';
import type { ScalarValue } from '../formats/preference-pair.js';
import { exampleAsPair, type UnpairedExample } from '../formats/unpaired-example.js';
import type { OddRowReport } from '../odd-row-report.js';
import type { RowLocation } from '../row-location.js';
import type { Rendering } from './render-pair.js';
import { type TokenizePairsOptions, tokenizePreferencePairs } from './tokenize-pairs.js';
import type { PairTokenLengths } from './tokenized-pair.js';

export interface TokenizedExample {
  /** Prompt ids after truncation (BOS first when there is one). */
  prompt: Int32Array;
  /** Completion ids after truncation; never empty. */
  completion: Int32Array;
  /** true = desirable. */
  label: boolean;
  source: RowLocation;
  metadata: Record<string, ScalarValue>;
}

export interface TokenizedUnpairedDataset {
  examples: TokenizedExample[];
  /** Token counts before truncation (chosen = rejected = the completion). */
  lengths: PairTokenLengths[];
  report: OddRowReport;
  rendering: Rendering | null;
}

export function tokenizeUnpairedExamples(
  examples: readonly UnpairedExample[],
  tokenizer: Tokenizer,
  config: DataConfigInput | DataConfig = {},
  options: TokenizePairsOptions = {},
): TokenizedUnpairedDataset {
  const t = tokenizePreferencePairs(examples.map(exampleAsPair), tokenizer, config, options);
  return {
    examples: t.pairs.map((pair, k) => ({
      prompt: pair.chosen.prompt,
      completion: pair.chosen.completion,
      label: (examples[t.indices[k] as number] as UnpairedExample).label,
      source: pair.source,
      metadata: pair.metadata,
    })),
    lengths: t.lengths,
    report: t.report,
    rendering: t.rendering,
  };
}
