// The demo's synthetic task: "sort these letters". A prompt is a short multiset of letters; the
// ideal response is the same letters in alphabetical order. The gold reward, hidden from every
// model, scores a response against that ideal; the demonstrations a model is fine-tuned on come
// from careless annotators (some copy the prompt unsorted, some drop, repeat or mistype letters),
// so a model that imitates them is mediocre and its samples vary in quality: best-vs-worst pairs
// of its own samples carry a preference signal. docs/demo.md describes the task in prose.
import type { SeededRandom } from '../random/seeded-random.js';

/** The letters prompts and responses are written in. */
export const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] as const;
export type Letter = (typeof LETTERS)[number];

/** Shortest and longest prompt, in letters. */
export const PROMPT_LETTERS = { min: 3, max: 8 } as const;

/** One task instance: the letters to sort, as indices into LETTERS. */
export type SortPrompt = readonly number[];

/** A response: its letters (indices into LETTERS) and whether the model ended it with EOS. */
export interface SortResponse {
  letters: readonly number[];
  finished: boolean;
}

/** A uniformly random prompt: a length in [min, max], then each letter independently and uniformly. */
export function randomPrompt(rng: SeededRandom): SortPrompt {
  const length = PROMPT_LETTERS.min + rng.nextBelow(PROMPT_LETTERS.max - PROMPT_LETTERS.min + 1);
  return Array.from({ length }, () => rng.nextBelow(LETTERS.length));
}

/** The ideal response: the prompt's letters in alphabetical order. */
export function sortedLetters(prompt: SortPrompt): number[] {
  return [...prompt].sort((a, b) => a - b);
}

/** Length of the longest common subsequence of `a` and `b` (the classic O(|a|·|b|) table, one row at a time). */
export function longestCommonSubsequence(a: readonly number[], b: readonly number[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      row[j] = x === b[j - 1] ? (previous[j - 1] as number) + 1 : Math.max(previous[j] as number, row[j - 1] as number);
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/** Reward taken from every letter beyond the ideal length, in units of one correct letter. */
export const EXTRA_LETTER_PENALTY = 0.5;
/** Reward taken from a response that never emitted EOS (it ran out of tokens). */
export const UNFINISHED_PENALTY = 0.5;

/**
 * The gold reward of `response` to `prompt`, in [−∞, 1]; 1 exactly for the sorted letters
 * followed by EOS:
 *   (LCS(response, sorted) − 0.5·max(0, |response| − n)) / n − (0.5 if no EOS)
 * with n the prompt's length. LCS credits each letter in the right relative order, so a missing
 * letter costs 1/n, an out-of-order one about 1/n, an extra one 0.5/n: responses that are too
 * short and too long are both penalised, the short ones more.
 */
export function goldReward(prompt: SortPrompt, response: SortResponse): number {
  const ideal = sortedLetters(prompt);
  const n = ideal.length;
  const extra = Math.max(0, response.letters.length - n);
  const score = (longestCommonSubsequence(response.letters, ideal) - EXTRA_LETTER_PENALTY * extra) / n;
  return response.finished ? score : score - UNFINISHED_PENALTY;
}

/** How careless the annotators who write the fine-tuning demonstrations are. */
export interface AnnotatorNoise {
  /** Probability that a demonstration copies the prompt in its own order instead of sorting it. */
  copyUnsorted: number;
  /** Per letter: probability that it is left out. */
  drop: number;
  /** Per letter: probability that it is written twice. */
  repeat: number;
  /** Per letter: probability that a uniformly random letter is written instead. */
  mistype: number;
}

/** The noise the demo uses: about 35% of demonstrations come out exactly right (measured over 10^5 draws), the rest have some of the faults above. */
export const DEFAULT_NOISE: AnnotatorNoise = { copyUnsorted: 0.25, drop: 0.06, repeat: 0.06, mistype: 0.03 };

/** One demonstration for `prompt` by a careless annotator (always finished with EOS). */
export function noisyDemonstration(prompt: SortPrompt, rng: SeededRandom, noise: AnnotatorNoise = DEFAULT_NOISE): number[] {
  const base = uniform(rng) < noise.copyUnsorted ? [...prompt] : sortedLetters(prompt);
  const out: number[] = [];
  for (const letter of base) {
    if (uniform(rng) < noise.drop) continue;
    const written = uniform(rng) < noise.mistype ? rng.nextBelow(LETTERS.length) : letter;
    out.push(written);
    if (uniform(rng) < noise.repeat) out.push(written);
  }
  return out;
}

/** A uniform number in [0, 1) with 32 random bits. */
export function uniform(rng: SeededRandom): number {
  return rng.nextUint32() / 2 ** 32;
}

/** The prompt as text, e.g. "d a c =" (what the tokenizer reads). */
export function promptText(prompt: SortPrompt): string {
  return `${prompt.map((i) => LETTERS[i]).join(' ')} =`;
}

/** Response letters as text, e.g. "a c d". */
export function lettersText(letters: readonly number[]): string {
  return letters.map((i) => LETTERS[i]).join(' ');
}
