import { SeededPrng } from '../../machines/seeded-prng';

const take = (p: SeededPrng, n: number): number[] => Array.from({ length: n }, () => p.nextU32());

describe('seeded PRNG', () => {
  test('the same seed gives the same sequence; other seeds give other sequences', () => {
    expect(take(new SeededPrng(42), 100)).toEqual(take(new SeededPrng(42), 100));
    expect(take(new SeededPrng(42), 10)).not.toEqual(take(new SeededPrng(43), 10));
    // The high bits of a large seed count too.
    expect(take(new SeededPrng(2 ** 40 + 1), 10)).not.toEqual(take(new SeededPrng(1), 10));
  });

  test('values stay in their ranges', () => {
    const p = new SeededPrng(7);
    for (let i = 0; i < 2000; i++) {
      const u = p.nextU32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = p.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      const n = p.nextInt(-3, 3);
      expect(Number.isInteger(n) && n >= -3 && n <= 3).toBe(true);
    }
    expect(p.nextInt(5, 5)).toBe(5);
  });

  test('nextInt covers its whole range roughly evenly', () => {
    const p = new SeededPrng(1);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[p.nextInt(0, 9)] += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  test('bad arguments are refused', () => {
    expect(() => new SeededPrng(1.5)).toThrow('seed must be a safe integer, got 1.5');
    expect(() => new SeededPrng(1).nextInt(3, 2)).toThrow(/min <= max/);
    expect(() => new SeededPrng(1).nextInt(0, 2 ** 33)).toThrow(/too wide/);
  });
});
