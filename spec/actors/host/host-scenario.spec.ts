/**
 * Host scenarios: their validation (Hyper-V's rules, the machine the settings need, errors naming
 * the field), the manual policy (targets only from steps; an overcommitted host pages), a user's
 * policy (a function; the host keeps its decisions within limits and reports bad ones), and the
 * same scenario giving the same result.
 */
import { emit, setup } from 'xstate';
import { createHost } from '../../../actors/host/create-host';
import type { PolicyDecisionEvent, PolicyTickEvent } from '../../../machines/policy/policy-types';
import { parseHostScenario } from '../../../actors/host/host-config';
import { runHostScenario } from '../../../actors/host/host-scenario';

const G = 2 ** 30;

const base = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  host: { memory: '16G', policy: { kind: 'hyperv' } },
  vms: [
    { name: 'a', dynamicMemory: { startup: '2G', minimum: '1G', maximum: '6G' }, workload: { kind: 'demand', shape: 'steady', baseBytes: '3G' } },
    { name: 'b', dynamicMemory: { startup: '2G', minimum: '1G', maximum: '6G' } },
  ],
  until: '3min',
  ...over,
});

function errorOf(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { field: string; message: string };
  }
  throw new Error('expected an error');
}

describe('host scenario validation', () => {
  it('derives each VM from its settings: boot at startup RAM, a memdev up to maximum, status reports on', () => {
    const s = parseHostScenario(base());
    expect(s.vms[0]!.vm.machine).toMatchObject({ memory: 2 * G });
    expect(s.vms[0]!.vm.device).toMatchObject({ memdev: 4 * G, statusReport: true });
    expect(s.vms[0]!.settings).toEqual({ startupBytes: 2 * G, minimumBytes: G, maximumBytes: 6 * G, bufferPercent: 20, weight: 5000 });
  });

  it('"count" makes numbered copies, each with its own seed', () => {
    const s = parseHostScenario(base({ vms: [{ name: 'desk', count: 12, dynamicMemory: { startup: '1G' } }] }));
    expect(s.vms.map((v) => v.name).slice(0, 2)).toEqual(['desk-01', 'desk-02']);
    expect(new Set(s.vms.map((v) => v.vm.seed)).size).toBe(12);
  });

  it.each([
    [{ vms: [{ name: 'a', dynamicMemory: { startup: '2G', minimum: '3G' } }] }, 'vms[0].dynamicMemory.minimum', /must not exceed startup RAM \(2G\)/],
    [{ vms: [{ name: 'a', dynamicMemory: { weight: 0 } }] }, 'vms[0].dynamicMemory.weight', /from 1 to 10000, got 0/],
    [{ vms: [{ name: 'a', dynamicMemory: { buffer: 3 } }] }, 'vms[0].dynamicMemory.buffer', /from 5 to 2000/],
    [{ vms: [{ name: 'a', machine: { memory: '4G' }, dynamicMemory: { startup: '2G' } }] }, 'vms[0].dynamicMemory.startup', /differs from machine.memory 4G/],
    [{ vms: [{ name: 'a', device: { statusReport: false } }] }, 'vms[0].device.statusReport', /hyperv policy reads the guest's status reports/],
    [{ vms: [{ name: 'a', device: { memdev: '1G' }, dynamicMemory: { startup: '2G', maximum: '8G' } }] }, 'vms[0].device.memdev', /smaller than maximum - startup \(6G\)/],
    [{ vms: [{ name: 'a', count: 9, dynamicMemory: { startup: '2G' } }] }, 'vms', /startup RAM adds up to 18G, more than the host's 16G/],
    [{ vms: [{ name: 'a', dynamicMemory: { startup: '2G' }, workload: { kind: 'demand', shape: 'steady', baseBytes: 'lots' } }] }, 'vms[0].workload.baseBytes', /invalid size "lots"/],
    [{ vms: [{ name: 'a' }], steps: [{ at: '1s', vm: 'z', hmp: 'info balloon' }] }, 'steps[0].vm', /expected the name of a VM of this host, got "z"/],
    [{ host: { memory: '16G', policy: { kind: 'drs' } } }, 'host.policy.kind', /expected "hyperv", "manual" or "module", got "drs"/],
    [{ vms: [{ name: 'a', dynamicMemory: { startup: '2G', smart: true } }] }, 'vms[0].dynamicMemory.smart', /unknown field/],
  ])('refuses %j: %s', (over, field, message) => {
    const e = errorOf(() => parseHostScenario(base(over), 'host.json'));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`host.json: ${field}: `)).toBe(true);
  });

  it('a virtio-balloon VM cannot grow past its startup RAM: maximum must equal it', () => {
    const e = errorOf(() => parseHostScenario(base({ vms: [{ name: 'v', device: { model: 'virtio-balloon' }, dynamicMemory: { startup: '2G', maximum: '4G' } }] })));
    expect(e.field).toBe('vms[0].dynamicMemory.maximum');
    expect(e.message).toMatch(/virtio-balloon device cannot hot-add/);
  });

  it('a manual host may overcommit its VMs (a KVM-like host pages), a Hyper-V one may not start them', () => {
    const vms = [{ name: 'a', count: 3, dynamicMemory: { startup: '8G' } }];
    expect(() => parseHostScenario(base({ host: { memory: '16G', policy: { kind: 'manual' } }, vms }))).not.toThrow();
    expect(() => parseHostScenario(base({ vms }))).toThrow(/Hyper-V would not start them all/);
  });
});

describe('host runs', () => {
  it('manual: only steps set targets; when the VMs hold more than the host has, the host pages and counts it', () => {
    const s = parseHostScenario({
      host: { memory: '6G', policy: { kind: 'manual' } },
      vms: [{ name: 'a', count: 2, dynamicMemory: { startup: '2G', minimum: '1G', maximum: '6G' }, workload: { kind: 'demand', shape: 'steady', baseBytes: '3500M' } }],
      steps: [
        { at: '60s', vm: 'a-1', hmp: 'balloon 4096' },
        { at: '60s', vm: 'a-2', hmp: 'balloon 4096' },
      ],
      until: '4min',
    });
    const r = runHostScenario(s);
    expect(r.decisions.map((d) => [d.vm, d.toBytes, d.by])).toEqual([
      ['a-1', 4 * G, 'step'],
      ['a-2', 4 * G, 'step'],
    ]);
    expect(r.final.host.overcommitBytes).toBeGreaterThan(0);
    expect(r.final.host.freeBytes).toBe(0);
    for (const v of r.final.vms) {
      expect(v.assignedBytes).toBe(4 * G);
      expect(v.hostPagedBytes).toBeGreaterThan(0);
      expect(v.pagedBytes).toBeGreaterThanOrEqual(v.hostPagedBytes);
    }
    r.host.dispose();
  });

  it('hyperv: a VM whose demand outgrows its memory is grown by the policy, with the reason', () => {
    const r = runHostScenario(parseHostScenario(base()));
    const a = r.decisions.filter((d) => d.vm === 'a' && d.by === 'policy');
    expect(a.length).toBeGreaterThan(0);
    expect(a[a.length - 1]!.toBytes).toBeGreaterThan(3 * G);
    expect(a[a.length - 1]!.reason).toMatch(/^demand [\d.]+G \+ 20% buffer/);
    const b = r.final.vms.find((v) => v.name === 'b')!;
    // b is idle: the policy gave back what it does not need, not below its minimum.
    expect(b.targetBytes).toBe(b.minimumBytes);
    expect(r.final.host.memoryBytes).toBe(16 * G);
    expect(r.final.host.freeBytes).toBeGreaterThan(0);
    r.host.dispose();
  });

  it('a user policy function: its decisions are applied within each VM\'s limits; bad ones are reported, not applied', () => {
    const s = parseHostScenario(base({ host: { memory: '16G', policy: { kind: 'function', name: 'greedy' } } }), 'host.json', {
      policyFunction: (tick) =>
        tick.now === 60_000
          ? [
              { vm: 'a', targetBytes: 100 * G, reason: 'all of it' },
              { vm: 'nobody', targetBytes: G, reason: 'typo' },
            ]
          : [],
    });
    const r = runHostScenario(s);
    expect(r.decisions).toEqual([{ time: 60_000, vm: 'a', fromBytes: 2 * G, toBytes: 6 * G, reason: 'all of it (host clamped 100G to [1G, 6G])', by: 'policy' }]);
    expect(r.rejections).toEqual([{ time: 60_000, reason: 'greedy: decision for unknown VM "nobody"' }]);
    r.host.dispose();
  });

  it('a user policy statechart from a module: its decisions are applied with their reasons', () => {
    // Shrinks b to its minimum at the first tick after b has reported, then stays quiet.
    const machine = setup({ types: { events: {} as PolicyTickEvent, emitted: {} as PolicyDecisionEvent } }).createMachine({
      initial: 'watching',
      states: {
        watching: {
          on: {
            'policy.tick': {
              guard: ({ event }) => event.vms.some((v) => v.name === 'b' && v.demandBytes !== null),
              target: 'done',
              actions: emit({ type: 'policy.decision', vm: 'b', targetBytes: G, reason: 'b is idle' }),
            },
          },
        },
        done: {},
      },
    });
    const s = parseHostScenario(base({ host: { memory: '16G', policy: { kind: 'module', module: 'mine.js' } } }), 'host.json');
    const host = createHost(s, { loadModule: () => ({ machine }) });
    const decisions: { vm: string; toBytes: number; reason: string }[] = [];
    host.decisions$.subscribe((d) => decisions.push(d));
    host.run(120_000);
    expect(host.policyKind).toBe('machine');
    expect(decisions.map(({ vm, toBytes, reason }) => ({ vm, toBytes, reason }))).toEqual([{ vm: 'b', toBytes: G, reason: 'b is idle' }]);
    expect(host.vm('b').queryBalloon().actual).toBe(G);
    host.dispose();
  });

  it('a module that exports neither a policy nor a machine is refused, naming the field', () => {
    const s = parseHostScenario(base({ host: { memory: '16G', policy: { kind: 'module', module: 'empty.js' } } }), 'host.json');
    expect(() => createHost(s, { loadModule: () => ({}) })).toThrow(/^host\.policy\.module: .*empty\.js exports neither "policy" \(a function\) nor "machine"/);
  });

  it('a user policy that throws is stopped and reported once; the VMs keep running', () => {
    const s = parseHostScenario(base({ host: { memory: '16G', policy: { kind: 'function', name: 'buggy' } } }), 'host.json', {
      policyFunction: () => {
        throw new Error('oops');
      },
    });
    const r = runHostScenario(s);
    expect(r.rejections).toEqual([{ time: 1000, reason: 'buggy threw: oops; the policy is stopped, targets stay as they are' }]);
    expect(r.policy.state).toBe('failed');
    expect(r.virtualTimeMs).toBe(180_000);
    r.host.dispose();
  });

  it('the same scenario and seed give the same result', () => {
    const run = (): string => {
      const { host, wallTimeMs, ...rest } = runHostScenario(parseHostScenario(base({ seed: 5 })));
      void wallTimeMs;
      host.dispose();
      return JSON.stringify(rest);
    };
    expect(run()).toBe(run());
  });

  it('all VMs of a host share one clock', () => {
    const host = createHost(parseHostScenario(base()));
    host.run(5000);
    expect(host.vm('a').clock).toBe(host.clock);
    expect(host.vm('b').now()).toBe(5000);
    host.dispose();
  });
});
