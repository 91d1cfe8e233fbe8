// What the trainer tests share: token-id preference pairs from a fixed sequence and a seeded
// tiny Llama, so every suite trains on the same, reproducible inputs.
import { type CausalLM, PRESETS, randomInit, type TokenizedPair, torch } from '../../src/index.js';

/** n pairs of token ids (vocabulary 3..255) from a fixed linear congruential sequence: the same `seed`, the same pairs. */
export function makePairs(n: number, seed: number): TokenizedPair[] {
  let x = seed;
  const next = (k: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % k;
  };
  const ids = (len: number) => Int32Array.from({ length: len }, () => 3 + next(253));
  return Array.from({ length: n }, (_, i) => {
    const prompt = ids(3 + next(3));
    return {
      chosen: { prompt, completion: ids(2 + next(5)) },
      rejected: { prompt, completion: ids(2 + next(5)) },
      source: { file: 'generated', line: i + 1 },
      metadata: {},
    } as TokenizedPair;
  });
}

/** The llama-tiny preset initialised from `seed`: two calls with one seed give identical models (a policy and its reference). */
export function tinyModel(seed: number): CausalLM {
  torch.manualSeed(seed);
  return randomInit(PRESETS['llama-tiny']);
}
