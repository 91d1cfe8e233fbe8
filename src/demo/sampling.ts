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
  /** Seed of generate()'s per-row streams: the same seed and prompts give the same samples. */
  seed: number;
}

/**
 * For each prompt (token ids), `samplesPerPrompt` generated token sequences (EOS last when the
 * model emitted one). Row r of the flattened batch is prompt ⌊r / K⌋, sample r mod K, and draws
 * from stream (seed, r), so two models sampled with the same seed share their random numbers.
 */
export function sampleResponses(model: CausalLM, prompts: readonly (readonly number[])[], options: SampleOptions): number[][][] {
  const k = options.samplesPerPrompt;
  const rows = prompts.flatMap((p) => new Array<readonly number[]>(k).fill(p));
  // One call: generate() derives row r's stream from (seed, r), so splitting the rows into
  // several calls would reuse streams. The demo's batches (a few thousand rows of ≤ 26 tokens)
  // keep the KV cache at a few MB.
  const { tokens } = generate(model, rows, {
    maxNewTokens: options.maxNewTokens,
    doSample: true,
    temperature: 1,
    topK: 0,
    topP: 1,
    seed: options.seed,
    eosTokenId: DEMO_IDS.eos,
    padTokenId: DEMO_IDS.pad,
  });
  return prompts.map((_, i) => tokens.slice(i * k, (i + 1) * k));
}
