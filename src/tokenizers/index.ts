// Tokenizers: the contract shared with the data layer, and its Hugging Face implementation.
export { AutoTokenizer } from './auto-tokenizer.js';
export { ChatTemplate, selectChatTemplate } from './chat-template.js';
export { ChatTemplateError, TokenizerError } from './errors.js';
export { readSpecialTokens, SPECIAL_TOKEN_KEYS, type SpecialTokenKey, type SpecialTokens, specialTokenText } from './special-tokens.js';
export {
  type ChatMessage,
  type ChatTemplateOptions,
  type EncodeOptions,
  type SavableTokenizer,
  savableTokenizer,
  type Tokenizer,
} from './tokenizer.js';
