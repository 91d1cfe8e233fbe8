// A pair written back as one row in explicit-prompt form (`data convert`): prompt, chosen and
// rejected (strings for text rows, message lists for dialogues), then the row's scalar metadata.
// Reading such a file back gives the same pairs (format standard or conversational).
import type { PreferencePair } from './preference-pair.js';

export function explicitPromptRow(pair: PreferencePair): Record<string, unknown> {
  return { prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected, ...pair.metadata };
}
