// Checking a row's message list and normalising it: each message is {role, content} with a
// known role and string content; consecutive messages with the same role become one.
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import { BadRowError } from '../errors.js';
import type { RowLocation } from '../row-location.js';

/** Roles chat templates know (OpenAI's and transformers' names). */
export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

/** What a JSON value is, in words, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

/** The messages of `value` (column `column`), or a BadRowError saying exactly which message is wrong and how. */
export function parseMessages(value: unknown, column: string, location: RowLocation): ChatMessage[] {
  if (!Array.isArray(value)) throw new BadRowError(location, `'${column}' must be a list of messages, got ${describeValue(value)}`);
  return value.map((message, i) => {
    const where = `'${column}'[${i}]`;
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw new BadRowError(location, `${where} must be a message object {"role": ..., "content": ...}, got ${describeValue(message)}`);
    }
    const { role, content, ...rest } = message as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      throw new BadRowError(
        location,
        `${where} has key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} besides role and content, which cannot be rendered through the chat template`,
      );
    }
    if (typeof role !== 'string') throw new BadRowError(location, `${where}.role must be a string, got ${describeValue(role)}`);
    if (!(CHAT_ROLES as readonly string[]).includes(role)) {
      throw new BadRowError(location, `${where}.role '${role}' is not a known role (${CHAT_ROLES.join(', ')})`);
    }
    if (typeof content !== 'string') throw new BadRowError(location, `${where}.content must be a string, got ${describeValue(content)}`);
    return { role, content };
  });
}

/** Two turns of one speaker as one: joined by a blank line, an empty one adding nothing. */
export function joinTurns(first: string, second: string): string {
  if (first === '') return second;
  if (second === '') return first;
  return `${first}\n\n${second}`;
}

/** Consecutive messages of one role merged, contents joined by a blank line; `merged` says whether any were. */
export function mergeConsecutiveRoles(messages: readonly ChatMessage[]): { messages: ChatMessage[]; merged: boolean } {
  const out: ChatMessage[] = [];
  let merged = false;
  for (const message of messages) {
    const last = out[out.length - 1];
    if (last !== undefined && last.role === message.role) {
      last.content = joinTurns(last.content, message.content);
      merged = true;
    } else {
      out.push({ role: message.role, content: message.content });
    }
  }
  return { messages: out, merged };
}

export function messagesEqual(a: ChatMessage, b: ChatMessage): boolean {
  return a.role === b.role && a.content === b.content;
}
