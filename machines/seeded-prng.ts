/**
 * A small seeded PRNG for the simulated core (no Math.random there): xoshiro128** (Blackman and
 * Vigna, 2018), its 128-bit state filled from the seed by splitmix32. Same seed, same sequence,
 * on every platform: only 32-bit integer arithmetic (Math.imul, >>>) is used.
 */

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const TWO_POW_32 = 2 ** 32;

export class SeededPrng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: any safe integer (negative seeds are fine); its low 32 and high 21 bits both count. */
  constructor(readonly seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer, got ${String(seed)}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const st = { x: lo };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st) ^ hi;
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next uniformly distributed integer in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** A uniform integer in [min, max], both inclusive; max - min must be below 2^32. */
  nextInt(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`nextInt needs safe integers min <= max, got min=${String(min)} max=${String(max)}`);
    }
    const span = max - min + 1;
    if (span > TWO_POW_32) throw new RangeError(`nextInt range is too wide (${span} values; at most 2^32)`);
    // Rejection sampling: drop the top partial bucket so every value is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return min + (x % span);
    }
  }

  /** The internal state, e.g. to record it in a trace. */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }
}
