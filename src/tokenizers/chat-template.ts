// Chat templates: the model's Jinja template rendered with @huggingface/jinja and the variables
// transformers passes (apply_chat_template → render_jinja_template): messages,
// add_generation_prompt, the special tokens as strings (bos_token, eos_token, ...,
// additional_special_tokens); raise_exception and strftime_now are @huggingface/jinja's globals.
// Blocks are trimmed and left-stripped (trim_blocks, lstrip_blocks) as transformers' Jinja
// environment does.
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from './errors.js';
import type { SpecialTokens } from './special-tokens.js';
import type { ChatMessage } from './tokenizer.js';

/**
 * The template to use from tokenizer_config.json's `chat_template`: a string, or a list of
 * { name, template } of which transformers takes the one named "default". null when absent.
 */
export function selectChatTemplate(value: unknown, where: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default') as
      | { template?: unknown }
      | undefined;
    if (named !== undefined && typeof named.template === 'string') return named.template;
    throw new ChatTemplateError(`${where}: chat_template is a list without a template named "default"`);
  }
  throw new ChatTemplateError(`${where}: chat_template must be a string or a list of { name, template }`);
}

export class ChatTemplate {
  readonly source: string;
  readonly #template: Template;

  constructor(source: string, where: string) {
    this.source = source;
    try {
      this.#template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`${where}: the chat template does not parse: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The rendered text, exactly as transformers' apply_chat_template(tokenize=False). */
  render(messages: readonly ChatMessage[], options: { addGenerationPrompt: boolean; special: SpecialTokens }): string {
    const variables: Record<string, unknown> = {
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: options.addGenerationPrompt,
      additional_special_tokens: options.special.additional,
    };
    for (const [key, text] of Object.entries(options.special.tokens)) variables[key] = text;
    try {
      return this.#template.render(variables);
    } catch (e) {
      // Includes the template's own raise_exception('...') message.
      throw new ChatTemplateError(`the chat template failed on these messages: ${(e as Error).message}`, { cause: e });
    }
  }
}
