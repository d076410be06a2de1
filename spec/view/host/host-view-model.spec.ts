/**
 * The host view's model: what the overview page draws stays bounded however long the run and
 * however many VMs (samples halve when full, the page gets at most the points it asks for), it
 * depends on virtual time only, and a recording gives back the same overview.
 */
import { HostViewModel, type HostViewInfo, type HostViewSample } from '../../../actors/view/host/host-view-model';

const G = 2 ** 30;

function info(vms: number): HostViewInfo {
  return {
    name: 'test host',
    memoryBytes: 64 * G,
    reserveBytes: 2 * G,
    policy: 'hyperv',
    untilMs: 0,
    vms: Array.from({ length: vms }, (_, i) => ({ name: `vm-${i}`, deviceModel: 'hv-balloon', minimumBytes: G / 2, maximumBytes: 4 * G, weight: 5000, bufferPercent: 20 })),
  };
}

/** A sample at t where every value says its time (VM i's assigned = t + i), so a test can tell which sample it sees. */
function sample(t: number, vms: number): HostViewSample {
  return { t, host: [t, t + 1, t + 2, t + 3], vms: Array.from({ length: vms }, (_, i) => [t + i, t === 0 ? null : t, 2 * G, 0]), policyState: t < 50_000 ? 'balancing.satisfied' : 'balancing.constrained' };
}

/** Samples the model as the recorder does: at each nextSampleAt() up to `until`. */
function fill(model: HostViewModel, until: number, vms: number): void {
  for (let t = model.nextSampleAt(); t <= until; t = model.nextSampleAt()) model.addSample(sample(t, vms));
}

describe('the host view model', () => {
  it('keeps at most `capacity` samples: when full, every other one goes and the period doubles', () => {
    const model = new HostViewModel(info(3), 1000, { capacity: 8, head: 10, tail: 10 });
    fill(model, 7000, 3);
    expect(model.sampleCount).toBe(8);
    expect(model.samplePeriodMs).toBe(1000);
    fill(model, 100_000, 3);
    expect(model.sampleCount).toBeLessThanOrEqual(8);
    expect(model.samplePeriodMs).toBe(16_000);
    // Samples stay on multiples of the period, from 0: the data depends on virtual time only.
    const o = model.overviewAt(undefined, { mode: 'replay', nowMs: 100_000 });
    expect(o.host.times).toEqual([0, 16_000, 32_000, 48_000, 64_000, 80_000, 96_000]);
    expect(o.host.times.every((t) => t % o.periodMs === 0)).toBe(true);
    expect(o.host.series.freeBytes).toEqual(o.host.times);
  });

  it('gives the page at most the points it asks for, the newest always last', () => {
    const model = new HostViewModel(info(100), 1000);
    fill(model, 999_000, 100);
    expect(model.sampleCount).toBe(1000);
    const o = model.overviewAt(undefined, { points: 50, rowPoints: 10, mode: 'live', nowMs: 999_000 });
    expect(o.host.times.length).toBeLessThanOrEqual(50);
    expect(o.host.times[o.host.times.length - 1]).toBe(999_000);
    expect(o.vms.rows).toHaveLength(100);
    expect(o.vms.times.length).toBeLessThanOrEqual(10);
    for (const row of o.vms.rows) for (const values of Object.values(row.series)) expect(values).toHaveLength(o.vms.times.length);
    // VM 42's row is VM 42's data.
    expect(o.vms.rows[42]!.now?.assignedBytes).toBe(999_042);
    // Bounded in bytes too: a 100-VM host's whole overview stays small.
    expect(JSON.stringify(o).length).toBeLessThan(200_000);
  });

  it('shows any earlier moment: series, rows, decisions and the policy state up to t only', () => {
    const model = new HostViewModel(info(2), 1000);
    fill(model, 120_000, 2);
    model.addDecision({ t: 10_000, vm: 'vm-0', fromBytes: 2 * G, toBytes: G, reason: 'demand 800M + 20% buffer', by: 'policy' });
    model.addDecision({ t: 70_000, vm: 'vm-1', fromBytes: 2 * G, toBytes: 3 * G, reason: 'demand 2.4G + 20% buffer', by: 'policy' });
    model.addDecision({ t: 90_000, vm: 'vm-0', fromBytes: G, toBytes: 1.5 * G, reason: 'step: balloon 1536', by: 'step' });
    const at = model.overviewAt(60_500, { mode: 'replay', nowMs: 120_000 });
    expect(at.t).toBe(60_500);
    expect(at.host.times[at.host.times.length - 1]).toBe(60_000);
    expect(at.host.now?.freeBytes).toBe(60_000);
    expect(at.vms.rows[1]!.now).toEqual({ assignedBytes: 60_001, demandBytes: 60_000, targetBytes: 2 * G, pagedBytes: 0 });
    expect(at.decisions.total).toBe(1);
    expect(at.decisions.shown.map((d) => d.vm)).toEqual(['vm-0']);
    expect(at.vms.rows[0]!.lastDecision?.reason).toBe('demand 800M + 20% buffer');
    expect(at.vms.rows[1]!.lastDecision).toBeNull();
    expect(at.policyState).toBe('balancing.constrained');
    expect(model.overviewAt(20_000, { mode: 'replay', nowMs: 120_000 }).policyState).toBe('balancing.satisfied');
    const end = model.overviewAt(undefined, { mode: 'replay', nowMs: 120_000 });
    expect(end.decisions.total).toBe(3);
    expect(end.vms.rows[0]!.lastDecision?.by).toBe('step');
    expect(end.vms.rows[0]!.decisions).toBe(2);
    // Before a VM's first status report its demand is not known: null, not 0.
    expect(model.overviewAt(0, { mode: 'replay', nowMs: 120_000 }).vms.rows[0]!.now?.demandBytes).toBeNull();
  });

  it('shows the newest state between two samples (the live "now", a run\'s end) until the next sample', () => {
    const model = new HostViewModel(info(1), 1000);
    fill(model, 5000, 1);
    model.setTail(sample(5400, 1));
    let o = model.overviewAt(undefined, { mode: 'live', nowMs: 5400 });
    expect(o.host.times).toEqual([0, 1000, 2000, 3000, 4000, 5000, 5400]);
    expect(o.vms.rows[0]!.now?.assignedBytes).toBe(5400);
    // A moment before the tail does not see it.
    expect(model.overviewAt(5200, { mode: 'live', nowMs: 5400 }).host.times.at(-1)).toBe(5000);
    fill(model, 6000, 1);
    o = model.overviewAt(undefined, { mode: 'live', nowMs: 6000 });
    expect(o.host.times.slice(-2)).toEqual([5000, 6000]);
  });

  it('keeps the first and the last decisions of a long run, and says how many it left out', () => {
    const model = new HostViewModel(info(1), 1000, { capacity: 8, head: 5, tail: 10 });
    for (let i = 0; i < 1000; i++) model.addDecision({ t: i * 1000, vm: 'vm-0', fromBytes: i, toBytes: i + 1, reason: `r${i}`, by: 'policy' });
    const kept = model.decisions();
    expect(kept.length).toBeLessThanOrEqual(5 + 15);
    expect(kept.slice(0, 5).map((d) => d.reason)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(kept[kept.length - 1]!.reason).toBe('r999');
    const o = model.overviewAt(undefined, { decisions: 3, mode: 'replay', nowMs: 1_000_000 });
    expect(o.decisions.shown.map((d) => d.reason)).toEqual(['r997', 'r998', 'r999']);
    expect(o.decisions.omitted + kept.length).toBe(1000);
  });

  it('reads back from its JSON (a recording) to the same overview at every moment', () => {
    const model = new HostViewModel(info(3), 1000, { capacity: 16, head: 10, tail: 10 });
    fill(model, 50_000, 3);
    model.addDecision({ t: 12_000, vm: 'vm-2', fromBytes: 2 * G, toBytes: G, reason: 'idle', by: 'policy' });
    model.addNote({ t: 13_000, vm: 'vm-1', text: 'info balloon -> balloon: actual=2048', ok: true });
    model.setTail(sample(50_500, 3));
    const back = HostViewModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    for (const t of [0, 12_000, 33_333, 50_500, undefined]) {
      expect(back.overviewAt(t, { mode: 'replay', nowMs: 50_500 })).toEqual(model.overviewAt(t, { mode: 'replay', nowMs: 50_500 }));
    }
  });

  it('refuses a recording whose overview does not fit, naming the field', () => {
    const json = new HostViewModel(info(2), 1000).toJSON();
    expect(() => HostViewModel.fromJSON({ ...json, periodMs: 0 })).toThrow('overview.periodMs: expected a time > 0');
    expect(() => HostViewModel.fromJSON({ ...json, vms: [] })).toThrow('overview.vms: expected 2 VMs of 4 series of 0 values');
    expect(() => HostViewModel.fromJSON({ ...json, times: [0] })).toThrow('overview.host: expected 4 series of 1 values');
  });
});
