/**
 * createVm: one VM as one XState actor system on one virtual clock. It builds the shared models
 * (guest memory, the DM channel's rings), the message bus, and the root actor that invokes every
 * part; then it offers what a user of QEMU expects: `balloon`, the `query-*` commands, HMP, QMP
 * events, system_reset, stop/cont/quit — all in virtual time, all deterministic for a given seed.
 */
import { createActor, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { Observable } from 'rxjs';
import type { MachineMemory } from '../../machines/machine-memory';
import { ChannelLink } from '../../machines/vmbus-ring';
import {
  deviceCounters,
  type DeviceCounters,
  hmpInfoBalloon,
  hmpInfoMemoryDevices,
  queryBalloon,
  queryHvBalloonStatusReport,
  queryMemoryDevices,
  type DeviceSnapshotLike,
} from '../../machines/hv-balloon-device/queries';
import type { HvBalloonEmitted } from '../../machines/hv-balloon-device/output';
import { summarizeGuestDriver, type DmGuestDriverContext, type DmGuestDriverEmitted, type DmGuestDriverSummary } from '../../machines/dm-guest-driver.machine';
import { decodeHeader, messageTypeName } from '../../protocol/codec';
import { DM_MESSAGE_TYPE_NAMES, type DmMessageTypeName } from '../../protocol/messages';
import { PAGE_SIZE, STATUS_EVENT_RATE_LIMIT_MS } from '../../protocol/constants';
import type { MessageBus, BusDelivery } from '../message-bus';
import type { VirtualClock } from '../virtual-clock';
import { QmpError, type QmpEvent, type QmpReply, type RunState, type VmControl } from '../qmp/qmp-types';
import { DEVICE_MEMORY_ALIGN_BYTES } from '../../protocol/constants';
import type { HvBalloonInfo } from '../../machines/hv-balloon-device/queries';
import { vmMachine, type VmPartInputs } from './vm.machine';
import { normalizeVmConfig, type VmConfig, type VmConfigInput } from './vm-config';
import type { VirtioBalloonDeviceEmitted } from '../../machines/virtio-balloon/virtio-balloon-device.machine';
import type { VirtioBalloonDriverEmitted } from '../../machines/virtio-balloon/virtio-balloon-driver.machine';
import { VirtioBalloonVm, type VirtioBalloonCounters } from './virtio-balloon-vm';
import { QmpEventThrottle } from './qmp-event-throttle';
import { guestMemory, VmRuntime } from './vm-runtime';

/** One line of the VM's trace: everything that happened, in virtual-time order. */
export type VmTraceRecord =
  | ({ kind: 'bus' } & BusDelivery)
  | { kind: 'packet'; time: number; from: 'host' | 'guest'; type: string; size: number; transId: number; payload: Uint8Array }
  | { kind: 'device'; time: number; event: HvBalloonEmitted }
  | { kind: 'guest'; time: number; event: DmGuestDriverEmitted }
  | { kind: 'qmp-event'; time: number; event: QmpEvent }
  /** virtio-balloon VMs: the device's trace points and BALLOON_CHANGE, the driver's log lines. */
  | { kind: 'virtio-device'; time: number; event: VirtioBalloonDeviceEmitted }
  | { kind: 'virtio-guest'; time: number; event: VirtioBalloonDriverEmitted }
  /** The simulation stopped because a part threw (a bug): every later command reports it. */
  | { kind: 'failure'; time: number; message: string };

export interface CreateVmOptions {
  /** XState inspection observer for the root actor (e.g. the Stately inspector's). */
  inspect?: (event: InspectionEvent) => void;
  /** Epoch of virtual time 0 for QMP timestamps, ms since 1970 (default 0: timestamps are virtual time). */
  epochMs?: number;
  /** Called for every bus delivery just before it is handed over (the inspector uses it to name senders). */
  onDelivery?: (delivery: BusDelivery) => void;
  /** The clock to run on (default: a new one). VMs of one host share the host's clock (actors/host/). */
  clock?: VirtualClock;
  /**
   * The device takes each of QEMU's event-loop steps as an XState step of its own, so an inspector
   * sees every state it passes through (the CLI's --inspect turns this on). Same trace and wire;
   * a little slower. Default false: a ring-wait handler runs in the step before it when it can.
   */
  stepByStep?: boolean;
}

/** What `counters()` (and QMP x-sim-counters) reports. */
export interface VmCounters {
  virtualTimeMs: number;
  runState: RunState;
  /** The device's state, trees, counters and warnings per kind; null without a device. */
  device: DeviceCounters | null;
  /** The guest driver's state and statistics; null without a device (no DM driver binds). */
  guest: DmGuestDriverSummary | null;
  /** Guest memory as the guest kernel sees it, and the host's resident backing, in 4 KiB pages. */
  memory: {
    freePages: number;
    availablePages: number;
    committedPages: number;
    balloonedPages: number;
    managedPages: number;
    residentPages: number;
    metadataBytes: number;
    /** Workload pages in the guest's swap, and the swap traffic since the VM was made (pswpin/pswpout). */
    swappedPages: number;
    swapInPages: number;
    swapOutPages: number;
  };
  /** DM messages per type name. */
  messages: Partial<Record<DmMessageTypeName, number>>;
  /** A virtio-balloon VM's device, driver and virtqueues (absent in an hv-balloon VM). */
  virtio?: VirtioBalloonCounters;
}

/** A running VM. */
export interface Vm extends VmControl {
  counters(): VmCounters;
  readonly config: VmConfig;
  /** The warnings QEMU prints while it builds this machine (warn_report at start-up), in order. */
  readonly startupWarnings: readonly string[];
  readonly clock: VirtualClock;
  readonly bus: MessageBus;
  readonly memory: MachineMemory;
  /** The root actor (systemId 'vm'); `root.system.get('device')` etc. reach the parts. */
  readonly root: AnyActorRef;
  /** Advance virtual time by `ms` (QMP x-sim-advance). */
  run(ms: number): void;
  /** A QMP command, answered exactly as QEMU's monitor would. */
  execute(command: unknown): QmpReply;
  /** An HMP command line; returns the text QEMU's HMP prints. */
  hmp(line: string): string;
  /** Everything that happened: bus deliveries, DM packets, device warnings/traces, guest log lines, QMP events. */
  readonly trace$: Observable<VmTraceRecord>;
  /** DM messages that crossed the channel, per type name. */
  messageCounts(): Partial<Record<DmMessageTypeName, number>>;
  /** The device's QEMU state name, or null without a device. */
  deviceState(): string | null;
  /** Follow wall time times `speed` (real-time mode). */
  followWallClock(speed: number): { stop(): void; setSpeed(speed: number): void; pause(): void; resume(): void };
  /** Stop every actor and timer. */
  dispose(): void;
}

export function createVm(input: VmConfigInput = {}, options: CreateVmOptions = {}): Vm {
  const config = normalizeVmConfig(input);
  // The device model: hv-balloon by default, virtio-balloon when the config says so.
  if (config.virtio) return new VirtioBalloonVm(config, options);
  return new VmImpl(config, options);
}

/**
 * QEMU hw/mem/memory-device.c memory_device_pre_plug warns when a memory device asks for more
 * alignment than the device-memory area was sized for (pc and q35 allow 1 GiB per slot,
 * pc_get_device_memory_range); hv-balloon asks 32 GiB (hv_balloon_md_get_min_alignment) whenever
 * it has a memdev. The text is QEMU 10.0.2's, from the recordings' start-up output.
 */
export function startupWarnings(config: VmConfig): string[] {
  const memdev = config.device?.memdev;
  if (!memdev) return [];
  return [
    `the alignment (0x${DEVICE_MEMORY_ALIGN_BYTES.toString(16)}) exceeds the expected maximum alignment, memory will get fragmented and not all 'maxmem' might be usable for memory devices.`,
  ];
}

/** From QEMU's RESET after system_reset to the firmware's own RESET, as recorded (QEMU 10.0.2, SeaBIOS 1.16.3). */
export const FIRMWARE_RESET_MS = 32.447;

class VmImpl extends VmRuntime implements Vm {
  private firmwareReset: ReturnType<VirtualClock['setTimeout']> | undefined;
  readonly startupWarnings: readonly string[];
  readonly memory: MachineMemory;
  readonly root: AnyActorRef;
  private readonly counts: Partial<Record<DmMessageTypeName, number>> = {};
  private readonly statusEvents: QmpEventThrottle;

  constructor(config: VmConfig, options: CreateVmOptions) {
    super(config, options);
    this.startupWarnings = startupWarnings(config);
    // QEMU monitor_qapi_event_conf: HV_BALLOON_STATUS_REPORT at most once a second.
    this.statusEvents = new QmpEventThrottle(this.clock, STATUS_EVENT_RATE_LIMIT_MS, (event) => this.publish(event));
    this.memory = guestMemory(config);
    const hasDevice = config.device !== null;
    const link = new ChannelLink(config.ringBytes);
    link.onPacket = (p) => this.countPacket(p.from, p.payload);
    const parts: VmPartInputs = {
      memctl: {
        outbox: this.bus.outboxFor('memctl'),
        memory: this.memory,
        onlineDelayMs: config.onlineDelayMs,
        // Linux hv_online_page: the driver onlines only the backed pages of a block itself.
        onlineMode: 'notify-only',
      },
      vcpu: {
        outbox: this.bus.outboxFor('vcpu'),
        memory: this.memory,
        workload: config.workload,
        seed: config.seed,
        costModel: config.costModel,
      },
      device: hasDevice
        ? {
            endpoint: link.endpoint('host', this.bus.outboxFor('device')),
            memory: this.memory,
            outbox: this.bus.outboxFor('device'),
            config: config.device!,
            ...(options.stepByStep ? { stepByStep: true } : {}),
          }
        : null,
      channel: hasDevice
        ? { link, outbox: this.bus.outboxFor('channel'), signalLatencyMs: config.signalLatencyMs, offerDelayMs: config.offerDelayMs }
        : null,
      guest: hasDevice
        ? { endpoint: link.endpoint('guest', this.bus.outboxFor('guest')), memory: this.memory, outbox: this.bus.outboxFor('guest'), profile: config.guest, seed: config.seed }
        : null,
    };
    this.root = createActor(vmMachine(hasDevice), {
      input: { outbox: this.bus.outboxFor('vm'), parts },
      clock: this.clock,
      systemId: 'vm',
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.startRoot(['device', 'channel', 'guest', 'memctl', 'vcpu']);
    const device = this.partRef('device');
    device?.on('*', (e: HvBalloonEmitted) => this.onDeviceEmitted(e));
    const guest = this.partRef('guest');
    guest?.on('*', (e: DmGuestDriverEmitted) => {
      if (this.tracing) this.trace({ kind: 'guest', time: this.clock.now(), event: e });
    });
  }

  // ---- QMP-shaped control ---------------------------------------------------------------------------
  balloon(bytes: number): void {
    if (!this.partRef('device')) throw new QmpError('DeviceNotActive', 'No balloon device has been activated');
    // QEMU hv_balloon_to_target: target_pages = bytes >> 12; 0 pages does nothing.
    const targetPages = Math.floor(bytes / PAGE_SIZE);
    if (targetPages === 0) return;
    this.bus.post('vm', 'device', { type: 'device.set-target', targetPages });
    // QEMU runs the device's event loop inside the command; here: deliver what is due now.
    this.settleNow();
  }
  queryBalloon(): { actual: number } {
    const snap = this.deviceSnapshot();
    if (!snap) throw new QmpError('DeviceNotActive', 'No balloon device has been activated');
    return queryBalloon(snap);
  }
  queryHvBalloonStatusReport(): { committed: number; available: number } {
    const { committed, available } = this.queryHvBalloonStatusReportExact();
    return { committed: Number(committed), available: Number(available) };
  }
  queryHvBalloonStatusReportExact(): HvBalloonInfo {
    const result = queryHvBalloonStatusReport(this.deviceSnapshot());
    if (!result.ok) throw new QmpError('GenericError', result.error.desc);
    return result.value;
  }
  queryMemoryDevices(): unknown[] {
    const snap = this.deviceSnapshot();
    return snap ? [queryMemoryDevices(snap)] : [];
  }
  hmpInfoBalloon(): string {
    const snap = this.deviceSnapshot();
    if (!snap) throw new QmpError('DeviceNotActive', 'No balloon device has been activated');
    return hmpInfoBalloon(snap).replace(/\n$/, '');
  }
  hmpInfoMemoryDevices(): string {
    const snap = this.deviceSnapshot();
    return snap ? hmpInfoMemoryDevices(snap).replace(/\n$/, '') : '';
  }
  protected override afterResetEvent(): void {
    // Then SeaBIOS, starting again, resets the machine itself: a second RESET, from the guest,
    // 32.4 ms later in the recording (spec/fixtures/qemu-10-rig/C-shrink-grow-reboot/qmp.log).
    this.clock.clearTimeout(this.firmwareReset);
    this.firmwareReset = this.clock.setTimeout(() => {
      this.firmwareReset = undefined;
      if (this.state !== 'shutdown') this.emitEvent('RESET', { guest: true, reason: 'guest-reset' });
    }, FIRMWARE_RESET_MS);
  }

  // ---- observation ------------------------------------------------------------------------------------
  messageCounts(): Partial<Record<DmMessageTypeName, number>> {
    const out: Partial<Record<DmMessageTypeName, number>> = {};
    for (const name of DM_MESSAGE_TYPE_NAMES) if (this.counts[name]) out[name] = this.counts[name];
    return out;
  }
  deviceState(): string | null {
    return this.deviceSnapshot()?.context.state ?? null;
  }
  counters(): VmCounters {
    const snap = this.deviceSnapshot();
    const guest = this.partRef('guest')?.getSnapshot() as { context: DmGuestDriverContext } | undefined;
    return {
      virtualTimeMs: this.clock.now(),
      runState: this.state,
      device: snap ? deviceCounters(snap) : null,
      guest: guest ? summarizeGuestDriver(guest.context) : null,
      memory: this.memoryCounters(),
      messages: this.messageCounts(),
    };
  }

  // ---- internals --------------------------------------------------------------------------------------
  private deviceSnapshot(): DeviceSnapshotLike | undefined {
    return this.partRef('device')?.getSnapshot() as DeviceSnapshotLike | undefined;
  }
  private countPacket(from: 'host' | 'guest', payload: Uint8Array): void {
    let type = 'malformed';
    let transId = 0;
    try {
      const h = decodeHeader(payload);
      type = messageTypeName(h.typeId) ?? `type ${h.typeId}`;
      transId = h.transId;
    } catch {
      /* shorter than a header: counted as malformed */
    }
    if ((DM_MESSAGE_TYPE_NAMES as readonly string[]).includes(type)) {
      const name = type as DmMessageTypeName;
      this.counts[name] = (this.counts[name] ?? 0) + 1;
    }
    if (this.tracing) {
      this.trace({ kind: 'packet', time: this.clock.now(), from, type, size: payload.length, transId, payload: payload.slice() });
    }
  }
  private onDeviceEmitted(e: HvBalloonEmitted): void {
    if (this.tracing) this.trace({ kind: 'device', time: this.clock.now(), event: e });
    if (e.type === 'status-report') this.statusEvents.offer(this.makeEvent('HV_BALLOON_STATUS_REPORT', { committed: e.committed, available: e.available }));
  }
}
