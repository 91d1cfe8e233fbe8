// Autoregressive generation as transformers' generate(): greedy or sampled decoding of a batch
// of prompts, left-padded to a common length (positions counted from each row's first real
// token), with a KV cache, stopping a row at an EOS id or a stop string, up to max_new_tokens.
// Sampling draws from a seeded stream per row (seeded-random.ts), so results are reproducible.
import type { CausalLM } from '../models/causal-lm.js';
import { positionIdsFromMask } from '../nn/attention-mask.js';
import type { KVCache } from '../nn/kv-cache.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { warpLogits } from './logits-warpers.js';

export interface GenerateOptions {
  /** Most tokens generated per row (transformers' max_new_tokens). Default 20. */
  maxNewTokens?: number;
  /** Sample from the (warped) distribution; false picks the most likely token (greedy). Default false. */
  doSample?: boolean;
  /** Sampling temperature (> 0). Default 1. */
  temperature?: number;
  /** Sample among the k most likely tokens; 0 disables. Default 50 (transformers' default). */
  topK?: number;
  /** Nucleus sampling mass in (0, 1]; 1 disables. Default 1. */
  topP?: number;
  /** Seed of the sampling streams. Default 0. */
  seed?: number;
  /** Token id(s) that end a row. Default: the model config's eos_token_id. null: none. */
  eosTokenId?: number | readonly number[] | null;
  /** Id used to pad prompts on the left and finished rows. Default: the config's pad_token_id, else the first EOS id, else 0. */
  padTokenId?: number | null;
  /** A row also ends once its decoded completion contains one of these (needs `tokenizer`). */
  stopStrings?: readonly string[];
  /** Decodes completions for stop strings. */
  tokenizer?: Tokenizer;
  /** Reuse keys and values of earlier positions (default true); false recomputes the whole sequence every step. */
  useCache?: boolean;
}

export type FinishReason = 'eos' | 'stop_string' | 'length';

export interface GenerateOutput {
  /** Per row, the generated token ids (the EOS id included when one ended the row; no padding). */
  tokens: number[][];
  finishReasons: FinishReason[];
}

interface Resolved {
  maxNewTokens: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  eos: Set<number>;
  pad: number;
  stopStrings: readonly string[];
  tokenizer: Tokenizer | undefined;
  useCache: boolean;
}

function configIds(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

function resolveOptions(model: CausalLM, o: GenerateOptions): Resolved {
  const config = model.configJson();
  const maxNewTokens = o.maxNewTokens ?? 20;
  if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0)
    throw new RangeError(`maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  const temperature = o.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new RangeError(`temperature must be a positive number, got ${temperature}`);
  const topK = o.topK ?? 50;
  if (!Number.isSafeInteger(topK) || topK < 0) throw new RangeError(`topK must be a non-negative integer, got ${topK}`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  const eosList = o.eosTokenId === undefined ? configIds(config['eos_token_id']) : o.eosTokenId === null ? [] : configIds(o.eosTokenId);
  const pad = o.padTokenId ?? configIds(config['pad_token_id'])[0] ?? eosList[0] ?? 0;
  const stopStrings = o.stopStrings ?? [];
  if (stopStrings.length > 0 && o.tokenizer === undefined) throw new TypeError('stopStrings need a tokenizer to decode completions');
  if (stopStrings.some((s) => s.length === 0)) throw new RangeError('stop strings must not be empty');
  return {
    maxNewTokens,
    doSample: o.doSample ?? false,
    temperature,
    topK,
    topP,
    seed: o.seed ?? 0,
    eos: new Set(eosList),
    pad,
    stopStrings,
    tokenizer: o.tokenizer,
    useCache: o.useCache ?? true,
  };
}

/** The next token of each row from float32 last-position logits [B, V]. */
function chooseTokens(logits: Tensor, r: Resolved, streams: SeededRandom[]): number[] {
  if (!r.doSample) return torch.tidy(() => logits.argmax(-1).toNumbers());
  const probs = torch.tidy(() => warpLogits(logits, r).softmax(-1).toArray() as Float32Array);
  const vocab = logits.size(-1);
  return streams.map((stream, row) => {
    // Inverse-CDF draw over the row's probabilities (as torch.multinomial with one sample).
    const p = probs.subarray(row * vocab, (row + 1) * vocab);
    let total = 0;
    for (let i = 0; i < vocab; i++) total += p[i] as number;
    const target = stream.next() * total;
    let acc = 0;
    let last = 0;
    for (let i = 0; i < vocab; i++) {
      const pi = p[i] as number;
      if (pi <= 0) continue;
      acc += pi;
      last = i;
      if (target < acc) return i;
    }
    return last;
  });
}

/**
 * Generates continuations of `prompts` (token ids; rows may differ in length). Runs without
 * gradients; the model's parameters are not changed.
 */
export function generate(model: CausalLM, prompts: readonly (readonly number[])[], options: GenerateOptions = {}): GenerateOutput {
  const r = resolveOptions(model, options);
  const batch = prompts.length;
  if (batch === 0) return { tokens: [], finishReasons: [] };
  const vocab = model.vocabSize;
  prompts.forEach((p, row) => {
    if (p.length === 0) throw new RangeError(`prompt ${row} is empty: generation needs at least one token to condition on`);
    for (const id of p)
      if (!Number.isSafeInteger(id) || id < 0 || id >= vocab)
        throw new RangeError(`prompt ${row} holds token id ${id}, outside the model's vocabulary [0, ${vocab})`);
  });
  const width = Math.max(...prompts.map((p) => p.length));
  // Left padding: every row's last prompt token sits in the last column.
  const sequences = prompts.map((p) => [...new Array<number>(width - p.length).fill(r.pad), ...p]);
  const mask = prompts.map((p) => [...new Array<number>(width - p.length).fill(0), ...new Array<number>(p.length).fill(1)]);
  const generated: number[][] = prompts.map(() => []);
  const reasons: (FinishReason | null)[] = prompts.map(() => null);
  const streams = prompts.map((_, row) => SeededRandom.forStream(r.seed, row));
  const cache: KVCache | undefined = r.useCache ? model.newCache() : undefined;
  try {
    for (let step = 0; step < r.maxNewTokens; step++) {
      const fresh = cache === undefined || step === 0;
      const next = torch.noGrad(() =>
        torch.tidy(() => {
          const length = sequences[0]?.length as number;
          const newTokens = fresh ? length : 1;
          const ids = torch.tensor(
            sequences.map((s) => s.slice(length - newTokens)),
            { dtype: 'int64' },
          );
          const attentionMask = torch.tensor(mask, { dtype: 'int64' });
          const positionIds = positionIdsFromMask(attentionMask, newTokens);
          const logits = model.forward(ids, { attentionMask, positionIds, cache, logitsToKeep: 1 }); // [B, 1, V]
          return chooseTokens(logits.select(1, 0).to('float32'), r, streams);
        }),
      );
      for (let row = 0; row < batch; row++) {
        const seq = sequences[row] as number[];
        if (reasons[row] !== null) {
          seq.push(r.pad);
        } else {
          const token = next[row] as number;
          seq.push(token);
          const out = generated[row] as number[];
          out.push(token);
          if (r.eos.has(token)) reasons[row] = 'eos';
          else if (r.stopStrings.length > 0 && containsStopString(r, out)) reasons[row] = 'stop_string';
        }
        (mask[row] as number[]).push(1);
      }
      if (reasons.every((x) => x !== null)) break;
    }
  } finally {
    cache?.dispose();
  }
  return { tokens: generated, finishReasons: reasons.map((x) => x ?? 'length') };
}

function containsStopString(r: Resolved, tokens: readonly number[]): boolean {
  const text = (r.tokenizer as Tokenizer).decode(tokens);
  return r.stopStrings.some((s) => text.includes(s));
}

export interface GeneratedText {
  /** The completion's text (special tokens dropped), cut after the first stop string when one ended it. */
  text: string;
  tokens: number[];
  finishReason: FinishReason;
}

/**
 * Generates from text prompts: each is encoded with the tokenizer's special tokens (BOS where
 * the model uses one), or, with `chat`, wrapped as one user message in the chat template with
 * the assistant turn opened. EOS defaults to the tokenizer's and the model config's EOS ids.
 */
export function generateText(
  model: CausalLM,
  tokenizer: Tokenizer,
  prompts: readonly string[],
  options: GenerateOptions & { chat?: boolean } = {},
): GeneratedText[] {
  const encoded = prompts.map((p) =>
    options.chat
      ? tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: p }], { addGenerationPrompt: true }), {
          addSpecialTokens: false,
        })
      : tokenizer.encode(p),
  );
  let eos = options.eosTokenId;
  if (eos === undefined) {
    const ids = new Set(configIds(model.configJson()['eos_token_id']));
    if (tokenizer.eosTokenId !== null) ids.add(tokenizer.eosTokenId);
    eos = [...ids];
  }
  const padTokenId = options.padTokenId ?? tokenizer.padTokenId ?? undefined;
  const out = generate(model, encoded, { ...options, tokenizer, eosTokenId: eos, ...(padTokenId !== undefined ? { padTokenId } : {}) });
  return out.tokens.map((tokens, row) => {
    let text = tokenizer.decode(tokens, { skipSpecialTokens: true });
    const reason = out.finishReasons[row] as FinishReason;
    if (reason === 'stop_string') {
      const cut = Math.min(
        ...(options.stopStrings ?? []).map((s) => (text.includes(s) ? text.indexOf(s) + s.length : Number.POSITIVE_INFINITY)),
      );
      if (Number.isFinite(cut)) text = text.slice(0, cut);
    }
    return { text, tokens, finishReason: reason };
  });
}
