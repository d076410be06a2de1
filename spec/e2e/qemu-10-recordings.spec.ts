/**
 * The recorded runs of real QEMU 10.0.2 (hv-balloon) with a real Linux 6.12 guest
 * (spec/fixtures/qemu-10-rig), replayed as scenarios (examples/qemu-10-rig). Device-side figures
 * must match exactly; the guest's memory figures within the tolerance each test states.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenarioFile, scheduleScenarioSteps, type Scenario, type ScenarioStepResult } from '../../actors/scenario/scenario';
import { createVm, type Vm } from '../../actors/vm/create-vm';
import { parseTraceLog, type ParsedTracePoint } from '../../actors/trace-diff/qemu-trace-format';
import { emulatorTracePoints, traceDiff } from '../../actors/trace-diff/trace-diff';

const FIXTURES = join(__dirname, '..', 'fixtures', 'qemu-10-rig');
const EXAMPLES = join(__dirname, '..', '..', 'examples', 'qemu-10-rig');

interface Meminfo {
  t: number;
  MemTotal: number;
  MemFree: number;
  MemAvailable: number;
}

/** The guest's RIG meminfo lines (kB), with the serial log's time prefix. */
function meminfo(run: string): Meminfo[] {
  const out: Meminfo[] = [];
  for (const line of readFileSync(join(FIXTURES, run, 'serial.log'), 'utf8').split('\n')) {
    const m = /^\[\s*([\d.]+)\] RIG t=[\d.]+ MemTotal:(\d+) MemFree:(\d+) MemAvailable:(\d+)/.exec(line);
    if (m) out.push({ t: Number(m[1]), MemTotal: Number(m[2]), MemFree: Number(m[3]), MemAvailable: Number(m[4]) });
  }
  return out;
}

interface StatusEvent {
  t: number;
  committed: number;
  available: number;
}

/** HV_BALLOON_STATUS_REPORT events of the recording's QMP log. */
function recordedStatusEvents(run: string): StatusEvent[] {
  const out: StatusEvent[] = [];
  for (const line of readFileSync(join(FIXTURES, run, 'qmp.log'), 'utf8').split('\n')) {
    if (!line.includes('HV_BALLOON_STATUS_REPORT')) continue;
    const rec = JSON.parse(line) as { t: number; msg: { data: { committed: number; available: number } } };
    out.push({ t: rec.t, ...rec.msg.data });
  }
  return out;
}

function summary(run: string): Record<string, any> {
  return JSON.parse(readFileSync(join(FIXTURES, run, 'summary.json'), 'utf8')) as Record<string, any>;
}

interface Replay {
  vm: Vm;
  steps: ScenarioStepResult[];
  statusEvents: StatusEvent[];
  /** Guest meminfo (kB) sampled at the given virtual seconds. */
  samples: Map<number, Meminfo>;
}

function replay(scenario: Scenario, sampleAt: number[]): Replay {
  const vm = createVm(scenario.vm);
  const steps: ScenarioStepResult[] = [];
  scheduleScenarioSteps(vm, scenario, (s) => steps.push(s));
  const statusEvents: StatusEvent[] = [];
  vm.events$.subscribe((e) => {
    if (e.event === 'HV_BALLOON_STATUS_REPORT') statusEvents.push({ t: vm.now() / 1000, ...(e.data as { committed: number; available: number }) });
  });
  const samples = new Map<number, Meminfo>();
  for (const t of [...sampleAt].sort((a, b) => a - b)) {
    vm.runUntil(t * 1000);
    const m = vm.memory;
    samples.set(t, { t, MemTotal: m.managedPages() * 4, MemFree: m.freePages() * 4, MemAvailable: m.availablePages() * 4 });
  }
  vm.runUntil(scenario.until);
  return { vm, steps, statusEvents, samples };
}

function reply(r: Replay, atMs: number, execute: string, commandLine?: string): unknown {
  const step = r.steps.find((s) => {
    if (s.at !== atMs || typeof s.command === 'string') return false;
    const c = s.command as { execute: string; arguments?: { 'command-line'?: string } };
    return c.execute === execute && (commandLine === undefined || c.arguments?.['command-line'] === commandLine);
  });
  if (!step) throw new Error(`no ${execute} step at ${atMs} ms`);
  return step.reply;
}

/** |actual - expected| / expected. */
function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / expected;
}

function postInitWaits(points: readonly ParsedTracePoint[]): number[] {
  const out: number[] = [];
  points.forEach((p, i) => {
    if (p.name !== 'hv_balloon_state_change' || p.fields.to !== 'S_POST_INIT_WAIT') return;
    const idle = points.slice(i + 1).find((q) => q.name === 'hv_balloon_state_change' && q.fields.to === 'S_IDLE');
    // The recordings' time prefix has 1 ms resolution: compare to 10 ms.
    if (idle && idle.timeS !== null && p.timeS !== null) out.push(Math.round((idle.timeS - p.timeS) * 100) / 100);
  });
  return out;
}

describe.each(['A-shrink', 'C-shrink-grow-reboot'])('recording %s replayed', (run) => {
  const scenario = loadScenarioFile(join(EXAMPLES, `${run}.json`));
  const qemuLog = readFileSync(join(FIXTURES, run, 'qemu.log'), 'utf8');

  it('trace-diff: every hv_balloon trace point matches QEMU 10 in order, kind and fields', () => {
    const result = traceDiff(qemuLog, scenario);
    expect(result.divergence).toBeNull();
    expect(result.matched).toBe(parseTraceLog(qemuLog).length);
  });

  it("QEMU's post-init wait is 50.0 s after the capabilities, exactly, every time the guest connects", () => {
    const recorded = postInitWaits(parseTraceLog(qemuLog));
    // A connects once; C connects again after the reset.
    expect(recorded).toEqual(run === 'A-shrink' ? [50] : [50, 50]);
    expect(postInitWaits(emulatorTracePoints(scenario))).toEqual(recorded);
  });
});

describe('recording A-shrink: device side and guest figures', () => {
  const run = 'A-shrink';
  const s = summary(run);
  const mem = meminfo(run);
  const r = replay(loadScenarioFile(join(EXAMPLES, `${run}.json`)), [3, 125.5]);
  afterAll(() => r.vm.dispose());

  it('QMP before the driver is up and at the end: the same answers as QEMU 10', () => {
    expect(reply(r, 54, 'query-hv-balloon-status-report')).toEqual({ error: s.before_driver.status_report.error });
    expect(reply(r, 55, 'query-balloon')).toEqual({ return: s.before_driver.query_balloon.return });
    expect(reply(r, 55, 'query-memory-devices')).toEqual({ return: s.before_driver.memory_devices.return });
    expect(reply(r, 123_078, 'query-balloon')).toEqual({ return: { actual: s.poll.final_actual } });
    expect(reply(r, 126_130, 'human-monitor-command', 'info balloon')).toEqual({ return: s.after.info_balloon });
    expect(reply(r, 126_130, 'query-memory-devices')).toEqual({ return: s.after.memory_devices.return });
    expect(reply(r, 126_130, 'human-monitor-command', 'info memory-devices')).toEqual({ return: s.after.info_memory_devices });
  });

  it('guest memory at boot: MemTotal within 0.01 %, MemFree and MemAvailable within 0.1 %', () => {
    const real = mem[0]!;
    const ours = r.samples.get(3)!;
    expect(relErr(ours.MemTotal, real.MemTotal)).toBeLessThan(0.0001);
    expect(relErr(ours.MemFree, real.MemFree)).toBeLessThan(0.001);
    expect(relErr(ours.MemAvailable, real.MemAvailable)).toBeLessThan(0.001);
  });

  it('guest memory after the 2 GiB balloon: MemTotal within 0.01 %, MemFree and MemAvailable within 0.5 %', () => {
    const real = s.guest_meminfo_end as { MemTotal_kB: number; MemFree_kB: number; MemAvailable_kB: number };
    const ours = r.samples.get(125.5)!;
    expect(relErr(ours.MemTotal, real.MemTotal_kB)).toBeLessThan(0.0001);
    expect(relErr(ours.MemFree, real.MemFree_kB)).toBeLessThan(0.005);
    expect(relErr(ours.MemAvailable, real.MemAvailable_kB)).toBeLessThan(0.005);
  });

  it('status reports: first and last committed/available within 0.5 %, first one 47 s after the caps within 3 %, one a second within 3 %', () => {
    const real = recordedStatusEvents(run);
    const ours = r.statusEvents;
    for (const [o, e] of [
      [ours[0]!, real[0]!],
      [ours[ours.length - 1]!, real[real.length - 1]!],
    ] as const) {
      expect(relErr(o.committed, e.committed)).toBeLessThan(0.005);
      expect(relErr(o.available, e.available)).toBeLessThan(0.005);
    }
    const capsAt = s.qemu_protocol_timing.t_caps_received as number;
    const oursCaps = 3.244;
    expect(relErr(ours[0]!.t - oursCaps, real[0]!.t - capsAt)).toBeLessThan(0.03);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const gaps = (xs: StatusEvent[]): number[] => xs.slice(1).map((x, i) => x.t - xs[i]!.t);
    expect(relErr(median(gaps(ours)), s.status_report_events.interval_median_s as number)).toBeLessThan(0.03);
  });
});

describe('recording C-shrink-grow-reboot: device side and guest figures', () => {
  const run = 'C-shrink-grow-reboot';
  const s = summary(run);
  const mem = meminfo(run);
  const r = replay(loadScenarioFile(join(EXAMPLES, `${run}.json`)), [3, 58, 82]);
  afterAll(() => r.vm.dispose());

  it('after the grow, at the reset and after the reboot: the same QMP answers as QEMU 10', () => {
    expect(reply(r, 84_065, 'query-balloon')).toEqual({ return: s.before_reset.query_balloon.return });
    expect(reply(r, 84_065, 'query-memory-devices')).toEqual({ return: s.before_reset.memory_devices.return });
    // `actual` is back to the boot size the instant system_reset returns; the report is gone.
    expect(reply(r, 84_072, 'query-balloon')).toEqual({ return: s.right_after_reset.query_balloon.return });
    expect(reply(r, 84_072, 'query-hv-balloon-status-report')).toEqual({ error: s.right_after_reset.status_report.error });
    expect(reply(r, 84_072, 'query-memory-devices')).toEqual({ return: s.right_after_reset.memory_devices.return });
    expect(reply(r, 84_072, 'human-monitor-command', 'info balloon')).toEqual({ return: s.right_after_reset.info_balloon });
    expect(reply(r, 163_088, 'query-balloon')).toEqual({ return: s.end.query_balloon.return });
    expect(reply(r, 163_089, 'query-memory-devices')).toEqual({ return: s.end.memory_devices.return });
    expect(reply(r, 163_089, 'human-monitor-command', 'info balloon')).toEqual({ return: s.end.info_balloon });
    expect(reply(r, 163_089, 'human-monitor-command', 'info memory-devices')).toEqual({ return: s.end.info_memory_devices });
  });

  it('the status report after the reboot: committed and available within 0.5 %', () => {
    const ours = reply(r, 163_088, 'query-hv-balloon-status-report') as { return: { committed: number; available: number } };
    expect(relErr(ours.return.committed, s.end.status_report.return.committed)).toBeLessThan(0.005);
    expect(relErr(ours.return.available, s.end.status_report.return.available)).toBeLessThan(0.005);
  });

  it('guest memory at boot, after the shrink and after 6 GiB of hot-add: MemTotal within 0.01 %, MemFree and MemAvailable within 0.5 %', () => {
    const at = (t: number): Meminfo => mem.find((m) => m.t >= t)!;
    for (const [ours, real] of [
      [r.samples.get(3)!, at(4)],
      [r.samples.get(58)!, at(58)],
      [r.samples.get(82)!, s.before_reset.guest_meminfo as { MemTotal_kB: number }],
    ] as const) {
      const e = 'MemTotal_kB' in real ? { MemTotal: real.MemTotal_kB, MemFree: (real as any).MemFree_kB, MemAvailable: (real as any).MemAvailable_kB } : real;
      expect(relErr(ours.MemTotal, e.MemTotal)).toBeLessThan(0.0001);
      expect(relErr(ours.MemFree, e.MemFree)).toBeLessThan(0.005);
      expect(relErr(ours.MemAvailable, e.MemAvailable)).toBeLessThan(0.005);
    }
  });
});
