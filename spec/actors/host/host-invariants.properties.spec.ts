/**
 * The whole host under the hyperv policy, over random workloads (shapes, sizes, weights, buffers):
 * at every second of virtual time every VM's target stays within [minimum, maximum] and the host
 * never assigns more than it has (what each VM holds or was told to hold, summed, within host
 * memory less the reserve). Small hosts, minutes of virtual time: the invariant, not the scale.
 */
import fc from 'fast-check';
import { createHost } from '../../../actors/host/create-host';
import { parseHostScenario } from '../../../actors/host/host-config';

const arbWorkload = fc.oneof(
  fc.record({ kind: fc.constant('demand'), shape: fc.constant('steady'), baseBytes: fc.integer({ min: 100, max: 6000 }).map((m) => `${m}M`), noiseBytes: fc.constantFrom('0', '128M', '512M'), noisePeriodMs: fc.constant('30s'), periodMs: fc.constant('5s') }),
  fc.record({ kind: fc.constant('demand'), shape: fc.constant('ramp'), fromBytes: fc.integer({ min: 100, max: 3000 }).map((m) => `${m}M`), toBytes: fc.integer({ min: 100, max: 7000 }).map((m) => `${m}M`), startMs: fc.constantFrom('1min', '3min'), durationMs: fc.constantFrom('2min', '5min'), periodMs: fc.constant('5s') }),
  fc.record({ kind: fc.constant('demand'), shape: fc.constant('spikes'), baseBytes: fc.integer({ min: 100, max: 2000 }).map((m) => `${m}M`), spikeBytes: fc.integer({ min: 100, max: 5000 }).map((m) => `${m}M`), everyMs: fc.constant('4min'), spikeMs: fc.constant('1min'), periodMs: fc.constant('5s') }),
);

const arbVm = fc.record({
  startupG: fc.integer({ min: 1, max: 3 }),
  minimumM: fc.constantFrom(256, 512, 1024),
  maximumG: fc.integer({ min: 3, max: 8 }),
  buffer: fc.integer({ min: 5, max: 100 }),
  weight: fc.integer({ min: 1, max: 10000 }),
  workload: arbWorkload,
});

describe('a host under the hyperv policy, random workloads', () => {
  it('keeps every target within its limits and never assigns more than the host has', () => {
    fc.assert(
      fc.property(fc.array(arbVm, { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 1000 }), (vms, slackG, seed) => {
        const startup = vms.reduce((sum, v) => sum + v.startupG, 0);
        const scenario = parseHostScenario({
          seed,
          host: { memory: `${startup + slackG + 1}G`, reserve: '1G', policy: { kind: 'hyperv' } },
          vms: vms.map((v, i) => ({
            name: `vm${i}`,
            dynamicMemory: { startup: `${v.startupG}G`, minimum: `${Math.min(v.minimumM, v.startupG * 1024)}M`, maximum: `${v.maximumG}G`, buffer: v.buffer, weight: v.weight },
            workload: v.workload,
          })),
          until: '8min',
        });
        const host = createHost(scenario);
        const usable = scenario.memoryBytes - scenario.reserveBytes;
        let checks = 0;
        const check = (): void => {
          let holds = 0;
          for (const [i, v] of host.vmStates().entries()) {
            const s = scenario.vms[i]!.settings;
            expect(v.targetBytes).toBeGreaterThanOrEqual(s.minimumBytes);
            expect(v.targetBytes).toBeLessThanOrEqual(s.maximumBytes);
            expect(v.assignedBytes).toBeLessThanOrEqual(s.maximumBytes);
            holds += Math.max(v.assignedBytes, v.targetBytes);
          }
          expect(holds).toBeLessThanOrEqual(usable);
          expect(host.hostState().overcommitBytes).toBe(0);
          checks++;
        };
        for (let t = 1000; t <= scenario.until; t += 1000) {
          host.runUntil(t);
          check();
        }
        expect(checks).toBe(480);
        host.dispose();
      }),
      { numRuns: 4 },
    );
  });
});
