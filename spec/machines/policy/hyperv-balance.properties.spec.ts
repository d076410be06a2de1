/**
 * Properties of the Hyper-V-like balancer over random hosts: every target within the VM's
 * [minimum, maximum]; never more than the host has (counting for each VM the larger of what it
 * holds and its target); when the host is short, a heavier VM never gets a smaller share of its
 * demand than a lighter one; with room for everyone, each gets demand + buffer.
 */
import fc from 'fast-check';
import { DM_ALIGN_BYTES } from '../../../machines/policy/dynamic-memory';
import { desiredBytes, divideByWeight, planBalance } from '../../../machines/policy/hyperv-balance';
import type { PolicyTickEvent, PolicyVmView } from '../../../machines/policy/policy-types';

const MiB = 2 ** 20;
const align = (n: number): number => Math.max(16, n) * 2 * MiB;

const arbVm = (i: number): fc.Arbitrary<PolicyVmView> =>
  fc
    .record({
      min: fc.integer({ min: 16, max: 1024 }),
      extraStartup: fc.integer({ min: 0, max: 2048 }),
      extraMax: fc.integer({ min: 0, max: 8192 }),
      buffer: fc.integer({ min: 5, max: 2000 }),
      weight: fc.integer({ min: 1, max: 10000 }),
      demandMiB: fc.option(fc.integer({ min: 0, max: 40_000 }), { nil: null }),
      targetAt: fc.double({ min: 0, max: 1, noNaN: true }),
      actualLag: fc.double({ min: 0, max: 1, noNaN: true }),
      settled: fc.boolean(),
    })
    .map((r) => {
      const minimumBytes = align(r.min);
      const startupBytes = minimumBytes + r.extraStartup * 2 * MiB;
      const maximumBytes = startupBytes + r.extraMax * 2 * MiB;
      const targetBytes = Math.round((minimumBytes + (maximumBytes - minimumBytes) * r.targetAt) / DM_ALIGN_BYTES) * DM_ALIGN_BYTES;
      return {
        name: `vm${i}`,
        settings: { startupBytes, minimumBytes, maximumBytes, bufferPercent: r.buffer, weight: r.weight },
        targetBytes,
        // A VM on its way to the target: somewhere between its startup size and the target.
        actualBytes: Math.round(startupBytes + (targetBytes - startupBytes) * r.actualLag),
        demandBytes: r.demandMiB === null ? null : r.demandMiB * MiB,
        reportedAt: r.demandMiB === null ? null : 1000,
        settled: r.settled,
      };
    });

/** A host whose VMs fit (sum of what they hold <= usable), as the host keeps it. */
const arbTick: fc.Arbitrary<PolicyTickEvent> = fc
  .integer({ min: 1, max: 12 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbVm(i))))
  .chain((vms) => {
    const holds = vms.reduce((sum, v) => sum + Math.max(v.actualBytes ?? 0, v.targetBytes), 0);
    return fc.record({ slack: fc.integer({ min: 0, max: 64 * 1024 }), reserve: fc.integer({ min: 0, max: 4096 }) }).map(({ slack, reserve }) => ({
      type: 'policy.tick' as const,
      now: 60_000,
      host: { memoryBytes: holds + slack * MiB + reserve * MiB, reserveBytes: reserve * MiB },
      vms,
    }));
  });

const apply = (tick: PolicyTickEvent, decisions: { vm: string; targetBytes: number }[]): number[] =>
  tick.vms.map((v) => decisions.filter((d) => d.vm === v.name).pop()?.targetBytes ?? v.targetBytes);

describe('the Hyper-V-like balancer', () => {
  it('keeps every target within [minimum, maximum]', () => {
    fc.assert(
      fc.property(arbTick, (tick) => {
        for (const d of planBalance(tick, { hysteresisBytes: 32 * MiB }).decisions) {
          const s = tick.vms.find((v) => v.name === d.vm)!.settings;
          expect(d.targetBytes).toBeGreaterThanOrEqual(s.minimumBytes);
          expect(d.targetBytes).toBeLessThanOrEqual(s.maximumBytes);
          expect(d.targetBytes % DM_ALIGN_BYTES).toBe(0);
          expect(d.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never assigns more than the host has', () => {
    fc.assert(
      fc.property(arbTick, (tick) => {
        const next = apply(tick, planBalance(tick, { hysteresisBytes: 32 * MiB }).decisions);
        const holds = tick.vms.reduce((sum, v, i) => sum + Math.max(v.actualBytes ?? 0, next[i]!), 0);
        expect(holds).toBeLessThanOrEqual(tick.host.memoryBytes - tick.host.reserveBytes);
      }),
      { numRuns: 400 },
    );
  });

  it('with room for everyone, every settled VM that reported is aimed at demand + buffer (clamped)', () => {
    fc.assert(
      fc.property(arbTick, (tick) => {
        const roomy = { ...tick, host: { memoryBytes: 2 ** 50, reserveBytes: 0 } };
        const next = apply(roomy, planBalance(roomy, { hysteresisBytes: 0 }).decisions);
        roomy.vms.forEach((v, i) => {
          if (v.demandBytes !== null && v.settled) expect(next[i]).toBe(desiredBytes(v));
          else expect(next[i]).toBe(v.targetBytes);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('when the host is short, shares follow weight: a heavier VM is never cut more than a lighter one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10000 }), { minLength: 2, maxLength: 10 }),
        fc.integer({ min: 0, max: 20_000 }),
        (weights, poolMiB) => {
          const floors = weights.map(() => 512 * MiB);
          const caps = weights.map(() => 8 * 1024 * MiB);
          const grant = divideByWeight(floors, caps, weights, poolMiB * MiB);
          const total = grant.reduce((a, b) => a + b, 0) - floors.reduce((a, b) => a + b, 0);
          expect(total).toBeLessThanOrEqual(poolMiB * MiB);
          for (let i = 0; i < weights.length; i++) {
            expect(grant[i]).toBeGreaterThanOrEqual(floors[i]!);
            expect(grant[i]).toBeLessThanOrEqual(caps[i]!);
            for (let j = 0; j < weights.length; j++) {
              // Same floors and caps: more weight, at least as much (one 2 MiB unit of rounding aside).
              if (weights[i]! > weights[j]!) expect(grant[i]! + DM_ALIGN_BYTES).toBeGreaterThanOrEqual(grant[j]!);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
