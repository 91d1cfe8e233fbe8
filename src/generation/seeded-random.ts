// A seeded random stream for sampling: xoshiro128** (Blackman and Vigna 2018) seeded through
// splitmix32. Generation keeps one stream per batch row, derived from (seed, row), so a row's
// samples do not depend on libtorch's global generator or on the other rows of its batch.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class SeededRandom {
  readonly #s = new Uint32Array(4);

  /** A stream determined by `seed` (a non-negative safe integer) and `stream` (e.g. the batch row). */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    const mix = splitmix32((seed % 2 ** 32) ^ Math.imul(Math.floor(seed / 2 ** 32) + 1, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1));
    for (let i = 0; i < 4; i++) this.#s[i] = mix();
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5), 7), 9) >>> 0;
    const t = (s[1] as number) << 9;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
