// One raw row to one preference pair in explicit-prompt form, in the dataset's format. A row
// that breaks the format's structure is a BadRowError; a valid row that cannot teach a
// preference is dropped with its kind; valid oddities that are kept are noted by kind.
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import { BadRowError } from '../errors.js';
import type { OddRowKind } from '../odd-row-kinds.js';
import type { RowLocation } from '../row-location.js';
import { describeValue, mergeConsecutiveRoles, messagesEqual, parseMessages } from './chat-messages.js';
import { type ColumnKeys, type DatasetFormat, UNPAIRED_FORMATS } from './dataset-format.js';
import { parseHhTranscript } from './hh-rlhf-transcript.js';
import { commonMessagePrefix, textPromptBoundary } from './implicit-prompt.js';
import type { PreferencePair, ScalarValue, TextPair } from './preference-pair.js';

export interface NormalisedRow {
  /** The pair to train on, or null when the row is dropped. */
  pair: PreferencePair | null;
  /** Why the row is dropped (a kind whose action is 'dropped'), or null. */
  dropped: OddRowKind | null;
  /** Kept oddities of this row (merged_turns, empty_completion, empty_prompt). */
  notes: OddRowKind[];
  /** Columns of this row that are neither used nor scalar metadata (e.g. UltraFeedback's `messages`). */
  ignoredColumns: string[];
}

export interface RowContext {
  row: Record<string, unknown>;
  format: DatasetFormat;
  keys: ColumnKeys;
  location: RowLocation;
}

export function requireColumn(ctx: RowContext, key: string): unknown {
  if (!(key in ctx.row)) {
    throw new BadRowError(
      ctx.location,
      `missing the '${key}' column that format ${ctx.format} needs (rename it with ${UNPAIRED_FORMATS.includes(ctx.format) ? 'prompt_key/completion_key/label_key' : 'prompt_key/chosen_key/rejected_key'})`,
    );
  }
  return ctx.row[key];
}

export function requireString(ctx: RowContext, key: string): string {
  const value = requireColumn(ctx, key);
  if (typeof value !== 'string')
    throw new BadRowError(ctx.location, `'${key}' must be a string in format ${ctx.format}, got ${describeValue(value)}`);
  return value;
}

export function requireMessages(ctx: RowContext, key: string): { messages: ChatMessage[]; merged: boolean } {
  const messages = parseMessages(requireColumn(ctx, key), key, ctx.location);
  if (messages.length === 0) throw new BadRowError(ctx.location, `'${key}' is an empty list of messages`);
  return mergeConsecutiveRoles(messages);
}

function scalar(value: unknown): ScalarValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return undefined;
}

export function splitColumns(ctx: RowContext, used: readonly string[]): { metadata: Record<string, ScalarValue>; ignored: string[] } {
  const metadata: Record<string, ScalarValue> = {};
  const ignored: string[] = [];
  const structural = UNPAIRED_FORMATS.includes(ctx.format)
    ? [ctx.keys.prompt, ctx.keys.completion, ctx.keys.label]
    : [ctx.keys.prompt, ctx.keys.chosen, ctx.keys.rejected];
  for (const [key, value] of Object.entries(ctx.row)) {
    if (used.includes(key)) continue;
    const v = scalar(value);
    if (v === undefined || structural.includes(key)) ignored.push(key);
    else metadata[key] = v;
  }
  return { metadata, ignored };
}

export const isBlank = (text: string) => text.trim() === '';

function textRow(ctx: RowContext, used: readonly string[], text: TextPair): NormalisedRow {
  const { metadata, ignored } = splitColumns(ctx, used);
  if (text.chosen === text.rejected) return { pair: null, dropped: 'identical_pair', notes: [], ignoredColumns: ignored };
  const notes: OddRowKind[] = [];
  if (isBlank(text.chosen) || isBlank(text.rejected)) notes.push('empty_completion');
  if (isBlank(text.prompt)) notes.push('empty_prompt');
  return { pair: { kind: 'text', ...text, metadata, source: ctx.location }, dropped: null, notes, ignoredColumns: ignored };
}

function messagesRow(
  ctx: RowContext,
  used: readonly string[],
  prompt: ChatMessage[],
  chosen: ChatMessage[],
  rejected: ChatMessage[],
  merged: boolean,
  transcript: TextPair | null,
): NormalisedRow {
  const { metadata, ignored } = splitColumns(ctx, used);
  const drop = (kind: OddRowKind): NormalisedRow => ({ pair: null, dropped: kind, notes: [], ignoredColumns: ignored });
  if (chosen.length === rejected.length && chosen.every((m, i) => messagesEqual(m, rejected[i] as ChatMessage)))
    return drop('identical_pair');
  if (chosen.length !== 1 || rejected.length !== 1) return drop('diverges_before_last_turn');
  const [c, r] = [chosen[0] as ChatMessage, rejected[0] as ChatMessage];
  if (c.role !== 'assistant' || r.role !== 'assistant') return drop('last_turn_not_assistant');
  const notes: OddRowKind[] = [];
  if (merged) notes.push('merged_turns');
  if (isBlank(c.content) || isBlank(r.content)) notes.push('empty_completion');
  if (prompt.length === 0) notes.push('empty_prompt');
  return {
    pair: { kind: 'messages', prompt, chosen, rejected, transcript, metadata, source: ctx.location },
    dropped: null,
    notes,
    ignoredColumns: ignored,
  };
}

/** Splits two whole dialogues at their first differing message. */
function splitDialogues(chosen: ChatMessage[], rejected: ChatMessage[]): [ChatMessage[], ChatMessage[], ChatMessage[]] {
  const k = commonMessagePrefix(chosen, rejected);
  return [chosen.slice(0, k), chosen.slice(k), rejected.slice(k)];
}

function hhRow(ctx: RowContext): NormalisedRow {
  const { keys } = ctx;
  const hasPrompt = keys.prompt in ctx.row;
  const prompt = hasPrompt ? requireString(ctx, keys.prompt) : '';
  const texts = [prompt + requireString(ctx, keys.chosen), prompt + requireString(ctx, keys.rejected)] as const;
  const parsed = texts.map((text, i) => {
    const result = parseHhTranscript(text);
    const column = i === 0 ? keys.chosen : keys.rejected;
    if (typeof result === 'string') throw new BadRowError(ctx.location, `'${column}' is not an HH-RLHF transcript: it ${result}`);
    return result;
  });
  const [c, r] = parsed as [(typeof parsed)[0], (typeof parsed)[0]];
  const k = commonMessagePrefix(c.messages, r.messages);
  const cStart = c.contentStarts[k];
  const rStart = r.contentStarts[k];
  const transcript =
    cStart === undefined || rStart === undefined
      ? null
      : { prompt: texts[0].slice(0, cStart), chosen: texts[0].slice(cStart), rejected: texts[1].slice(rStart) };
  const used = hasPrompt ? [keys.prompt, keys.chosen, keys.rejected] : [keys.chosen, keys.rejected];
  const [promptMessages, chosen, rejected] = splitDialogues(c.messages, r.messages);
  return messagesRow(ctx, used, promptMessages, chosen, rejected, c.merged || r.merged, transcript);
}

function ultrafeedbackRow(ctx: RowContext): NormalisedRow {
  const { keys } = ctx;
  const promptText = requireString(ctx, keys.prompt);
  const c = requireMessages(ctx, keys.chosen);
  const r = requireMessages(ctx, keys.rejected);
  let [prompt, chosen, rejected] = splitDialogues(c.messages, r.messages);
  if (prompt.length === 0) {
    prompt = [{ role: 'user', content: promptText }];
  } else {
    const lastUser = [...prompt].reverse().find((m) => m.role === 'user');
    if (lastUser === undefined || lastUser.content.trim() !== promptText.trim()) {
      throw new BadRowError(
        ctx.location,
        `'${keys.prompt}' does not match the last user message that '${keys.chosen}' and '${keys.rejected}' share; the row contradicts itself`,
      );
    }
  }
  return messagesRow(ctx, [keys.prompt, keys.chosen, keys.rejected], prompt, chosen, rejected, c.merged || r.merged, null);
}

/** The pair in `value`, read as `format`. Throws BadRowError for a structurally invalid row. */
export function normaliseRow(value: unknown, format: DatasetFormat, keys: ColumnKeys, location: RowLocation): NormalisedRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRowError(location, `a row must be a JSON object, got ${describeValue(value)}`);
  }
  const ctx: RowContext = { row: value as Record<string, unknown>, format, keys, location };
  switch (format) {
    case 'standard': {
      const text = {
        prompt: requireString(ctx, keys.prompt),
        chosen: requireString(ctx, keys.chosen),
        rejected: requireString(ctx, keys.rejected),
      };
      return textRow(ctx, [keys.prompt, keys.chosen, keys.rejected], text);
    }
    case 'standard_implicit': {
      const chosen = requireString(ctx, keys.chosen);
      const rejected = requireString(ctx, keys.rejected);
      const k = textPromptBoundary(chosen, rejected);
      return textRow(ctx, [keys.chosen, keys.rejected], {
        prompt: chosen.slice(0, k),
        chosen: chosen.slice(k),
        rejected: rejected.slice(k),
      });
    }
    case 'conversational': {
      const prompt = mergeConsecutiveRoles(parseMessages(requireColumn(ctx, keys.prompt), keys.prompt, location));
      const chosen = requireMessages(ctx, keys.chosen);
      const rejected = requireMessages(ctx, keys.rejected);
      const merged = prompt.merged || chosen.merged || rejected.merged;
      return messagesRow(ctx, [keys.prompt, keys.chosen, keys.rejected], prompt.messages, chosen.messages, rejected.messages, merged, null);
    }
    case 'conversational_implicit': {
      const c = requireMessages(ctx, keys.chosen);
      const r = requireMessages(ctx, keys.rejected);
      const [prompt, chosen, rejected] = splitDialogues(c.messages, r.messages);
      return messagesRow(ctx, [keys.chosen, keys.rejected], prompt, chosen, rejected, c.merged || r.merged, null);
    }
    case 'hh_rlhf':
      return hhRow(ctx);
    case 'ultrafeedback':
      return ultrafeedbackRow(ctx);
    case 'unpaired':
    case 'unpaired_conversational':
      throw new Error('internal: unpaired rows are read by normaliseUnpairedRow');
  }
}
