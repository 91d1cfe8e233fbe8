// A small seeded generator, independent of libtorch's RNG, for the data order (one stream per
// (seed, epoch)) and for sampling in generation (one stream per (seed, batch row)): xoshiro128** 1.1 (Blackman & Vigna 2018,
// https://prng.di.unimi.it/xoshiro128starstar.c), its state filled by SplitMix32 from the seed
// words as the authors recommend. 32-bit arithmetic only (Math.imul, >>> 0).

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** SplitMix32's output function (the MurmurHash3 32-bit finaliser) applied to `state` + the golden ratio step. */
function splitMix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 };
}

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** The generator for `seed` (a non-negative safe integer) and `stream` (e.g. the epoch): each pair gives its own sequence. */
  static forStream(seed: number, stream: number): SeededRandom {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative whole number, got ${seed}`);
    let state = 0;
    for (const word of [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, stream >>> 0]) {
      state = splitMix32((state ^ word) >>> 0).value;
    }
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitMix32(state);
      state = step.state;
      words.push(step.value);
    }
    return new SeededRandom(words as [number, number, number, number]);
  }

  /** A generator with this exact xoshiro128** state (not all zero). */
  constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32-bit output, in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits (two outputs). */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform whole number in [0, n), n ≤ 2^32, without modulo bias (rejection sampling). */
  nextBelow(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles `items` in place (Fisher–Yates, Durstenfeld's form) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}
