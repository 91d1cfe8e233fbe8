// Fitting a tokenised pair into max_length, as TRL 0.8.6's DPOTrainer (the α-DPO/SimPO code
// base) does, with two documented differences marked below.
//
// 1. A side whose prompt + longer completion of the pair exceeds max_length has its prompt cut
//    to max_prompt_length: keep_end keeps the prompt's last tokens (its start is cut), keep_start
//    its first (its end, including any generation prompt, is cut). A pair that fits is not cut.
//    Difference: keep_end keeps a leading BOS in place (it counts toward max_prompt_length);
//    TRL cuts it with the rest of the start.
// 2. A side still longer than max_length keeps the first max_length − |prompt| tokens of its
//    completion (its end, maybe its EOS, is cut). Difference: TRL keeps max_length −
//    max_prompt_length tokens even when the prompt is shorter, leaving part of max_length unused.
// 3. A completion left with no token drops the pair (possible only with max_prompt_length: null).
import type { TruncationMode } from '../data-config.js';
import type { OddRowKind } from '../odd-row-kinds.js';

export interface TokenSides {
  chosen: { prompt: number[]; completion: number[] };
  rejected: { prompt: number[]; completion: number[] };
}

export interface TruncationLimits {
  maxLength: number | null;
  maxPromptLength: number | null;
  truncationMode: TruncationMode;
  bos: number | null;
}

export interface TruncationResult {
  /** The kept kinds that applied (truncated_prompt, truncated_completion). */
  notes: OddRowKind[];
  /** 'completion_truncated_to_nothing' when the pair must be dropped, else null. */
  dropped: OddRowKind | null;
}

function cutPrompt(prompt: number[], limits: TruncationLimits, maxPromptLength: number): number[] {
  if (prompt.length <= maxPromptLength) return prompt;
  if (limits.truncationMode === 'keep_start') return prompt.slice(0, maxPromptLength);
  if (limits.bos !== null && prompt[0] === limits.bos) return [limits.bos, ...prompt.slice(prompt.length - (maxPromptLength - 1))];
  return prompt.slice(prompt.length - maxPromptLength);
}

/** Truncates `sides` in place; returns what was done. */
export function truncatePair(sides: TokenSides, limits: TruncationLimits): TruncationResult {
  const notes: OddRowKind[] = [];
  const { maxLength, maxPromptLength } = limits;
  if (maxLength === null) return { notes, dropped: null };
  const longer = Math.max(sides.chosen.completion.length, sides.rejected.completion.length);
  let promptCut = false;
  let completionCut = false;
  for (const side of [sides.chosen, sides.rejected]) {
    if (maxPromptLength !== null && side.prompt.length + longer > maxLength) {
      const cut = cutPrompt(side.prompt, limits, maxPromptLength);
      promptCut ||= cut.length < side.prompt.length;
      side.prompt = cut;
    }
  }
  for (const side of [sides.chosen, sides.rejected]) {
    if (side.prompt.length + side.completion.length > maxLength) {
      side.completion = side.completion.slice(0, Math.max(0, maxLength - side.prompt.length));
      completionCut = true;
    }
  }
  if (promptCut) notes.push('truncated_prompt');
  if (completionCut) notes.push('truncated_completion');
  const empty = sides.chosen.completion.length === 0 || sides.rejected.completion.length === 0;
  return { notes, dropped: empty ? 'completion_truncated_to_nothing' : null };
}
