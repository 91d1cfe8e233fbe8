// Errors a user can cause with a tokenizer folder or a chat template.

/** A tokenizer folder that is missing tokenizer.json or holds an invalid file. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** A chat template that is absent, fails to render, or calls raise_exception (its own message is kept). */
export class ChatTemplateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChatTemplateError';
  }
}
