// The tokenizer contract shared by the models layer (which implements it from a Hugging Face
// tokenizer.json + tokenizer_config.json) and the data layer (which tokenises preference pairs).

/** One chat message; `content` is plain text. */
export interface ChatMessage {
  role: string;
  content: string;
}

export interface EncodeOptions {
  /** Add the tokenizer's special tokens (e.g. BOS) as its post-processor says. Default true, as in transformers. */
  addSpecialTokens?: boolean;
}

export interface ChatTemplateOptions {
  /** Append the tokens that open an assistant turn (transformers' add_generation_prompt). Default false. */
  addGenerationPrompt?: boolean;
  /**
   * Extra variables for the template, as transformers passes apply_chat_template's extra keyword
   * arguments (e.g. { enable_thinking: false } for Qwen3). Names are the template's own.
   */
  chatTemplateKwargs?: Readonly<Record<string, unknown>>;
}

export interface Tokenizer {
  /** Token ids of `text`. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Text of `ids`; special tokens are dropped when `skipSpecialTokens` is true. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The model's chat template rendered to text (not tokenised), as transformers' apply_chat_template(tokenize=False). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
  /** True when tokenizer_config.json has a chat template. */
  readonly hasChatTemplate: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly vocabSize: number;
}

/** Something that writes its tokenizer files into a model folder (AutoTokenizer does); saved beside weights. */
export interface SavableTokenizer {
  savePretrained(dir: string): Promise<void>;
}

/** The tokenizer `t` when it can save itself, else undefined. */
export function savableTokenizer(t: unknown): SavableTokenizer | undefined {
  return t !== null && typeof t === 'object' && typeof (t as Partial<SavableTokenizer>).savePretrained === 'function'
    ? (t as SavableTokenizer)
    : undefined;
}
