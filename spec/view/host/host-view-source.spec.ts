/**
 * The host view on a real host: the overview is the same for the same scenario however virtual
 * time was moved (live, in steps, or recorded by `run --record`), the page's time controls move the
 * host's one clock (from the overview or from any VM's detail), the scenario's steps show as they
 * run, and a 100-VM host's overview stays bounded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../actors/host/create-host';
import { loadHostScenarioFile } from '../../../actors/host/host-scenario';
import { parseHostScenario } from '../../../actors/host/host-config';
import { runCommand } from '../../../actors/cli/commands/run';
import type { HostRecording } from '../../../actors/view/host-recording';
import { hostViewInfo } from '../../../actors/view/host/host-view-recorder';
import { LiveHostViewSource, ReplayHostViewSource } from '../../../actors/view/host/host-view-source';
import type { HostOverview } from '../../../actors/view/host/host-view-model';
import { writeSmallHost } from '../../actors/host/small-host';

const G = 2 ** 30;

function live(file: string, options: Partial<ConstructorParameters<typeof LiveHostViewSource>[2]> = {}): { host: Host; source: LiveHostViewSource } {
  const scenario = loadHostScenarioFile(file);
  const host = createHost(scenario);
  const source = new LiveHostViewSource(host, hostViewInfo(scenario, host, file), { speed: 1, paused: true, steps: scenario.steps, ...options });
  return { host, source };
}

/** What the page draws from an overview, without the live-only clock. */
function drawn(o: HostOverview): unknown {
  return { t: o.t, host: o.host, vms: o.vms, decisions: o.decisions, policyState: o.policyState, periodMs: o.periodMs };
}

describe('the live host view', () => {
  const { dir, file } = writeSmallHost('hv-host-view-', { steps: [{ at: '70s', vm: 'web', hmp: 'balloon 3072' }, { at: '75s', vm: 'idle', hmp: 'info balloon' }] });
  const opened: Array<{ host: Host; source: LiveHostViewSource }> = [];
  const open = (options: Partial<ConstructorParameters<typeof LiveHostViewSource>[2]> = {}) => {
    const o = live(file, options);
    opened.push(o);
    return o;
  };
  afterAll(() => {
    for (const { host, source } of opened) {
      source.close();
      host.dispose();
    }
  });

  it('shows the same host for the same scenario however time was moved, and the same as a recorded run', async () => {
    const a = open();
    const b = open();
    for (let i = 0; i < 9; i++) await a.source.control({ execute: 'x-sim-advance', arguments: { ms: 10_000 } });
    expect(await b.source.control({ execute: 'x-sim-advance', arguments: { ms: 90_000 } })).toEqual({ return: { ms: 90_000 } });
    const oa = a.source.overview({ points: 50, rowPoints: 20 });
    expect(oa.t).toBe(90_000);
    expect(drawn(b.source.overview({ points: 50, rowPoints: 20 }))).toEqual(drawn(oa));

    // `run host.json --record` saved the same overview: replayed at 90 s, it is this one.
    const record = join(dir, 'run.json');
    await runCommand(file, { record }, { stdout: () => undefined, stderr: () => undefined });
    const recording = JSON.parse(readFileSync(record, 'utf8')) as HostRecording;
    const replay = new ReplayHostViewSource(recording, record);
    expect(drawn(replay.overview({ t: 90_000, points: 50, rowPoints: 20 }))).toEqual(drawn(oa));
    expect(replay.now()).toBe(120_000);

    // What it shows is the host's own account: rows, limits, the policy's decisions with reasons.
    const web = oa.vms.rows.find((r) => r.name === 'web')!;
    expect(web.now?.assignedBytes).toBe(a.host.vmStates()[0]!.assignedBytes);
    expect(oa.info.vms.map((v) => [v.name, v.minimumBytes, v.maximumBytes])).toEqual([['web', G, 4 * G], ['idle', G, 4 * G]]);
    expect(oa.host.now?.freeBytes).toBe(a.host.hostState().freeBytes);
    const idle = oa.vms.rows.find((r) => r.name === 'idle')!;
    expect(idle.lastDecision).toMatchObject({ vm: 'idle', toBytes: G, by: 'policy' });
    expect(idle.lastDecision?.reason).toMatch(/minimum/);
    // The scenario's steps ran at their times: a balloon step is a decision "by step", every step a note.
    expect(oa.decisions.shown.find((d) => d.by === 'step')).toMatchObject({ t: 70_000, vm: 'web', toBytes: 3 * G });
    expect(oa.notes.map((n) => `${n.vm}: ${n.text.split('\n')[0]}`)).toEqual(['web: balloon 3072', 'idle: info balloon -> balloon: actual=1024']);
  });

  it('moves the host\'s one clock from any VM\'s detail, which records from when it is opened', async () => {
    const { host, source } = open();
    await source.control({ execute: 'x-sim-advance', arguments: { ms: 30_000 } });
    expect(source.vmSource('db')).toBeUndefined();
    const web = source.vmSource('web')!;
    expect(source.vmSource('web')).toBe(web);
    // Its first events are the VM as it is when opened.
    expect(web.events()[0]!.t).toBe(30_000);
    expect(web.snapshot().parts.device?.state).toMatch(/^S_/);
    // A step on the VM's page moves every VM of the host.
    // (It answers at once with where time goes; the host gets there in slices.)
    expect(web.execute({ execute: 'x-sim-advance', arguments: { ms: 5000 } })).toMatchObject({ return: {} });
    await source.settled();
    expect(host.now()).toBe(35_000);
    expect(host.vm('idle').now()).toBe(35_000);
    // Run and pause on the VM's page are the host's: the overview's clock says so, and back.
    web.execute({ execute: 'x-sim-speed', arguments: { speed: 60 } });
    expect(source.overview().clock).toEqual({ running: true, speed: 60 });
    await source.control({ execute: 'x-sim-speed', arguments: { speed: 0 } });
    expect(web.snapshot().clock).toEqual({ running: false, speed: 60 });
  });

  it('answers the overview\'s controls as QMP does, and refuses the rest naming where they go', async () => {
    const { source } = open();
    expect(await source.control({ execute: 'x-sim-speed', arguments: { speed: -1 } })).toEqual({ error: { class: 'GenericError', desc: "Parameter 'speed' expects a non-negative number" } });
    expect(await source.control({ execute: 'x-sim-advance', arguments: { ms: 'soon' } })).toEqual({ error: { class: 'GenericError', desc: 'Parameter \'ms\' expects a time >= 0, got "soon"' } });
    expect(await source.control({ execute: 'balloon', arguments: { value: G } })).toEqual({
      error: { class: 'CommandNotFound', desc: 'The host view takes x-sim-speed and x-sim-advance; "balloon" goes to a VM (open its detail)' },
    });
  });

  it('pauses at the scenario\'s end and says so', async () => {
    const { source } = open({ paused: false });
    await source.control({ execute: 'x-sim-advance', arguments: { ms: 130_000 } });
    const o = source.overview();
    expect(o.clock?.running).toBe(false);
    expect(o.notes.at(-1)?.text).toBe('the scenario ends at 120 s: virtual time paused; press run to go on');
  });
});

describe('a 100-VM host', () => {
  it('draws bounded data: a row per VM, every series within the points asked, samples halved as time goes', async () => {
    const scenario = parseHostScenario(
      {
        name: 'hundred',
        host: { memory: '256G', policy: { kind: 'hyperv' } },
        vms: [{ name: 'vm', count: 100, dynamicMemory: { startup: '1G', minimum: '512M', maximum: '2G' }, workload: { kind: 'demand', shape: 'steady', baseBytes: '1500M' } }],
        until: '10min',
      },
      'hundred.json',
    );
    const host = createHost(scenario);
    const source = new LiveHostViewSource(host, hostViewInfo(scenario, host), { speed: 1, paused: true, limits: { capacity: 16, head: 100, tail: 200 } });
    try {
      await source.control({ execute: 'x-sim-advance', arguments: { ms: 90_000 } });
      const o = source.overview({ points: 12, rowPoints: 6 });
      expect(o.vms.rows).toHaveLength(100);
      expect(o.periodMs).toBe(8000);
      expect(o.host.times.length).toBeLessThanOrEqual(12);
      expect(o.vms.times.length).toBeLessThanOrEqual(6);
      expect(o.vms.times.at(-1)).toBe(90_000);
      expect(o.vms.rows.every((r) => r.series.assignedBytes.length === o.vms.times.length)).toBe(true);
      expect(o.decisions.total).toBeGreaterThan(0);
      expect(JSON.stringify(o).length).toBeLessThan(150_000);
    } finally {
      source.close();
      host.dispose();
    }
  });
});
