// One preference pair in normalised explicit-prompt form, before tokenisation: either text
// (standard rows) or chat messages (conversational, HH-RLHF and UltraFeedback rows).
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import type { RowLocation } from '../row-location.js';

/** A metadata value carried from the source row (scores, ids); Parquet int64 arrives as a number when exact, else as a string. */
export type ScalarValue = string | number | boolean | null;

export interface TextPair {
  prompt: string;
  chosen: string;
  rejected: string;
}

export interface TextPreferencePair extends TextPair {
  kind: 'text';
  /** The source row's other scalar columns (e.g. score_chosen, score_rejected). */
  metadata: Record<string, ScalarValue>;
  source: RowLocation;
}

export interface MessagesPreferencePair {
  kind: 'messages';
  /** The dialogue up to the completion; ends with the turn the completion answers. */
  prompt: ChatMessage[];
  /** Exactly one assistant message. */
  chosen: ChatMessage[];
  /** Exactly one assistant message. */
  rejected: ChatMessage[];
  /**
   * HH-RLHF rows only: the original transcript split at the same turn ("…\n\nAssistant:" and
   * " response"), used verbatim when the tokenizer has no chat template (as the DPO paper trained on it).
   */
  transcript: TextPair | null;
  metadata: Record<string, ScalarValue>;
  source: RowLocation;
}

export type PreferencePair = TextPreferencePair | MessagesPreferencePair;
