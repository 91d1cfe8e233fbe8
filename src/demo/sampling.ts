// Sampling several responses per prompt from a model, as the on-policy recipe and the evaluation
// need: pure ancestral sampling (temperature 1, no top-k or top-p), so the samples come from the
// model's own distribution and Monte-Carlo estimates over them (the KL) are unbiased.
import { generate } from '../generation/generate.js';
import type { CausalLM } from '../models/causal-lm.js';
import { DEMO_IDS } from './demo-tokenizer.js';

export interface SampleOptions {
  /** Responses drawn per prompt. */
  samplesPerPrompt: number;
  /** A response with no EOS after this many tokens is cut (and counts as unfinished). */
  maxNewTokens: number;
  /** Seed of the sampling streams (< 2^37): the same seed and prompts give the same samples. */
  seed: number;
}

/**
 * Prompts per generate() call. The KV cache grows with the rows of a call: 2 layers × (K, V) ×
 * rows × 64 floats × ≤ 26 positions, so 256 prompts × 8 samples hold ≈ 55 MB where all 2048
 * training prompts at once would hold ≈ 440 MB (and twice that while it is extended).
 */
export const PROMPTS_PER_CALL = 256;
/** Calls per seed: chunk c uses generate() seed `seed · 2^16 + c`, so no two chunks share streams. */
const MAX_CALLS = 2 ** 16;

/**
 * For each prompt (token ids), `samplesPerPrompt` generated token sequences (EOS last when the
 * model emitted one). Prompts go to generate() in chunks of PROMPTS_PER_CALL; within chunk c,
 * row r (prompt ⌊r / K⌋ of the chunk, sample r mod K) draws from generate()'s stream
 * (seed · 2^16 + c, r). Two models sampled with the same seed and prompts therefore share their
 * random numbers row for row.
 */
export function sampleResponses(model: CausalLM, prompts: readonly (readonly number[])[], options: SampleOptions): number[][][] {
  const k = options.samplesPerPrompt;
  if (!Number.isSafeInteger(options.seed) || options.seed < 0 || options.seed >= 2 ** 37) {
    throw new RangeError(`sampling seed must be an integer in [0, 2^37), got ${options.seed}`);
  }
  const calls = Math.ceil(prompts.length / PROMPTS_PER_CALL);
  if (calls > MAX_CALLS) throw new RangeError(`at most ${MAX_CALLS * PROMPTS_PER_CALL} prompts per call, got ${prompts.length}`);
  const out: number[][][] = [];
  for (let c = 0; c < calls; c++) {
    const chunk = prompts.slice(c * PROMPTS_PER_CALL, (c + 1) * PROMPTS_PER_CALL);
    const rows = chunk.flatMap((p) => new Array<readonly number[]>(k).fill(p));
    const { tokens } = generate(model, rows, {
      maxNewTokens: options.maxNewTokens,
      doSample: true,
      temperature: 1,
      topK: 0,
      topP: 1,
      seed: options.seed * MAX_CALLS + c,
      eosTokenId: DEMO_IDS.eos,
      padTokenId: DEMO_IDS.pad,
    });
    chunk.forEach((_, i) => {
      out.push(tokens.slice(i * k, (i + 1) * k));
    });
  }
  return out;
}
