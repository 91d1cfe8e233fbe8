// The special tokens of a tokenizer_config.json / special_tokens_map.json: each either a plain
// string or a serialised AddedToken ({ "content": "<s>", "lstrip": false, ... }), as
// transformers writes them.

/** transformers' SPECIAL_TOKENS_ATTRIBUTES (single tokens), in its order. */
export const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

export interface SpecialTokens {
  /** The text of each special token that is set. */
  tokens: Partial<Record<SpecialTokenKey, string>>;
  additional: string[];
}

/** The text of a special-token value: a string, or an AddedToken object's `content`; null when unset or unreadable. */
export function specialTokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/**
 * Special tokens from tokenizer_config.json, with special_tokens_map.json's entries taking
 * precedence (transformers applies that file over the config's init arguments).
 */
export function readSpecialTokens(config: Readonly<Record<string, unknown>>, map: Readonly<Record<string, unknown>>): SpecialTokens {
  const tokens: Partial<Record<SpecialTokenKey, string>> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const text = specialTokenText(key in map ? map[key] : config[key]);
    if (text !== null) tokens[key] = text;
  }
  const list = 'additional_special_tokens' in map ? map['additional_special_tokens'] : config['additional_special_tokens'];
  const additional = Array.isArray(list) ? list.map(specialTokenText).filter((t): t is string => t !== null) : [];
  return { tokens, additional };
}
