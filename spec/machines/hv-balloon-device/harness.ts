/**
 * The hv-balloon device alone against a scripted peer: virtual clock + message bus + VMBus channel
 * (real statechart and rings) + device actor + fake host memory + a guest that reads the
 * host->guest ring and writes raw encoded DM messages through its own endpoint.
 */
import { createActor } from 'xstate';
import { MessageBus, type Receiver } from '../../../actors/message-bus';
import { VirtualClock } from '../../../actors/virtual-clock';
import { encode, decode } from '../../../protocol/codec';
import type { DmCaps, DmMessage, DmMessageOf, DmMessageTypeName, PageRange } from '../../../protocol/messages';
import { hvBalloonDeviceMachine, type HvBalloonDeviceConfig, type HvBalloonEmitted } from '../../../machines/hv-balloon-device.machine';
import type { TraceEmitted, TracePointName, WarningEmitted } from '../../../machines/hv-balloon-device/output';
import { leafStateName, type HvBalloonStateName } from '../../../machines/hv-balloon-device/states';
import type { WarningKind } from '../../../machines/hv-balloon-device/warnings';
import type { Outbox, PostedEvent } from '../../../machines/outbox';
import type { PartInbox } from '../../../machines/part-events';
import { vmbusChannelMachine } from '../../../machines/vmbus-channel.machine';
import { ChannelLink, type ChannelEndpoint } from '../../../machines/vmbus-ring';
import { FakeHostMemory, type FakeHostMemoryOptions } from './fake-host-memory';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** What Linux reports (Linux drivers/hv/hv_balloon.c): balloon, hot-add, 2^7 MiB = 128 MiB alignment. */
export const LINUX_CAPS: DmCaps = { balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false };

/** The guest end: reads what the host sent, writes what the script says. */
export class ScriptedGuest implements Receiver {
  /** Every message the host sent, decoded, in order. */
  readonly received: DmMessage[] = [];
  /** Open the channel as soon as it is offered. */
  autoOpen = true;
  /** Read the host->guest ring on every interrupt (off: let it fill up). */
  autoDrain = true;
  opened = false;
  openRefused = 0;
  /** Called for each message read, e.g. to answer it. */
  onMessage: ((message: DmMessage) => void) | undefined;
  readonly endpoint: ChannelEndpoint;

  constructor(
    link: ChannelLink,
    private readonly outbox: Outbox,
  ) {
    this.endpoint = link.endpoint('guest', outbox);
  }

  send(posted: PostedEvent): void {
    const event = posted as PartInbox['guest'];
    switch (event.type) {
      case 'guest.channel-offered':
        if (this.autoOpen) this.open();
        break;
      case 'guest.channel-opened':
        this.opened = event.ok;
        if (!this.opened) this.openRefused++;
        break;
      case 'guest.interrupt':
        if (this.autoDrain) this.drain();
        break;
      case 'guest.channel-closed':
        this.opened = false;
        break;
    }
  }

  open(): void {
    this.outbox.post('channel', { type: 'channel.open' });
  }

  close(): void {
    this.outbox.post('channel', { type: 'channel.close' });
  }

  /** Write one message (or raw bytes) into the guest->host ring; returns the endpoint's result. */
  write(message: DmMessage | Uint8Array): number {
    const bytes = message instanceof Uint8Array ? message : encode(message);
    return this.endpoint.send(bytes, 0n);
  }

  /** Read everything the host wrote (freeing ring room, which may wake the host). */
  drain(): DmMessage[] {
    const got: DmMessage[] = [];
    for (let p = this.endpoint.receive(); p; p = this.endpoint.receive()) got.push(decode(p.payload));
    this.endpoint.receiveDone();
    for (const m of got) {
      this.received.push(m);
      this.onMessage?.(m);
    }
    return got;
  }

  /** The messages of one type the host sent so far. */
  messages<T extends DmMessageTypeName>(type: T): DmMessageOf<T>[] {
    return this.received.filter((m): m is DmMessageOf<T> => m.type === type);
  }

  last(): DmMessage | undefined {
    return this.received[this.received.length - 1];
  }
}

export interface HarnessOptions {
  id?: string;
  statusReport?: boolean;
  /** false: no memdev. Default: 4 GiB at 32 GiB. */
  memdev?: Partial<NonNullable<HvBalloonDeviceConfig['memdev']>> | false;
  ringBytes?: number;
  memory?: FakeHostMemoryOptions;
}

export class DeviceHarness {
  readonly clock = new VirtualClock();
  readonly bus = new MessageBus(this.clock);
  readonly link: ChannelLink;
  readonly memory: FakeHostMemory;
  readonly guest: ScriptedGuest;
  readonly device;
  readonly channel;
  readonly config: HvBalloonDeviceConfig;
  readonly emitted: HvBalloonEmitted[] = [];

  constructor(options: HarnessOptions = {}) {
    this.link = new ChannelLink(options.ringBytes);
    this.memory = new FakeHostMemory(options.memory);
    const memdev =
      options.memdev === false
        ? undefined
        : { id: 'mem0', sizeBytes: 4 * GiB, addrBytes: 32 * GiB, ...(options.memdev ?? {}) };
    this.config = {
      ...(options.id !== undefined ? { id: options.id } : {}),
      statusReport: options.statusReport ?? false,
      ...(memdev ? { memdev } : {}),
    };
    this.channel = createActor(vmbusChannelMachine, {
      input: { link: this.link, outbox: this.bus.outboxFor('channel'), offerDelayMs: 1000 },
      clock: this.clock,
    });
    const deviceOutbox = this.bus.outboxFor('device');
    this.device = createActor(hvBalloonDeviceMachine, {
      input: {
        endpoint: this.link.endpoint('host', deviceOutbox),
        memory: this.memory,
        outbox: deviceOutbox,
        config: this.config,
      },
      clock: this.clock,
    });
    this.device.on('*', (e) => this.emitted.push(e));
    this.guest = new ScriptedGuest(this.link, this.bus.outboxFor('guest'));
    this.bus.attach('channel', this.channel);
    this.bus.attach('device', this.device);
    this.bus.attach('guest', this.guest);
    this.channel.start();
    this.device.start();
  }

  get snapshot() {
    return this.device.getSnapshot();
  }

  get context() {
    return this.device.getSnapshot().context;
  }

  get state(): HvBalloonStateName | undefined {
    return leafStateName(this.device.getSnapshot().value);
  }

  /** Let `ms` of virtual time pass (default: enough for every in-flight signal). */
  run(ms = 1): void {
    this.clock.advance(ms);
  }

  /** The VM resets the device once at power-on (QEMU qdev reset), then the channel is offered. */
  powerOn(): void {
    this.bus.post('user', 'device', { type: 'device.reset' });
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
    this.bus.post('user', 'device', { type: 'device.set-target', targetPages });
    this.run();
  }

  post(event: PartInbox['device']): void {
    this.bus.post('user', 'device', event);
    this.run();
  }

  warnings(kind?: WarningKind): WarningEmitted[] {
    return this.emitted.filter((e): e is WarningEmitted => e.type === 'warning' && (kind === undefined || e.kind === kind));
  }

  traces(name?: TracePointName): TraceEmitted[] {
    return this.emitted.filter((e): e is TraceEmitted => e.type === 'trace' && (name === undefined || e.name === name));
  }

  /** The states the device went through (from hv_balloon_state_change traces). */
  stateChanges(): string[] {
    return this.traces('hv_balloon_state_change').map((t) => String(t.args.to));
  }

  /** Answer a balloon request with ranges, as the guest would. */
  balloonResponse(ranges: PageRange[], morePages = false, transId = 100): void {
    this.guest.write({ type: 'DM_BALLOON_RESPONSE', transId, morePages, ranges });
    this.run();
  }
}

export { leafStateName };
