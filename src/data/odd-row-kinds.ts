// Every kind of odd row the data layer counts, what it does with such a row, and why. The
// inspect command, the loader's report and docs/data.md all read this one table.

export interface OddRowKindSpec {
  /** 'dropped': the pair is not trained on; 'kept': trained on, counted so a user can see it. */
  action: 'dropped' | 'kept';
  /** 'rows': found when reading rows (no tokenizer needed); 'tokens': found when tokenising. */
  stage: 'rows' | 'tokens';
  doc: string;
}

export const ODD_ROW_KINDS = {
  bad_row: {
    action: 'dropped',
    stage: 'rows',
    doc: 'Structurally invalid (not UTF-8, not JSON, not an object, missing or mistyped field, unknown role, non-string content); dropped only under on_bad_row: skip | warn.',
  },
  identical_pair: {
    action: 'dropped',
    stage: 'rows',
    doc: "Chosen and rejected completions are identical: no preference to learn. DPO's gradient on such a pair is exactly zero, and its gap g = 0 would bias α-DPO's running mean and std.",
  },
  diverges_before_last_turn: {
    action: 'dropped',
    stage: 'rows',
    doc:
      'The two dialogues differ before their final message (or one is a prefix of the other), so a completion would span several turns, ' +
      'including turns the policy does not write, and the label may be about any of them.',
  },
  last_turn_not_assistant: {
    action: 'dropped',
    stage: 'rows',
    doc: 'The completion message is not an assistant turn (e.g. the dialogues end on a user message): the model would be trained to write the user.',
  },
  merged_turns: {
    action: 'kept',
    stage: 'rows',
    doc:
      'Consecutive messages with the same role were merged into one, contents joined by a blank line ("\\n\\n"): chat templates of many models ' +
      'reject non-alternating roles, and a speaker continuing is one turn. Real HH-RLHF transcripts have such turns.',
  },
  empty_completion: {
    action: 'kept',
    stage: 'rows',
    doc:
      'A completion with no text (or only whitespace). Kept: ending the turn at once is a response the model can give (HH-RLHF harmless data ' +
      'prefers it over harmful answers), and it is trained as its end-of-turn/EOS tokens. Dropped at tokenisation if it has no token at all.',
  },
  empty_prompt: {
    action: 'kept',
    stage: 'rows',
    doc: 'The prompt is empty (implicit prompt with no common prefix, or an empty prompt column): the pair is trained unconditioned.',
  },
  prompt_tokens_merged: {
    action: 'kept',
    stage: 'tokens',
    doc:
      'tokens(prompt) is not a prefix of tokens(prompt + completion): the tokenizer merged characters across the boundary. ' +
      'The prompt is the longest common token prefix; the merged token belongs to the completion (as TRL 0.8.6 does).',
  },
  template_not_prefix: {
    action: 'kept',
    stage: 'tokens',
    doc:
      'The chat template rendered the prompt (with the generation prompt) as text that is not a prefix of its rendering of prompt + completion. ' +
      'The sequence trained on is the full rendering; its prompt part is the longest common token prefix of the two renderings.',
  },
  truncated_prompt: {
    action: 'kept',
    stage: 'tokens',
    doc: 'prompt + longer completion exceeded max_length, so the prompt was cut to max_prompt_length (truncation_mode says which end survives).',
  },
  truncated_completion: {
    action: 'kept',
    stage: 'tokens',
    doc: 'After the prompt cut the sequence still exceeded max_length, so the completion lost its end (possibly its EOS).',
  },
  completion_truncated_to_nothing: {
    action: 'dropped',
    stage: 'tokens',
    doc: 'The prompt alone fills max_length (possible only with max_prompt_length: null), so a completion would have no token: never trained as an empty response.',
  },
  no_completion_tokens: {
    action: 'dropped',
    stage: 'tokens',
    doc: 'A completion tokenised to no token at all (empty text and a tokenizer without EOS): its average log-prob would be 0/0.',
  },
} as const satisfies Record<string, OddRowKindSpec>;

export type OddRowKind = keyof typeof ODD_ROW_KINDS;
export const ODD_ROW_KIND_NAMES = Object.keys(ODD_ROW_KINDS) as OddRowKind[];
