// AutoTokenizer: a Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json, optional
// special_tokens_map.json and chat_template.jinja) behind the package's Tokenizer contract.
// Encoding and decoding are @huggingface/tokenizers' (a JS port of the Rust `tokenizers`);
// special tokens and the chat template come from the config files as transformers reads them.
//
// Double BOS: chat templates of BOS-using models usually write the BOS text themselves
// ("{{ bos_token }}…"), and transformers then encodes the rendered text with
// add_special_tokens=False. encodeChat() does exactly that. encode() with special tokens on a
// text that already starts with the BOS text keeps only that one BOS (transformers would emit
// two and warn): the post-processor's BOS is dropped when it is followed by the text's own.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import { ChatTemplate, selectChatTemplate } from './chat-template.js';
import { ChatTemplateError, TokenizerError } from './errors.js';
import { readSpecialTokens, type SpecialTokens } from './special-tokens.js';
import type { ChatMessage, ChatTemplateOptions, EncodeOptions, Tokenizer } from './tokenizer.js';

/** The files a tokenizer folder may hold, in the order they are written back. */
const FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja'] as const;
type FileName = (typeof FILES)[number];

// transformers' Llama-style fast tokenizers rebuild their post-processor from add_bos_token
// (default true) and add_eos_token (default false) in __init__ (update_post_processor).
const BOS_EOS_FLAG_CLASSES = new Set([
  'LlamaTokenizer',
  'LlamaTokenizerFast',
  'CodeLlamaTokenizer',
  'CodeLlamaTokenizerFast',
  'GemmaTokenizer',
  'GemmaTokenizerFast',
]);

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function parseObject(text: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TokenizerError(`${path} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

type TemplateItem = { SpecialToken: { id: string; type_id: number } } | { Sequence: { id: 'A' | 'B'; type_id: number } };

/** transformers' update_post_processor as tokenizer.json post-processor JSON. */
function bosEosPostProcessor(bos: [string, number] | null, eos: [string, number] | null): Record<string, unknown> {
  const special = (token: [string, number] | null, typeId: number): TemplateItem[] =>
    token === null ? [] : [{ SpecialToken: { id: token[0], type_id: typeId } }];
  const single: TemplateItem[] = [...special(bos, 0), { Sequence: { id: 'A', type_id: 0 } }, ...special(eos, 0)];
  const pair: TemplateItem[] = [...single, ...special(bos, 1), { Sequence: { id: 'B', type_id: 1 } }, ...special(eos, 1)];
  const specialTokens: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  for (const t of [bos, eos]) if (t !== null) specialTokens[t[0]] = { id: t[0], ids: [t[1]], tokens: [t[0]] };
  return { type: 'TemplateProcessing', single, pair, special_tokens: specialTokens };
}

export class AutoTokenizer implements Tokenizer {
  readonly #hf: HfTokenizer;
  readonly #files: Map<FileName, string>;
  readonly #special: SpecialTokens;
  readonly #template: ChatTemplate | null;
  readonly #vocabSize: number;

  private constructor(hf: HfTokenizer, files: Map<FileName, string>, special: SpecialTokens, template: ChatTemplate | null) {
    this.#hf = hf;
    this.#files = files;
    this.#special = special;
    this.#template = template;
    let maxId = -1;
    for (const id of hf.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.#vocabSize = maxId + 1;
  }

  /** Reads a tokenizer folder. tokenizer.json is required; the config files are optional. */
  static async fromPretrained(dir: string): Promise<AutoTokenizer> {
    const files = new Map<FileName, string>();
    for (const name of FILES) {
      const text = await readOptional(join(dir, name));
      if (text !== null) files.set(name, text);
    }
    const tokenizerText = files.get('tokenizer.json');
    if (tokenizerText === undefined) {
      throw new TokenizerError(
        `${dir}: no tokenizer.json. alpha-dpo reads the "fast" tokenizer format; a folder with only vocab.json/merges.txt or ` +
          'tokenizer.model can be converted in Python with `AutoTokenizer.from_pretrained(dir).save_pretrained(dir)` (transformers).',
      );
    }
    const tokenizerJson = parseObject(tokenizerText, join(dir, 'tokenizer.json'));
    const configText = files.get('tokenizer_config.json');
    const config = configText === undefined ? {} : parseObject(configText, join(dir, 'tokenizer_config.json'));
    const mapText = files.get('special_tokens_map.json');
    const map = mapText === undefined ? {} : parseObject(mapText, join(dir, 'special_tokens_map.json'));
    const special = readSpecialTokens(config, map);

    const tokenizerClass = config['tokenizer_class'];
    if (typeof tokenizerClass === 'string' && BOS_EOS_FLAG_CLASSES.has(tokenizerClass)) {
      tokenizerJson['post_processor'] = AutoTokenizer.#llamaPostProcessor(tokenizerJson, config, special, dir);
    }
    let hf: HfTokenizer;
    try {
      // transformers' default for clean_up_tokenization_spaces is false; the JS library's is true.
      hf = new HfTokenizer(tokenizerJson, {
        ...config,
        additional_special_tokens: special.additional,
        clean_up_tokenization_spaces: config['clean_up_tokenization_spaces'] ?? false,
      });
    } catch (e) {
      throw new TokenizerError(`${join(dir, 'tokenizer.json')}: cannot build the tokenizer: ${(e as Error).message}`);
    }
    const jinja = files.get('chat_template.jinja');
    const source = jinja ?? selectChatTemplate(config['chat_template'], join(dir, 'tokenizer_config.json'));
    const template =
      source === null
        ? null
        : new ChatTemplate(source, jinja !== undefined ? join(dir, 'chat_template.jinja') : join(dir, 'tokenizer_config.json'));
    return new AutoTokenizer(hf, files, special, template);
  }

  static #llamaPostProcessor(
    tokenizerJson: Record<string, unknown>,
    config: Record<string, unknown>,
    special: SpecialTokens,
    dir: string,
  ): Record<string, unknown> {
    const addBos = config['add_bos_token'] ?? true;
    const addEos = config['add_eos_token'] ?? false;
    const idOf = (text: string | undefined, flag: string): [string, number] => {
      const added = Array.isArray(tokenizerJson['added_tokens'])
        ? (tokenizerJson['added_tokens'] as { content?: unknown; id?: unknown }[])
        : [];
      const model = tokenizerJson['model'] as { vocab?: Record<string, number> | [string, number][] } | undefined;
      const fromAdded = added.find((t) => t.content === text)?.id;
      const vocab = model?.vocab;
      const fromVocab = vocab !== undefined && !Array.isArray(vocab) && text !== undefined ? vocab[text] : undefined;
      const id = typeof fromAdded === 'number' ? fromAdded : fromVocab;
      if (text === undefined || typeof id !== 'number') {
        throw new TokenizerError(
          `${dir}: tokenizer_config.json sets ${flag} but its token ${text === undefined ? 'is not set' : `'${text}' is not in the vocabulary`}`,
        );
      }
      return [text, id];
    };
    return bosEosPostProcessor(
      addBos === true ? idOf(special.tokens.bos_token, 'add_bos_token') : null,
      addEos === true ? idOf(special.tokens.eos_token, 'add_eos_token') : null,
    );
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const ids = this.#hf.encode(text, { add_special_tokens: addSpecialTokens }).ids;
    const bos = this.bosTokenId;
    if (addSpecialTokens && bos !== null && ids[0] === bos && ids[1] === bos && this.bosToken !== null && text.startsWith(this.bosToken)) {
      return ids.slice(1); // the text brings its own BOS (see the file comment)
    }
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.#hf.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (this.#template === null) {
      throw new ChatTemplateError(
        'this tokenizer has no chat template (tokenizer_config.json has no chat_template and there is no chat_template.jinja): ' +
          'use plain prompts, or add a template to the folder',
      );
    }
    return this.#template.render(messages, {
      addGenerationPrompt: options.addGenerationPrompt ?? false,
      special: this.#special,
      kwargs: options.chatTemplateKwargs,
    });
  }

  /**
   * Token ids of a conversation, as transformers' apply_chat_template(tokenize=True): the
   * rendered template encoded without adding special tokens (the template writes them).
   */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
  }

  /** The id of a token string (regular or added), or null. */
  tokenToId(token: string): number | null {
    return this.#hf.token_to_id(token) ?? null;
  }

  /** The token string of an id, or null. */
  idToToken(id: number): string | null {
    return this.#hf.id_to_token(id) ?? null;
  }

  get hasChatTemplate(): boolean {
    return this.#template !== null;
  }

  /** The chat template's Jinja source, or null. */
  get chatTemplate(): string | null {
    return this.#template?.source ?? null;
  }

  get bosToken(): string | null {
    return this.#special.tokens.bos_token ?? null;
  }

  get eosToken(): string | null {
    return this.#special.tokens.eos_token ?? null;
  }

  get padToken(): string | null {
    return this.#special.tokens.pad_token ?? null;
  }

  get unkToken(): string | null {
    return this.#special.tokens.unk_token ?? null;
  }

  get bosTokenId(): number | null {
    return this.bosToken === null ? null : this.tokenToId(this.bosToken);
  }

  get eosTokenId(): number | null {
    return this.eosToken === null ? null : this.tokenToId(this.eosToken);
  }

  get padTokenId(): number | null {
    return this.padToken === null ? null : this.tokenToId(this.padToken);
  }

  /** Tokens including added ones (transformers' len(tokenizer)): the largest id + 1. */
  get vocabSize(): number {
    return this.#vocabSize;
  }

  /** Writes the files this tokenizer was read from, unchanged, into `dir` (transformers reads them back). */
  async savePretrained(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of this.#files) {
      const bytes = new TextEncoder().encode(text);
      await writeFileAtomically(join(dir, name), (fh) => writeFully(fh, bytes, 0));
    }
  }
}
