// One unpaired example (a single completion with a desirable/undesirable label, TRL's KTO
// format) in explicit-prompt form, before tokenisation; and the pair view tokenisation reads.
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import type { RowLocation } from '../row-location.js';
import type { PreferencePair, ScalarValue } from './preference-pair.js';

interface ExampleCommon {
  /** true: desirable (a thumbs-up; TRL's label True); false: undesirable. */
  label: boolean;
  metadata: Record<string, ScalarValue>;
  source: RowLocation;
}

export interface TextUnpairedExample extends ExampleCommon {
  kind: 'text';
  prompt: string;
  completion: string;
}

export interface MessagesUnpairedExample extends ExampleCommon {
  kind: 'messages';
  /** The dialogue up to the completion. */
  prompt: ChatMessage[];
  /** Exactly one assistant message. */
  completion: ChatMessage[];
  /** HH-RLHF rows unpaired from pairs: the transcript text split at the completion (see MessagesPreferencePair). */
  transcript: { prompt: string; completion: string } | null;
}

export type UnpairedExample = TextUnpairedExample | MessagesUnpairedExample;

/**
 * The example as a pair whose two sides are both its completion, so the pair tokeniser (rendering,
 * BOS/EOS, prompt boundary, truncation) applies unchanged; either side is the example's tokens.
 */
export function exampleAsPair(example: UnpairedExample): PreferencePair {
  const { metadata, source } = example;
  if (example.kind === 'text') {
    return { kind: 'text', prompt: example.prompt, chosen: example.completion, rejected: example.completion, metadata, source };
  }
  const t = example.transcript;
  return {
    kind: 'messages',
    prompt: example.prompt,
    chosen: example.completion,
    rejected: example.completion,
    transcript: t === null ? null : { prompt: t.prompt, chosen: t.completion, rejected: t.completion },
    metadata,
    source,
  };
}
