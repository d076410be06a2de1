/**
 * The same configuration and seed give the same run, message for message: the whole trace (bus
 * deliveries, DM packets, device warnings and trace points, guest log lines, QMP events) of two
 * runs is identical. A different seed changes what the seeded parts (workload, malicious plan) do.
 */
import { createVm, type VmConfigInput } from '../../index';

function traceOf(config: VmConfigInput): string[] {
  const vm = createVm(config);
  const lines: string[] = [];
  vm.trace$.subscribe((r) => lines.push(JSON.stringify(r)));
  vm.run(60_000);
  vm.hmp('balloon 2048');
  vm.run(20_000);
  vm.hmp('balloon 6144');
  vm.run(20_000);
  vm.execute({ execute: 'system_reset' });
  vm.run(5_000);
  vm.dispose();
  return lines;
}

const base = (seed: number, profile: 'linux' | 'malicious'): VmConfigInput => ({
  seed,
  machine: { memory: '4G', maxmem: '44G' },
  device: { memdev: '8G', statusReport: true },
  guest: { profile },
  workload: { kind: 'steady', usedBytes: '512M', churnBytes: '128M', periodMs: '500ms', dirtyBytes: '32M' },
});

describe('determinism', () => {
  it('a Linux guest with a seeded workload: two runs give identical traces', () => {
    const a = traceOf(base(7, 'linux'));
    const b = traceOf(base(7, 'linux'));
    expect(a.length).toBeGreaterThan(300);
    expect(b).toEqual(a);
  });

  it('a malicious guest: two runs give identical traces, including every warning QEMU printed', () => {
    const a = traceOf(base(3, 'malicious'));
    const b = traceOf(base(3, 'malicious'));
    expect(a.some((l) => l.includes('"type":"warning"'))).toBe(true);
    expect(b).toEqual(a);
  });

  it('another seed gives another run of the seeded workload', () => {
    expect(traceOf(base(8, 'linux'))).not.toEqual(traceOf(base(7, 'linux')));
  });
});
