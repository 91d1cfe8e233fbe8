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
 * Special tokens from tokenizer_config.json and special_tokens_map.json, with transformers'
 * precedence (src/transformers/tokenization_utils_base.py, PreTrainedTokenizerBase._from_pretrained,
 * read in 4.57.6 and 5.18.0): special_tokens_map.json is a legacy file, applied only when
 * tokenizer_config.json has no `added_tokens_decoder` (every config written since transformers
 * 4.34 has one). Then each token the map sets replaces the config's, and the map's
 * additional_special_tokens are appended to the config's list where missing (4.57; 5.x keeps the
 * config's list alone).
 */
export function readSpecialTokens(config: Readonly<Record<string, unknown>>, map: Readonly<Record<string, unknown>>): SpecialTokens {
  const useMap = !('added_tokens_decoder' in config);
  const tokens: Partial<Record<SpecialTokenKey, string>> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const text = specialTokenText(useMap && key in map ? map[key] : config[key]);
    if (text !== null) tokens[key] = text;
  }
  const texts = (list: unknown): string[] => (Array.isArray(list) ? list.map(specialTokenText).filter((t): t is string => t !== null) : []);
  const additional = texts(config['additional_special_tokens']);
  if (useMap) for (const t of texts(map['additional_special_tokens'])) if (!additional.includes(t)) additional.push(t);
  return { tokens, additional };
}
