// The row formats, and how 'auto' tells them apart from one row. The rules look only at the
// types of the prompt/chosen/rejected (or completion/label) columns and at HH-RLHF's "Human:" opening, so a whole
// dataset is read one way: every later row must fit the format found here.
import type { DatasetFormatOption } from '../data-config.js';
import { isHhTranscript } from './hh-rlhf-transcript.js';

export type DatasetFormat = Exclude<DatasetFormatOption, 'auto'>;

export interface ColumnKeys {
  prompt: string;
  chosen: string;
  rejected: string;
  /** The one completion of an unpaired row. */
  completion: string;
  /** The boolean label of an unpaired row. */
  label: string;
}

/** Formats whose rows are unpaired examples (one completion and a label), not pairs. */
export const UNPAIRED_FORMATS: readonly DatasetFormat[] = ['unpaired', 'unpaired_conversational'];

/** What each format's row holds (columns named by prompt_key, chosen_key, rejected_key). */
export const DATASET_FORMAT_DOCS: Record<DatasetFormat, string> = {
  standard: 'prompt, chosen, rejected: strings; the sequence is prompt + completion as text (TRL standard, explicit prompt).',
  standard_implicit:
    'chosen, rejected: strings, no prompt column; the prompt is their common prefix, cut back to a word boundary (TRL standard, implicit prompt).',
  conversational:
    'prompt, chosen, rejected: message lists; chosen and rejected hold the one assistant reply (TRL conversational, explicit prompt).',
  conversational_implicit:
    'chosen, rejected: whole dialogues as message lists, no prompt column; the prompt is their common leading messages (TRL conversational, implicit prompt).',
  hh_rlhf:
    'chosen, rejected: Anthropic HH-RLHF transcripts ("\\n\\nHuman: …\\n\\nAssistant: …"), optionally after a prompt column holding the shared start; turned into messages.',
  ultrafeedback:
    'prompt: a string; chosen, rejected: dialogues as message lists that start with that prompt as a user turn (HuggingFaceH4/ultrafeedback_binarized); scores kept as metadata.',
  unpaired:
    'prompt, completion: strings; label: true (desirable) or false (undesirable); one example per row (TRL unpaired preference, standard; KTO).',
  unpaired_conversational:
    'prompt: a message list; completion: a list holding the one assistant reply; label: true or false (TRL unpaired preference, conversational; KTO).',
};

/**
 * The format one row shows, or null when its columns fit none:
 * - chosen a string: HH-RLHF when the prompt (if any) or else chosen opens with "Human:" and has
 *   an "\n\nAssistant:" turn; otherwise standard with a prompt string, standard_implicit without prompt;
 * - chosen a list: conversational with a prompt list, ultrafeedback with a prompt string,
 *   conversational_implicit without prompt;
 * - no chosen and rejected but a completion and a label column: unpaired when the completion is a
 *   string, unpaired_conversational when it is a list.
 */
export function detectDatasetFormat(row: Record<string, unknown>, keys: ColumnKeys): DatasetFormat | null {
  const prompt = row[keys.prompt];
  const chosen = row[keys.chosen];
  const rejected = row[keys.rejected];
  if (chosen === undefined && rejected === undefined && keys.completion in row && keys.label in row) {
    const completion = row[keys.completion];
    if (typeof completion === 'string') return 'unpaired';
    if (Array.isArray(completion)) return 'unpaired_conversational';
    return null;
  }
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    if (prompt === undefined) return isHhTranscript(chosen) ? 'hh_rlhf' : 'standard_implicit';
    if (typeof prompt === 'string') return isHhTranscript(prompt) ? 'hh_rlhf' : 'standard';
    return null;
  }
  if (Array.isArray(chosen) && Array.isArray(rejected)) {
    if (prompt === undefined) return 'conversational_implicit';
    if (typeof prompt === 'string') return 'ultrafeedback';
    if (Array.isArray(prompt)) return 'conversational';
  }
  return null;
}
