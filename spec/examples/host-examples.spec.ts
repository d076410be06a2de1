/**
 * The host examples run and show what they claim: the VDI host hands idle memory back and then
 * serves the login storm without ever assigning more than it has; on the overcommitted host weight
 * decides who pages; the same host under manual targets overcommits and the host pages; a user's
 * policy module is loaded and its decisions applied. `run --json` reports final.host and final.vms.
 */
import { join } from 'node:path';
import { runCommand } from '../../actors/cli/commands/run';
import type { CliIo } from '../../actors/cli/cli-io';
import { loadHostScenarioFile, runHostScenario } from '../../actors/host/host-scenario';
import type { HostRunOutput } from '../../actors/host/host-run-command';

const G = 2 ** 30;
const example = (name: string): string => join(__dirname, '..', '..', 'examples', name);

function capture(): CliIo & { out: string } {
  const io = { out: '', stdout: (t: string) => void (io.out += t), stderr: () => undefined };
  return io;
}

jest.setTimeout(240_000);

describe('host-vdi-login-storm.json', () => {
  it('takes idle memory back before the storm, serves the storm, never assigns more than the host has', () => {
    const scenario = loadHostScenarioFile(example('host-vdi-login-storm.json'));
    const usable = scenario.memoryBytes - scenario.reserveBytes;
    let worst = 0;
    let beforeStorm: number[] = [];
    const r = runHostScenario(scenario, {
      onStart: (host) => {
        const check = (): void => {
          const holds = host.vmStates().reduce((sum, v) => sum + Math.max(v.assignedBytes, v.targetBytes), 0);
          worst = Math.max(worst, holds);
          if (host.now() === 25 * 60_000) beforeStorm = host.vmStates().map((v) => v.assignedBytes);
          host.clock.setTimeout(check, 60_000);
        };
        check();
      },
    });
    expect(worst).toBeLessThanOrEqual(usable);
    expect(beforeStorm).toHaveLength(10);
    for (const a of beforeStorm) expect(a).toBeLessThan(G);
    for (const v of r.final.vms) {
      expect(v.assignedBytes).toBeGreaterThanOrEqual(v.demandBytes!);
      expect(v.assignedBytes).toBeLessThanOrEqual(v.maximumBytes);
    }
    expect(r.policy.state).toMatch(/^balancing/);
    r.host.dispose();
  });
});

describe('host-overcommit-weight.json and host-overcommit-manual.json', () => {
  let weight: HostRunOutput;
  let manual: HostRunOutput;
  beforeAll(async () => {
    const a = capture();
    await runCommand(example('host-overcommit-weight.json'), { json: true }, a);
    weight = JSON.parse(a.out);
    const b = capture();
    await runCommand(example('host-overcommit-manual.json'), { json: true }, b);
    manual = JSON.parse(b.out);
  });

  it('run --json reports final.host and final.vms', () => {
    expect(weight.final.host).toMatchObject({ memoryBytes: 16 * G, freeBytes: expect.any(Number) });
    for (const v of weight.final.vms) {
      expect(Object.keys(v)).toEqual(expect.arrayContaining(['name', 'assignedBytes', 'demandBytes', 'targetBytes', 'minimumBytes', 'maximumBytes', 'pagedBytes']));
    }
    expect(weight.decisions.length).toBeGreaterThan(0);
    for (const d of weight.decisions) expect(d.reason).toMatch(/demand/);
  });

  it('hyperv: weight decides who pages: batch (1000) the most, db (9000) the least', () => {
    const [db, web, batch] = ['db', 'web', 'batch'].map((n) => weight.final.vms.find((v) => v.name === n)!);
    expect(batch!.pagedBytes).toBeGreaterThan(web!.pagedBytes);
    expect(web!.pagedBytes).toBeGreaterThan(db!.pagedBytes);
    expect(db!.targetBytes).toBeGreaterThan(batch!.targetBytes);
    expect(weight.final.host.overcommitBytes).toBe(0);
  });

  it('manual: no policy decisions; the VMs hold more than the host has and the host pages them', () => {
    expect(manual.policy).toMatchObject({ kind: 'manual', decisions: 0 });
    // 3 x 7G assigned; what the guests touched of it (their demand) is resident: beyond 15G.
    expect(manual.final.host.overcommitBytes).toBeGreaterThan(G);
    expect(manual.final.host.freeBytes).toBe(0);
    for (const v of manual.final.vms) {
      expect(v.assignedBytes).toBe(7 * G);
      expect((v as { hostPagedBytes: number }).hostPagedBytes).toBeGreaterThan(0);
    }
  });
});

describe('host-user-policy.json', () => {
  it('loads the policy module next to the scenario and applies its decisions', async () => {
    const io = capture();
    await runCommand(example('host-user-policy.json'), { json: true }, io);
    const r = JSON.parse(io.out) as HostRunOutput;
    expect(r.policy.kind).toBe('function');
    expect(new Set(r.decisions.map((d) => d.reason))).toContain('demand + 512M headroom');
    // Weights ignored: the three VMs end with the same target, together within the host's 15G.
    const targets = r.final.vms.map((v) => v.targetBytes);
    expect(new Set(targets).size).toBe(1);
    expect(targets.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(15 * G);
    expect(r.final.host.overcommitBytes).toBe(0);
  });
});
