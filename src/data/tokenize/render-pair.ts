// The text a pair is tokenised from, as the reference trainers build it: text rows as they are
// (prompt, prompt + completion); message rows through the model's chat template (the prompt with
// the generation prompt, then prompt + completion without it); HH-RLHF rows, when the tokenizer
// has no chat template, as their original transcript text.
import type { ChatMessage, Tokenizer } from '../../tokenizers/tokenizer.js';
import { BadRowError, RenderError } from '../errors.js';
import type { PreferencePair } from '../formats/preference-pair.js';

export type Rendering = 'text' | 'chat_template' | 'transcript';

export interface RenderedPair {
  rendering: Rendering;
  prompt: string;
  /** The whole chosen sequence (prompt + completion) as text. */
  chosen: string;
  /** The whole rejected sequence (prompt + completion) as text. */
  rejected: string;
}

/** Extra variables for the chat template (e.g. Qwen3's enable_thinking), from the data config. */
export type TemplateKwargs = Readonly<Record<string, unknown>> | undefined;

function applyTemplate(
  tokenizer: Tokenizer,
  pair: PreferencePair,
  messages: readonly ChatMessage[],
  addGenerationPrompt: boolean,
  kwargs: TemplateKwargs,
): string {
  try {
    return tokenizer.applyChatTemplate(messages, { addGenerationPrompt, ...(kwargs ? { chatTemplateKwargs: kwargs } : {}) });
  } catch (e) {
    throw new BadRowError(pair.source, `the chat template cannot render this dialogue (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function renderPair(pair: PreferencePair, tokenizer: Tokenizer, kwargs?: TemplateKwargs): RenderedPair {
  if (pair.kind === 'text') {
    return { rendering: 'text', prompt: pair.prompt, chosen: pair.prompt + pair.chosen, rejected: pair.prompt + pair.rejected };
  }
  if (!tokenizer.hasChatTemplate) {
    if (pair.transcript !== null) {
      const { prompt, chosen, rejected } = pair.transcript;
      return { rendering: 'transcript', prompt, chosen: prompt + chosen, rejected: prompt + rejected };
    }
    throw new RenderError(
      "the rows are chat messages but the tokenizer has no chat template (tokenizer_config.json has no 'chat_template'): " +
        "use the chat/instruct model's tokenizer, add a chat template, or convert the data to text (prompt, chosen, rejected strings).",
    );
  }
  return {
    rendering: 'chat_template',
    prompt: applyTemplate(tokenizer, pair, pair.prompt, true, kwargs),
    chosen: applyTemplate(tokenizer, pair, [...pair.prompt, ...pair.chosen], false, kwargs),
    rejected: applyTemplate(tokenizer, pair, [...pair.prompt, ...pair.rejected], false, kwargs),
  };
}
