/**
 * The host is device-agnostic: a virtio-balloon VM sits on a host beside an hv-balloon VM, takes
 * balloon targets like any VM, and under the hyperv policy (which reads hv-balloon status reports;
 * virtio-balloon has none) keeps its target while the hv-balloon VM is balanced.
 */
import { createHost } from '../../../actors/host/create-host';
import { parseHostScenario } from '../../../actors/host/host-config';

const G = 2 ** 30;

describe('a virtio-balloon VM on a host', () => {
  const scenario = (policy: string) =>
    parseHostScenario({
      host: { memory: '12G', policy: { kind: policy } },
      vms: [
        { name: 'virtio', device: { model: 'virtio-balloon' }, dynamicMemory: { startup: '4G', minimum: '1G', maximum: '4G' } },
        { name: 'hv', dynamicMemory: { startup: '4G', minimum: '1G', maximum: '8G' } },
      ],
      until: '3min',
    });

  it('manual: a balloon target shrinks it, as for an hv-balloon VM, and the host books it', () => {
    const host = createHost(scenario('manual'));
    host.run(60_000);
    host.runStep({ at: 60_000, vm: 'virtio', hmp: 'balloon 2048' });
    host.run(120_000);
    const v = host.vmStates().find((s) => s.name === 'virtio')!;
    expect(v.assignedBytes).toBe(2 * G);
    expect(v.targetBytes).toBe(2 * G);
    expect(host.vm('virtio').clock).toBe(host.clock);
    host.dispose();
  });

  it('hyperv: no demand from a virtio VM, so its target is kept; the hv-balloon VM beside it is balanced', () => {
    const host = createHost(scenario('hyperv'));
    const decided: string[] = [];
    host.decisions$.subscribe((d) => decided.push(d.vm));
    host.run(180_000);
    const [virtio, hv] = host.vmStates();
    expect(virtio!.demandBytes).toBeNull();
    expect(virtio!.targetBytes).toBe(4 * G);
    expect(decided).not.toContain('virtio');
    expect(decided).toContain('hv');
    expect(hv!.targetBytes).toBeLessThan(4 * G);
    host.dispose();
  });
});
