/**
 * Issue #9: the adversarial property suite (bounded, seeded). Random guest profiles including
 * `malicious` under memory pressure, random targets, system_reset/stop/cont at random fractional
 * instants; after every step: no part failed, trees well formed and disjoint, counters equal the
 * tree totals, actual within [0, boot + hot-added], queries answer QEMU-shaped replies, and a reset
 * returns to boot size with zero counters. `fuzz` runs the same cases at scale.
 */
import fc from 'fast-check';
import { runFuzzSeed } from '../../actors/fuzz/fuzz-runner';
import { fuzzCase } from '../../actors/fuzz/fuzz-case';

describe('adversarial properties', () => {
  it('malicious guests under memory pressure never break an invariant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (seed) => {
        expect(runFuzzSeed('malicious', seed, 20).breaks).toEqual([]);
      }),
      { numRuns: 8, seed: 9, endOnFailure: true },
    );
  });

  it('any profile (linux, windows, malicious) never breaks an invariant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (seed) => {
        expect(runFuzzSeed('mixed', seed, 20).breaks).toEqual([]);
      }),
      { numRuns: 6, seed: 10, endOnFailure: true },
    );
  });

  it('the cases are what the suite claims: small guests, fractional instants, resets, stops and pressure', () => {
    const cases = Array.from({ length: 40 }, (_, i) => fuzzCase('malicious', i, 20));
    expect(cases.some((c) => c.bootBytes <= 128 * 2 ** 20)).toBe(true);
    const actions = cases.flatMap((c) => c.actions);
    expect(actions.some((a) => a.kind === 'advance' && !Number.isInteger(a.ms))).toBe(true);
    for (const kind of ['system_reset', 'stop', 'cont', 'balloon'] as const) expect(actions.some((a) => a.kind === kind)).toBe(true);
    expect(cases.every((c) => (c.config.workload as { kind: string }).kind === 'steady')).toBe(true);
    // The same seed gives the same case (a break replays from its seed).
    expect(fuzzCase('malicious', 7, 20)).toEqual(fuzzCase('malicious', 7, 20));
  });

  it('a replayed seed gives the same steps and virtual time', () => {
    const a = runFuzzSeed('malicious', 424242, 15);
    const b = runFuzzSeed('malicious', 424242, 15);
    expect(b).toEqual(a);
    expect(a.steps).toBeGreaterThan(15);
  });
});
