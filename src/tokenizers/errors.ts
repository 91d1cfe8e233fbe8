// Errors a user can cause with a tokenizer folder or a chat template.
import { AlphaDpoError } from '../errors.js';

/** A tokenizer folder that is missing tokenizer.json or holds an invalid file. */
export class TokenizerError extends AlphaDpoError {}

/** A chat template that is absent, fails to render, or calls raise_exception (its own message is kept). */
export class ChatTemplateError extends AlphaDpoError {}
