// One raw row of an unpaired format (prompt, completion, label) to one example. Structural
// mistakes are BadRowErrors (file, line, reason); valid oddities are noted or dropped by kind, as
// for pairs (normalise-row.ts).
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import { BadRowError } from '../errors.js';
import type { OddRowKind } from '../odd-row-kinds.js';
import type { RowLocation } from '../row-location.js';
import { describeValue, mergeConsecutiveRoles, parseMessages } from './chat-messages.js';
import type { ColumnKeys, DatasetFormat } from './dataset-format.js';
import { isBlank, type RowContext, requireColumn, requireMessages, requireString, splitColumns } from './normalise-row.js';
import type { UnpairedExample } from './unpaired-example.js';

export interface NormalisedUnpairedRow {
  /** The example to train on, or null when the row is dropped. */
  example: UnpairedExample | null;
  dropped: OddRowKind | null;
  notes: OddRowKind[];
  ignoredColumns: string[];
}

function requireLabel(ctx: RowContext): boolean {
  const value = requireColumn(ctx, ctx.keys.label);
  if (typeof value !== 'boolean') {
    throw new BadRowError(ctx.location, `'${ctx.keys.label}' must be true (desirable) or false (undesirable), got ${describeValue(value)}`);
  }
  return value;
}

/** The example in `value`, read as the unpaired `format`. Throws BadRowError for a structurally invalid row. */
export function normaliseUnpairedRow(
  value: unknown,
  format: DatasetFormat,
  keys: ColumnKeys,
  location: RowLocation,
): NormalisedUnpairedRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRowError(location, `a row must be a JSON object, got ${describeValue(value)}`);
  }
  const ctx: RowContext = { row: value as Record<string, unknown>, format, keys, location };
  const used = [keys.prompt, keys.completion, keys.label];
  if (format === 'unpaired') {
    const prompt = requireString(ctx, keys.prompt);
    const completion = requireString(ctx, keys.completion);
    const label = requireLabel(ctx);
    const { metadata, ignored } = splitColumns(ctx, used);
    const notes: OddRowKind[] = [];
    if (isBlank(completion)) notes.push('empty_completion');
    if (isBlank(prompt)) notes.push('empty_prompt');
    return {
      example: { kind: 'text', prompt, completion, label, metadata, source: location },
      dropped: null,
      notes,
      ignoredColumns: ignored,
    };
  }
  if (format !== 'unpaired_conversational') throw new Error(`internal: ${format} is not an unpaired format`);
  const prompt = mergeConsecutiveRoles(parseMessages(requireColumn(ctx, keys.prompt), keys.prompt, location));
  const completion = requireMessages(ctx, keys.completion);
  const label = requireLabel(ctx);
  const { metadata, ignored } = splitColumns(ctx, used);
  if (completion.messages.length !== 1) {
    throw new BadRowError(
      location,
      `'${keys.completion}' must hold exactly one assistant message, got ${completion.messages.length} messages (put earlier turns in '${keys.prompt}')`,
    );
  }
  const reply = completion.messages[0] as ChatMessage;
  if (reply.role !== 'assistant') return { example: null, dropped: 'last_turn_not_assistant', notes: [], ignoredColumns: ignored };
  const notes: OddRowKind[] = [];
  if (prompt.merged || completion.merged) notes.push('merged_turns');
  if (isBlank(reply.content)) notes.push('empty_completion');
  if (prompt.messages.length === 0) notes.push('empty_prompt');
  return {
    example: {
      kind: 'messages',
      prompt: prompt.messages,
      completion: completion.messages,
      label,
      transcript: null,
      metadata,
      source: location,
    },
    dropped: null,
    notes,
    ignoredColumns: ignored,
  };
}
