/**
 * `compare`: one scenario run twice, once with QEMU's hv-balloon and once with virtio-balloon, on
 * the same guest, the same steps and the same cost model, measured side by side: for every
 * `balloon` step the virtual time until the guest has settled at its target, the rate, the
 * messages and bytes that crossed between guest and host, the host's metadata, and the wall time
 * the simulation took. Nothing here knows a rate: every figure comes out of the two runs.
 */
import type { AnyActorRef } from 'xstate';
import { PAGE_SIZE } from '../../protocol/constants';
import type { QmpReply } from '../qmp/qmp-types';
import type { Scenario, ScenarioStep } from '../scenario/scenario';
import { createVm, type Vm } from '../vm/create-vm';
import type { DeviceModel, VmConfigInput } from '../vm/vm-config';
import { VIRTIO_ONLY_FIELDS } from '../../machines/virtio-balloon/config';
import { VirtioBalloonVm } from '../vm/virtio-balloon-vm';

/** hv-balloon options a virtio-balloon run leaves out (it has no memory backend, no VMBus). */
const HV_ONLY_DEVICE_FIELDS = ['memdev', 'memdevId', 'addr', 'statusReport', 'hugepages'] as const;

/** One `balloon` step and what followed it, on one device. */
export interface ComparePhase {
  /** Virtual ms of the step. */
  at: number;
  /** The step as written (HMP line or QMP command). */
  command: string;
  requestedBytes: number;
  /** query-balloon actual just before the step and when the phase ended. */
  fromBytes: number;
  toBytes: number;
  /** The requested target was reached. */
  reached: boolean;
  /** Virtual ms from the step until the device and guest were done (null: still busy when the next step came). */
  settleMs: number | null;
  /** Decimal GB per virtual minute moved (null when nothing moved or it never settled). */
  gbPerMin: number | null;
  /** Wall ms the simulation took for the phase (until it settled). */
  wallMs: number;
  /** Messages (hv: DM messages; virtio: virtqueue buffers) and their bytes, during the phase. */
  messages: number;
  bytes: number;
  /** Why the target was not reached, when it was not. */
  note?: string;
}

export interface CompareSide {
  model: DeviceModel;
  phases: ComparePhase[];
  /** Totals over the whole run. */
  messages: number;
  bytes: number;
  /** The host device's largest bookkeeping of returned pages during the run, bytes. */
  hostMetadataBytes: number;
  /** What the messages are, in words. */
  messageKind: string;
  virtualTimeMs: number;
  wallMs: number;
  /** CPU ms of this process during the run (user + system). */
  cpuMs: number;
  /** (virtual ms, query-balloon actual bytes): the memory curve. */
  curve: Array<[number, number]>;
}

export interface CompareResult {
  scenario: string;
  description?: string;
  guestBytes: number;
  sides: [CompareSide, CompareSide];
}

/** The scenario's VM with `model` as its device (options of the other model left out). */
export function vmConfigFor(scenario: Scenario, model: DeviceModel): VmConfigInput {
  const vm: VmConfigInput = { ...scenario.vm };
  const device = { ...((scenario.vm.device ?? {}) as Record<string, unknown>) };
  if (model === 'virtio-balloon') {
    for (const key of HV_ONLY_DEVICE_FIELDS) delete device[key];
    delete vm.channel;
  } else {
    for (const key of VIRTIO_ONLY_FIELDS) delete device[key];
  }
  device.model = model;
  vm.device = device as VmConfigInput['device'];
  return vm;
}

/** The byte target of a balloon step, or undefined when the step is something else. */
export function balloonTarget(step: ScenarioStep): number | undefined {
  if ('hmp' in step) {
    const m = /^\s*balloon\s+(\d+)\s*$/.exec(step.hmp);
    return m ? Number(m[1]) * 2 ** 20 : undefined;
  }
  if (step.qmp.execute !== 'balloon') return undefined;
  const value = (step.qmp.arguments as { value?: unknown } | undefined)?.value;
  return typeof value === 'number' ? value : undefined;
}

/** What counts as messages and bytes on each device, so far. */
function traffic(vm: Vm, packets: { count: number; bytes: number }): { messages: number; bytes: number } {
  if (!(vm instanceof VirtioBalloonVm)) return { messages: packets.count, bytes: packets.bytes };
  const q = vm.virtioCounters().queues;
  return { messages: q.inflate.buffers + q.deflate.buffers + q.stats.buffers, bytes: q.inflate.bytes + q.deflate.bytes + q.stats.bytes };
}

/** Bytes of the host device's removed-page bookkeeping (hv: its four range trees; virtio: none kept). */
function hostMetadataBytes(vm: Vm): number {
  const d = vm.counters().device;
  if (d === null) return 0; // QEMU virtio-balloon keeps no record of ballooned 4 KiB pages
  const t = d.trees;
  return t.globalGuest.metadataBytes + t.globalBoth.metadataBytes + t.ourGuest.metadataBytes + t.ourBoth.metadataBytes;
}

/**
 * Whether the device and guest are done with the current target: hv-balloon back in S_IDLE;
 * virtio-balloon with the guest's `actual` equal to the host's `num_pages`.
 */
function settledNow(vm: Vm): boolean {
  if (vm instanceof VirtioBalloonVm) return vm.balloonSettled();
  return vm.deviceState() === 'S_IDLE';
}

/** Runs the scenario with `model` as the device and measures each balloon step. */
export interface CompareOptions {
  /** Wall-clock reader (the runtime's, never the simulation's). */
  wallNow?: () => number;
  /** Called as virtual time passes on each side (for a progress bar). */
  onProgress?: (model: DeviceModel, virtualMs: number, untilMs: number) => void;
}

export function runSide(scenario: Scenario, model: DeviceModel, options: CompareOptions = {}): CompareSide {
  const wallNow = options.wallNow ?? (() => performance.now());
  const wallStart = wallNow();
  const cpuStart = process.cpuUsage();
  const vm = createVm(vmConfigFor(scenario, model));
  try {
    const packets = { count: 0, bytes: 0 };
    if (model === 'hv-balloon') {
      vm.trace$.subscribe((r) => {
        if (r.kind === 'packet') {
          packets.count++;
          packets.bytes += r.size;
        }
      });
    }
    const curve: Array<[number, number]> = [];
    const actual = (): number => {
      try {
        return vm.queryBalloon().actual;
      } catch {
        return 0;
      }
    };
    let metadataMax = 0;
    const sample = (): void => {
      curve.push([vm.now(), actual()]);
      metadataMax = Math.max(metadataMax, hostMetadataBytes(vm));
    };
    // The exact virtual time a phase settles: watched on the device's own emitted events.
    let open: {
      phase: ComparePhase;
      wallStart: number;
      traffic: { messages: number; bytes: number };
      settledTraffic?: { messages: number; bytes: number };
    } | null = null;
    const check = (): void => {
      if (open === null || open.phase.settleMs !== null || !settledNow(vm)) return;
      const p = open.phase;
      p.settleMs = vm.now() - p.at;
      p.wallMs = wallNow() - open.wallStart;
      p.toBytes = actual();
      open.settledTraffic = traffic(vm, packets);
    };
    const device = vm.root.system.get('device') as AnyActorRef | undefined;
    // Emitted mid-step: look once the step is over (same virtual instant), when snapshots are current.
    device?.on('*', (e: { type: string; name?: string; args?: Readonly<Record<string, unknown>> }) => {
      if (e.name === 'virtio_balloon_set_config' || (e.name === 'hv_balloon_state_change' && e.args?.to === 'S_IDLE')) {
        vm.clock.setTimeout(() => check(), 0);
      }
    });
    const closePhase = (): void => {
      if (open === null) return;
      const p = open.phase;
      if (p.settleMs === null) {
        p.toBytes = actual();
        p.wallMs = wallNow() - open.wallStart;
      }
      // Traffic of the phase itself: up to when it settled (periodic status/stats traffic after that is not its own).
      const now = open.settledTraffic ?? traffic(vm, packets);
      p.messages = now.messages - open.traffic.messages;
      p.bytes = now.bytes - open.traffic.bytes;
      // Both devices count in 4 KiB pages: within a page of the request is the request.
      p.reached = Math.abs(p.toBytes - p.requestedBytes) < PAGE_SIZE;
      if (!p.reached) p.note = whyNotReached(vm, p, model);
      const moved = Math.abs(p.toBytes - p.fromBytes);
      p.gbPerMin = p.settleMs !== null && p.settleMs > 0 && moved > 0 ? moved / 1e9 / (p.settleMs / 60_000) : null;
      open = null;
    };
    const sampleEvery = Math.max(10, scenario.until / 1000);
    const advanceTo = (t: number): void => {
      while (vm.now() < t) {
        vm.runUntil(Math.min(t, vm.now() + sampleEvery));
        sample();
        options.onProgress?.(model, vm.now(), scenario.until);
      }
    };
    const phases: ComparePhase[] = [];
    sample();
    for (const step of scenario.steps) {
      advanceTo(step.at);
      const target = balloonTarget(step);
      const before = actual();
      if (target !== undefined) closePhase();
      // Counted from before the command: QEMU sends its first requests inside the command.
      const trafficBefore = traffic(vm, packets);
      const wallBefore = wallNow();
      const reply = 'hmp' in step ? vm.hmp(step.hmp) : vm.execute(step.qmp);
      if (target !== undefined && !isError(reply)) {
        const phase: ComparePhase = {
          at: vm.now(),
          command: 'hmp' in step ? step.hmp : JSON.stringify(step.qmp),
          requestedBytes: target,
          fromBytes: before,
          toBytes: before,
          reached: false,
          settleMs: null,
          gbPerMin: null,
          wallMs: 0,
          messages: 0,
          bytes: 0,
        };
        phases.push(phase);
        open = { phase, wallStart: wallBefore, traffic: trafficBefore };
        check();
      }
      sample();
    }
    if (vm.runState() !== 'shutdown') advanceTo(scenario.until);
    closePhase();
    const total = traffic(vm, packets);
    return {
      model,
      phases,
      messages: total.messages,
      bytes: total.bytes,
      hostMetadataBytes: metadataMax,
      messageKind: model === 'hv-balloon' ? 'DM messages (VMBus packets)' : 'virtqueue buffers (each a kick and an interrupt)',
      virtualTimeMs: vm.now(),
      wallMs: wallNow() - wallStart,
      cpuMs: cpuMsSince(cpuStart),
      curve,
    };
  } finally {
    vm.dispose();
  }
}

/** Runs the scenario on both devices. */
export function compareScenario(scenario: Scenario, options: CompareOptions = {}): CompareResult {
  const hv = runSide(scenario, 'hv-balloon', options);
  const virtio = runSide(scenario, 'virtio-balloon', options);
  const probe = createVm(vmConfigFor(scenario, 'hv-balloon'));
  const guestBytes = probe.config.memoryBytes;
  probe.dispose();
  return { scenario: scenario.name, ...(scenario.description ? { description: scenario.description } : {}), guestBytes, sides: [hv, virtio] };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function isError(reply: QmpReply | string): boolean {
  return typeof reply === 'object' && 'error' in reply;
}

function whyNotReached(vm: Vm, p: ComparePhase, model: DeviceModel): string {
  const ram = vm.config.memoryBytes;
  if (model === 'virtio-balloon' && p.requestedBytes > ram) {
    return 'virtio-balloon has no hot-add: QEMU clamps the target to the boot size';
  }
  if (model === 'hv-balloon' && p.requestedBytes > ram && vm.config.device?.memdev === undefined) {
    return 'no memdev: hv-balloon cannot hot-add past the boot size';
  }
  if (p.settleMs === null) return 'still moving when the next step (or the end) came';
  return 'the guest stopped short of the target';
}
