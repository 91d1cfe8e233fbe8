// Anthropic HH-RLHF transcripts ("\n\nHuman: …\n\nAssistant: …") as chat messages. A turn starts
// at "\n\nHuman:" or "\n\nAssistant:" (the very first may lack the "\n\n"); "Human:" inside a
// turn is text. Contents are trimmed (the transcript's separator spaces are not content), roles
// become user/assistant, and consecutive turns of one speaker are merged as for any dialogue.
import type { ChatMessage } from '../../tokenizers/tokenizer.js';
import { joinTurns } from './chat-messages.js';

/** A parsed transcript: its messages, and where each message's content starts in the text. */
export interface HhTranscript {
  messages: ChatMessage[];
  /** Offset just after the role marker ("Assistant:") that opens each message (the first of a merged group). */
  contentStarts: number[];
  /** True when consecutive same-speaker turns were merged. */
  merged: boolean;
}

const MARKER = /(?:^|\n\n)(Human|Assistant):/g;

/** Whether `text` reads as an HH-RLHF transcript: it opens with a Human turn and has an Assistant turn. */
export function isHhTranscript(text: string): boolean {
  return /^\s*Human:/.test(text) && text.includes('\n\nAssistant:');
}

/** The messages of `text`, or a reason it is not a transcript. */
export function parseHhTranscript(text: string): HhTranscript | string {
  const markers = [...text.matchAll(MARKER)];
  const first = markers[0];
  if (first === undefined) return 'has no "\\n\\nHuman:" or "\\n\\nAssistant:" turn';
  if (text.slice(0, first.index).trim() !== '') return 'has text before its first "\\n\\nHuman:" turn';
  const messages: ChatMessage[] = [];
  const contentStarts: number[] = [];
  let merged = false;
  markers.forEach((marker, i) => {
    const role = marker[1] === 'Human' ? 'user' : 'assistant';
    const start = (marker.index as number) + marker[0].length;
    const end = markers[i + 1]?.index ?? text.length;
    const content = text.slice(start, end).trim();
    const last = messages[messages.length - 1];
    if (last !== undefined && last.role === role) {
      last.content = joinTurns(last.content, content);
      merged = true;
    } else {
      messages.push({ role, content });
      contentStarts.push(start);
    }
  });
  return { messages, contentStarts, merged };
}
