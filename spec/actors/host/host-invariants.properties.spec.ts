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

type ArbVm = typeof arbVm extends fc.Arbitrary<infer T> ? T : never;

/** Runs the host for 8 virtual minutes, checking the invariants every second. */
function runAndCheck(vms: ArbVm[], slackG: number, seed: number): void {
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
}

describe('a host under the hyperv policy, random workloads', () => {
  it('keeps every target within its limits and never assigns more than the host has', () => {
    fc.assert(
      fc.property(fc.array(arbVm, { minLength: 2, maxLength: 3 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 1000 }), runAndCheck),
      { numRuns: 4 },
    );
  });

  // Found by the property: vm0 was hot-adding toward 1278M when the host got short and its target was
  // cut to 1150M, then 1126M; the 128M chunk in flight took it to 1152M while vm1 had been given
  // the difference. An unsettled VM now keeps its target and a growing one counts it as held.
  it('does not hand out memory a VM growing toward its old target will still take', () => {
    const spiky = { kind: 'demand', shape: 'spikes', everyMs: '4min', spikeMs: '1min', periodMs: '5s' } as const;
    runAndCheck(
      [
        { startupG: 1, minimumM: 256, maximumG: 3, buffer: 5, weight: 1, workload: { ...spiky, baseBytes: '100M', spikeBytes: '4458M' } },
        { startupG: 1, minimumM: 256, maximumG: 3, buffer: 20, weight: 1, workload: { ...spiky, baseBytes: '409M', spikeBytes: '143M' } },
      ],
      0,
      2,
    );
  });

  // Also found by the property: vm1's hot-add toward 4908M waited on a slow guest past the 30 s settle
  // timeout, its target was cut to 4100M, then the chunk in flight took it to 4698M. A VM settles by
  // timeout only when no transaction is under way.
  it('does not treat a VM as settled while its hot-add is still under way', () => {
    const spiky = { kind: 'demand', shape: 'spikes', everyMs: '4min', spikeMs: '1min', periodMs: '5s' } as const;
    runAndCheck(
      [
        { startupG: 1, minimumM: 256, maximumG: 4, buffer: 5, weight: 594, workload: { ...spiky, baseBytes: '127M', spikeBytes: '4465M' } },
        { startupG: 1, minimumM: 256, maximumG: 5, buffer: 23, weight: 595, workload: { ...spiky, baseBytes: '332M', spikeBytes: '3457M' } },
      ],
      6,
      2,
    );
  });
});
