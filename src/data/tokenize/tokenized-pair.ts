// A preference pair as token ids, ready to batch. Prompt ids are stored per side because a
// token merged across the prompt boundary can make them differ; when they are equal both sides
// share one array.
import type { ScalarValue } from '../formats/preference-pair.js';
import type { RowLocation } from '../row-location.js';

export interface TokenizedSide {
  /** Prompt ids (BOS first when there is one), after truncation. */
  prompt: Int32Array;
  /** Completion ids (EOS last unless truncation cut it), after truncation; never empty. */
  completion: Int32Array;
}

export interface TokenizedPair {
  chosen: TokenizedSide;
  rejected: TokenizedSide;
  source: RowLocation;
  metadata: Record<string, ScalarValue>;
  /**
   * Set only on an unpaired example laid out for batching (unpairedRows): true = desirable. Then
   * `chosen` is the example itself and `rejected` its KL row (another example's prompt with this
   * completion), the two sequences the unpaired losses score.
   */
  label?: boolean;
}

/** Token counts before truncation: what max_length and max_prompt_length are judged against. */
export interface PairTokenLengths {
  /** Prompt tokens (the longer of the two sides' prompts; they are equal unless a token merged). */
  prompt: number;
  chosen: number;
  rejected: number;
}

/** Tokens of the longer of the two sequences (prompt + completion): the pair's length for grouping. */
export function pairLength(pair: TokenizedPair): number {
  return Math.max(pair.chosen.prompt.length + pair.chosen.completion.length, pair.rejected.prompt.length + pair.rejected.completion.length);
}
