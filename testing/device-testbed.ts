/**
 * The hv-balloon device alone, driven by a guest your test scripts: for people who write their own
 * DM guest driver (or want to check what QEMU's device does with a given packet). The real device
 * and VMBus channel statecharts, the real guest-memory model, one virtual clock; the guest end of
 * the channel is a ScriptableGuest that writes whatever DM messages or raw bytes the test says.
 *
 *   const bed = createDeviceTestbed({ machine: { memory: '4G', maxmem: '44G' }, device: { memdev: '8G' } });
 *   bed.handshake();                               // DM_VERSION_REQUEST, DM_CAPABILITIES_REPORT
 *   bed.run(50_000);                               // QEMU's post-init wait
 *   bed.balloon(2 * 2 ** 30);                      // QMP balloon 2 GiB
 *   expectMessage(bed.guest.last(), 'DM_BALLOON_REQUEST', { numPages: 524288 });
 */
import { createActor, type Actor } from 'xstate';
import { MessageBus } from '../actors/message-bus';
import { VirtualClock } from '../actors/virtual-clock';
import { normalizeVmConfig, VmConfigError, type VmConfig, type VmConfigInput } from '../actors/vm/vm-config';
import { hvBalloonDeviceMachine, type HvBalloonDeviceConfig, type HvBalloonDeviceMachine, type HvBalloonEmitted } from '../machines/hv-balloon-device.machine';
import type { TraceEmitted, TracePointName, WarningEmitted } from '../machines/hv-balloon-device/output';
import { deviceCounters, queryBalloon, type BalloonInfo, type DeviceCounters } from '../machines/hv-balloon-device/queries';
import { leafStateName, type HvBalloonStateName } from '../machines/hv-balloon-device/states';
import type { WarningKind } from '../machines/hv-balloon-device/warnings';
import { MachineMemory } from '../machines/machine-memory';
import type { HostMemoryView } from '../machines/memory-views';
import type { PostedEvent } from '../machines/outbox';
import type { PartInbox } from '../machines/part-events';
import { vmbusChannelMachine } from '../machines/vmbus-channel.machine';
import { ChannelLink } from '../machines/vmbus-ring';
import { PAGE_SIZE } from '../protocol/constants';
import type { DmCaps } from '../protocol/messages';
import { ScriptedEnd } from './scripted-end';
import { runUntil } from './run-until';

/** What the recent Linux driver reports (drivers/hv/hv_balloon.c): balloon, hot-add, 128 MiB (2^7) alignment. */
export const LINUX_GUEST_CAPS: DmCaps = { balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false };

/** The guest end of the channel, scripted by the test. */
export class ScriptableGuest extends ScriptedEnd<ScriptableGuest> {
  /** Open the channel as soon as it is offered (default true). */
  autoOpen = true;
  /** Whether the channel is open from the guest's side. */
  opened = false;
  /** Opens the device refused. */
  openRefused = 0;
  private transId = 0;

  /** @internal The testbed builds it. */
  constructor(
    link: ChannelLink,
    clock: VirtualClock,
    private readonly bus: MessageBus,
  ) {
    super(link.endpoint('guest', bus.outboxFor('guest')), clock);
  }

  /** A fresh transaction id for a guest-initiated message (1, 2, ...). */
  nextTransId(): number {
    return ++this.transId;
  }

  /** Ask the channel to open (vmbus_open). */
  open(): void {
    this.bus.post('guest', 'channel', { type: 'channel.open' });
  }

  /** Close the channel (CLOSECHANNEL): the device is reset, as QEMU's vmbus does. */
  close(): void {
    this.bus.post('guest', 'channel', { type: 'channel.close' });
  }

  /** @internal What the channel tells the guest. */
  receive(event: PartInbox['guest']): void {
    switch (event.type) {
      case 'guest.channel-offered':
        if (this.autoOpen) this.open();
        break;
      case 'guest.channel-opened':
        this.opened = event.ok;
        if (!event.ok) this.openRefused++;
        break;
      case 'guest.interrupt':
        if (this.autoRead) this.drain();
        break;
      case 'guest.channel-closed':
        this.opened = false;
        break;
      default:
        break;
    }
  }
}

export type DeviceTestbedConfig = Pick<VmConfigInput, 'machine' | 'device' | 'channel'>;

/**
 * createDeviceTestbedFromParts's configuration: the device's own config and the parts around it as
 * given, not checked as a VM's would be. For what a VM config cannot say: DM rings of any size
 * (small ones to reach the ring-full paths), a host memory of your own (one whose discards fail,
 * to see the device's warnings), the device left unreset until powerOn().
 */
export interface DevicePartsConfig<M extends HostMemoryView = HostMemoryView> {
  /** The device's properties (QEMU -device hv-balloon,...), as hv-balloon-sim/machines' HvBalloonDeviceConfig. */
  device: HvBalloonDeviceConfig;
  /** Guest-physical memory as the device sees it: a MachineMemory, or any HostMemoryView. */
  memory: M;
  /** Data bytes of each ring direction (default 16 KiB, as a VM's). */
  ringBytes?: number;
  /** Virtual ms a signal takes to cross the channel (default 0.01). */
  signalLatencyMs?: number;
  /** Virtual ms from the testbed's start until the channel is offered (default 1000). */
  offerDelayMs?: number;
  /** Reset the device at once, as a machine does when it starts (default true); false: call powerOn(). */
  powerOn?: boolean;
  /** The device takes each of QEMU's loop steps as an XState step of its own (HvBalloonDeviceInput.stepByStep). */
  stepByStep?: boolean;
}

/** A device testbed from its parts (createDeviceTestbedFromParts); createDeviceTestbed's adds the VM config. */
export interface DevicePartsTestbed<M extends HostMemoryView = HostMemoryView> {
  readonly clock: VirtualClock;
  readonly bus: MessageBus;
  /** The device's properties. */
  readonly deviceConfig: HvBalloonDeviceConfig;
  /** The device actor (hvBalloonDeviceMachine from hv-balloon-sim/machines). */
  readonly device: Actor<HvBalloonDeviceMachine>;
  /** Guest-physical memory as the device sees it (discards, memslots). */
  readonly memory: M;
  /** The channel's two rings (e.g. `link.hostToGuest.pendingSendSize`: what the device waits to write). */
  readonly link: ChannelLink;
  /** The guest end: send(), respond(), received, messages(), last(). */
  readonly guest: ScriptableGuest;
  /** Everything the device emitted (warnings, trace points, status reports), in order. */
  readonly emitted: HvBalloonEmitted[];
  /** Let `ms` of virtual time pass. */
  run(ms: number): void;
  /** Run until `done()` holds, in `stepMs` steps; returns the virtual ms it took. Throws after `limitMs`. */
  runUntil(done: () => boolean, options?: { limitMs?: number; stepMs?: number; what?: string }): number;
  /** The machine's cold reset of the device (done at creation unless `powerOn: false`; before it the device refuses the channel's open). */
  powerOn(): void;
  /** The guest's half of the handshake: DM_VERSION_REQUEST 2.0, then DM_CAPABILITIES_REPORT with `caps`. */
  handshake(caps?: DmCaps): void;
  /** Handshake, then QEMU's 50 s post-init wait: the device is in S_IDLE. */
  bootToIdle(caps?: DmCaps): void;
  /** QMP `balloon`: the guest's wanted total size, in bytes (QEMU: target_pages = bytes >> 12); then 1 ms passes, so a request is in the guest's ring. */
  balloon(bytes: number): void;
  /** The device's QEMU state (S_IDLE, S_BALLOON_RB_WAIT, ...). */
  state(): HvBalloonStateName | undefined;
  /** The states the device went through, from its hv_balloon_state_change trace points. */
  stateChanges(): string[];
  /** The device's counters: state, removed-page trees, warnings per kind. */
  counters(): DeviceCounters;
  /** QMP query-balloon. */
  queryBalloon(): BalloonInfo;
  /** Warnings the device printed (QEMU's warn_report texts), of one kind if given. */
  warnings(kind?: WarningKind): WarningEmitted[];
  /** Trace points (QEMU trace-events names), of one name if given. */
  traces(name?: TracePointName): TraceEmitted[];
  /** Stop the actors and forget pending timers. */
  dispose(): void;
}

export interface DeviceTestbed extends DevicePartsTestbed<MachineMemory> {
  /** The checked configuration (sizes in bytes, times in ms). */
  readonly config: VmConfig;
}

/**
 * Builds the device and powers it on (QEMU's cold reset; the channel is offered after
 * `channel.offerDelay`, 1 s by default, and the scriptable guest opens it). Configuration as for
 * createVm: `machine` and `device` in QEMU's terms; bad values throw VmConfigError naming the field.
 */
export function createDeviceTestbed(config: DeviceTestbedConfig = {}): DeviceTestbed {
  const checked = normalizeVmConfig({ ...config, device: config.device === undefined ? {} : config.device });
  const deviceConfig = checked.device;
  if (deviceConfig === null) throw new VmConfigError('device', 'device: the device testbed needs a device (got null)');
  const memory = new MachineMemory({
    ramBytes: checked.memoryBytes,
    maxmemBytes: checked.maxmemBytes,
    slots: checked.slots,
    memdevHugepages: checked.memdevHugepages,
  });
  const bed = createDeviceTestbedFromParts({
    device: deviceConfig,
    memory,
    ringBytes: checked.ringBytes,
    signalLatencyMs: checked.signalLatencyMs,
    offerDelayMs: checked.offerDelayMs,
  });
  return Object.assign(bed, { config: checked });
}

/** The device testbed from parts you give (see DevicePartsConfig); powered on unless `powerOn: false`. */
export function createDeviceTestbedFromParts<M extends HostMemoryView>(parts: DevicePartsConfig<M>): DevicePartsTestbed<M> {
  const { device: deviceConfig, memory } = parts;
  const offerDelayMs = parts.offerDelayMs ?? 1000;
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const link = new ChannelLink(parts.ringBytes);
  const channel = createActor(vmbusChannelMachine, {
    input: { link, outbox: bus.outboxFor('channel'), signalLatencyMs: parts.signalLatencyMs ?? 0.01, offerDelayMs },
    clock,
  });
  const device = createActor(hvBalloonDeviceMachine, {
    input: {
      endpoint: link.endpoint('host', bus.outboxFor('device')),
      memory,
      outbox: bus.outboxFor('device'),
      config: deviceConfig,
      ...(parts.stepByStep ? { stepByStep: true } : {}),
    },
    clock,
  });
  const emitted: HvBalloonEmitted[] = [];
  device.on('*', (e) => emitted.push(e));
  const guest = new ScriptableGuest(link, clock, bus);
  bus.attach('channel', channel);
  bus.attach('device', device);
  bus.attach('guest', { send: (e: PostedEvent) => guest.receive(e as PartInbox['guest']) });
  // Nobody else is on this bus; what the device would post to them is dropped.
  for (const part of ['vcpu', 'memctl', 'vm'] as const) bus.attach(part, { send: () => undefined });
  channel.start();
  device.start();

  const run = (ms: number): void => clock.advance(ms);
  const bed: DevicePartsTestbed<M> = {
    clock,
    bus,
    deviceConfig,
    device,
    memory,
    link,
    guest,
    emitted,
    run,
    runUntil: (done, options = {}) => runUntil(clock, done, options),
    powerOn() {
      // QEMU: every device gets a cold reset when the machine starts.
      bus.post('vm', 'device', { type: 'device.reset' });
      clock.advance(0);
    },
    handshake(caps = LINUX_GUEST_CAPS) {
      runUntil(clock, () => guest.opened, { limitMs: offerDelayMs + 1000, what: 'the guest to open the DM channel' });
      guest.send({ type: 'DM_VERSION_REQUEST', transId: guest.nextTransId(), version: { major: 2, minor: 0 }, isLastAttempt: false });
      run(1);
      guest.send({ type: 'DM_CAPABILITIES_REPORT', transId: guest.nextTransId(), caps, minPageCount: 0n, maxPageNumber: 2n ** 64n - 1n });
      run(1);
    },
    bootToIdle(caps = LINUX_GUEST_CAPS) {
      bed.handshake(caps);
      runUntil(clock, () => bed.state() === 'S_IDLE', { limitMs: 120_000, what: 'the device to reach S_IDLE' });
    },
    balloon(bytes) {
      bus.post('user', 'device', { type: 'device.set-target', targetPages: Math.floor(bytes / PAGE_SIZE) });
      run(1);
    },
    state: () => leafStateName(device.getSnapshot().value),
    stateChanges: () => bed.traces('hv_balloon_state_change').map((t) => String(t.args.to)),
    counters: () => deviceCounters(device.getSnapshot()),
    queryBalloon: () => queryBalloon(device.getSnapshot()),
    warnings: (kind) => emitted.filter((e): e is WarningEmitted => e.type === 'warning' && (kind === undefined || e.kind === kind)),
    traces: (name) => emitted.filter((e): e is TraceEmitted => e.type === 'trace' && (name === undefined || e.name === name)),
    dispose() {
      device.stop();
      channel.stop();
    },
  };
  if (parts.powerOn !== false) bed.powerOn();
  return bed;
}
