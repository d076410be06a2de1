/**
 * The hv-balloon device alone against a scripted peer, on the test kit's device testbed
 * (testing/device-testbed.ts, built from parts): the real VMBus channel statechart and rings, the
 * device actor, fake host memory (a 4 GiB pc layout, discards that can fail) and the kit's
 * scriptable guest. What the kit's API does not have and these specs use is here: the device
 * config in the machine's own terms, powerOn/negotiate at fixed times, the guest's decoded
 * messages as a list and one handler for all of them.
 */
import { createDeviceTestbedFromParts, type DevicePartsTestbed, type ScriptableGuest } from '../../../testing/device-testbed';
import { DM_MESSAGE_TYPE_NAMES, type DmCaps, type DmMessage, type DmMessageOf, type DmMessageTypeName, type PageRange } from '../../../protocol/messages';
import type { HvBalloonDeviceConfig, HvBalloonEmitted } from '../../../machines/hv-balloon-device.machine';
import type { TraceEmitted, TracePointName, WarningEmitted } from '../../../machines/hv-balloon-device/output';
import { leafStateName, type HvBalloonStateName } from '../../../machines/hv-balloon-device/states';
import type { WarningKind } from '../../../machines/hv-balloon-device/warnings';
import type { PartInbox } from '../../../machines/part-events';
import type { ChannelEndpoint, ChannelLink } from '../../../machines/vmbus-ring';
import type { MessageBus } from '../../../actors/message-bus';
import type { VirtualClock } from '../../../actors/virtual-clock';
import { FakeHostMemory, type FakeHostMemoryOptions } from './fake-host-memory';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** What Linux reports (Linux drivers/hv/hv_balloon.c): balloon, hot-add, 2^7 MiB = 128 MiB alignment. */
export const LINUX_CAPS: DmCaps = { balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false };

/** The kit's guest, as these specs script it: decoded messages as a list, one handler for all. */
export class ScriptedGuest {
  /** Called for each message read, e.g. to answer it. */
  onMessage: ((message: DmMessage) => void) | undefined;

  constructor(private readonly end: ScriptableGuest) {
    for (const type of DM_MESSAGE_TYPE_NAMES) end.respond(type, (message) => this.onMessage?.(message));
  }

  /** Every message the host sent, decoded, in order. */
  get received(): DmMessage[] {
    return this.end.received.flatMap((r) => (r.message ? [r.message] : []));
  }
  /** Open the channel as soon as it is offered. */
  get autoOpen(): boolean {
    return this.end.autoOpen;
  }
  set autoOpen(on: boolean) {
    this.end.autoOpen = on;
  }
  /** Read the host->guest ring on every interrupt (off: let it fill up). */
  get autoDrain(): boolean {
    return this.end.autoRead;
  }
  set autoDrain(on: boolean) {
    this.end.autoRead = on;
  }
  get opened(): boolean {
    return this.end.opened;
  }
  get openRefused(): number {
    return this.end.openRefused;
  }
  get endpoint(): ChannelEndpoint {
    return this.end.endpoint;
  }
  open(): void {
    this.end.open();
  }
  close(): void {
    this.end.close();
  }
  /** Write one message (or raw bytes) into the guest->host ring; returns the endpoint's result. */
  write(message: DmMessage | Uint8Array): number {
    return this.end.send(message);
  }
  /** Read everything the host wrote (freeing ring room, which may wake the host). */
  drain(): DmMessage[] {
    return this.end.drain().flatMap((r) => (r.message ? [r.message] : []));
  }
  /** The messages of one type the host sent so far. */
  messages<T extends DmMessageTypeName>(type: T): DmMessageOf<T>[] {
    return this.end.messages(type);
  }
  last(): DmMessage | undefined {
    return this.end.last();
  }
}

export interface HarnessOptions {
  id?: string;
  statusReport?: boolean;
  /** false: no memdev. Default: 4 GiB at 32 GiB. */
  memdev?: Partial<NonNullable<HvBalloonDeviceConfig['memdev']>> | false;
  ringBytes?: number;
  memory?: FakeHostMemoryOptions;
  /** The device takes each loop step on its own (HvBalloonDeviceInput.stepByStep). */
  stepByStep?: boolean;
}

export class DeviceHarness {
  readonly bed: DevicePartsTestbed<FakeHostMemory>;
  readonly clock: VirtualClock;
  readonly bus: MessageBus;
  readonly link: ChannelLink;
  readonly memory: FakeHostMemory;
  readonly guest: ScriptedGuest;
  readonly device: DevicePartsTestbed['device'];
  readonly config: HvBalloonDeviceConfig;
  readonly emitted: HvBalloonEmitted[];

  constructor(options: HarnessOptions = {}) {
    const memdev =
      options.memdev === false
        ? undefined
        : { id: 'mem0', sizeBytes: 4 * GiB, addrBytes: 32 * GiB, ...(options.memdev ?? {}) };
    this.config = {
      ...(options.id !== undefined ? { id: options.id } : {}),
      statusReport: options.statusReport ?? false,
      ...(memdev ? { memdev } : {}),
    };
    // Powered off: the specs power the device on themselves (powerOn, bootToIdle).
    this.bed = createDeviceTestbedFromParts({
      device: this.config,
      memory: new FakeHostMemory(options.memory),
      ...(options.ringBytes !== undefined ? { ringBytes: options.ringBytes } : {}),
      ...(options.stepByStep ? { stepByStep: true } : {}),
      powerOn: false,
    });
    ({ clock: this.clock, bus: this.bus, link: this.link, memory: this.memory, device: this.device, emitted: this.emitted } = this.bed);
    this.guest = new ScriptedGuest(this.bed.guest);
  }

  get snapshot() {
    return this.device.getSnapshot();
  }

  get context() {
    return this.device.getSnapshot().context;
  }

  get state(): HvBalloonStateName | undefined {
    return this.bed.state();
  }

  /** Let `ms` of virtual time pass (default: enough for every in-flight signal). */
  run(ms = 1): void {
    this.clock.advance(ms);
  }

  /** The VM resets the device once at power-on (QEMU qdev reset), then the channel is offered. */
  powerOn(): void {
    this.bed.powerOn();
    this.run(1001);
  }

  /** Version WIN10, then the capabilities report. */
  negotiate(caps: DmCaps = LINUX_CAPS): void {
    this.guest.write({ type: 'DM_VERSION_REQUEST', transId: 1, version: { major: 2, minor: 0 }, isLastAttempt: false });
    this.run();
    this.guest.write({ type: 'DM_CAPABILITIES_REPORT', transId: 2, caps, minPageCount: 0n, maxPageNumber: 2n ** 64n - 1n });
    this.run();
  }

  /** Power on, negotiate and wait out the 50 s post-init period: the device is IDLE. */
  bootToIdle(caps: DmCaps = LINUX_CAPS): void {
    this.powerOn();
    this.negotiate(caps);
    this.run(50_000);
  }

  /** QMP balloon: target in pages (the QMP layer already did bytes >> 12). */
  setTarget(targetPages: number): void {
    this.post({ type: 'device.set-target', targetPages });
  }

  post(event: PartInbox['device']): void {
    this.bus.post('user', 'device', event);
    this.run();
  }

  warnings(kind?: WarningKind): WarningEmitted[] {
    return this.bed.warnings(kind);
  }

  traces(name?: TracePointName): TraceEmitted[] {
    return this.bed.traces(name);
  }

  /** The states the device went through (from hv_balloon_state_change traces). */
  stateChanges(): string[] {
    return this.bed.stateChanges();
  }

  /** Answer a balloon request with ranges, as the guest would. */
  balloonResponse(ranges: PageRange[], morePages = false, transId = 100): void {
    this.guest.write({ type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges });
    this.run();
  }
}

export { leafStateName };
