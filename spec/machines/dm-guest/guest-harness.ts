/**
 * Runs the DM guest driver against a scripted HOST (the test kit's ScriptableHost, with the extras
 * below): the real VMBus channel statechart carries the packets; the host writes raw encoded DM
 * messages into the host->guest ring and reads the guest's replies from the guest->host ring. The
 * vCPU and the memory controller are scripted too (job.done after a fixed delay; block-onlined
 * after a delay or never).
 */
import { createActor, type Actor } from 'xstate';
import { MessageBus } from '../../../actors/message-bus';
import { VirtualClock } from '../../../actors/virtual-clock';
import { DM_MESSAGE_TYPE_NAMES, type DmMessage, type DmMessageOf, type DmMessageTypeName, type DmVersion, type PageRange } from '../../../protocol/messages';
import { ScriptableHost } from '../../../testing/guest-testbed';
import type { ReceivedPacket } from '../../../testing/scripted-end';
import {
  dmGuestDriverMachine,
  type DmGuestDriverEmitted,
} from '../../../machines/dm-guest-driver.machine';
import type { GuestProfileConfig } from '../../../machines/dm-guest/profiles';
import type { GuestMemoryView } from '../../../machines/memory-views';
import type { PostedEvent } from '../../../machines/outbox';
import type { PartInbox, VcpuJob } from '../../../machines/part-events';
import { vmbusChannelMachine } from '../../../machines/vmbus-channel.machine';
import { ChannelLink } from '../../../machines/vmbus-ring';
import { FakeGuestMemory } from './fake-guest-memory';

/** One packet the host read from the guest->host ring (the test kit's ReceivedPacket). */
export type HostReceived = ReceivedPacket;

export interface HarnessOptions {
  profile?: GuestProfileConfig;
  seed?: number;
  memory?: GuestMemoryView;
  /** Virtual ms the scripted vCPU takes per job. Default 1. */
  vcpuDelayMs?: number;
  /** Virtual ms memctl takes to online a block, or 'never' (auto-online off). Default 100. */
  onlineDelayMs?: number | 'never';
  /** The channel refuses the open. */
  refuseOpen?: boolean;
  /** Answer the handshake automatically (default true). */
  autoHandshake?: boolean;
  /** Versions the auto-handshake accepts (default: all, like QEMU's [0.3, 2.0]). */
  acceptVersion?: (v: DmVersion) => boolean;
  /** Whether the auto-handshake accepts the capabilities (default true). */
  acceptCaps?: boolean;
  /** The host reads its inbound ring when signalled (default true). */
  hostReads?: boolean;
}

/**
 * The test kit's scriptable host (it answers the handshake as QEMU does, accepts or refuses the
 * open, reads when signalled), plus what these specs use: one handler for every message, raw
 * sends by name, messages with their times.
 */
export class ScriptedHost extends ScriptableHost {
  /** Called for each packet read, after the auto-handshake. */
  onMessage: ((m: DmMessage, h: ScriptedHost) => void) | undefined;

  constructor(link: ChannelLink, clock: VirtualClock, bus: MessageBus, opts: HarnessOptions) {
    super(link, clock, bus, {
      ...(opts.autoHandshake !== undefined ? { autoHandshake: opts.autoHandshake } : {}),
      // These specs' host accepts every version unless told otherwise (QEMU: 0.3 to 2.0, all the driver proposes).
      acceptVersion: opts.acceptVersion ?? (() => true),
      ...(opts.acceptCaps !== undefined ? { acceptCaps: opts.acceptCaps } : {}),
      ...(opts.refuseOpen !== undefined ? { refuseOpen: opts.refuseOpen } : {}),
    });
    for (const type of DM_MESSAGE_TYPE_NAMES) this.respond(type, (m) => this.onMessage?.(m, this));
  }

  /** The host reads its inbound ring when signalled. */
  get reads(): boolean {
    return this.autoRead;
  }
  set reads(on: boolean) {
    this.autoRead = on;
  }

  /** Write raw bytes (malformed messages). */
  sendRaw(bytes: Uint8Array): number {
    return this.send(bytes);
  }

  /** Received entries of one type with their times. */
  timed<T extends DmMessageTypeName>(type: T): { timeMs: number; message: DmMessageOf<T> }[] {
    return this.received.flatMap((r) => (r.message?.type === type ? [{ timeMs: r.timeMs, message: r.message as DmMessageOf<T> }] : []));
  }
}

export interface GuestHarness {
  clock: VirtualClock;
  bus: MessageBus;
  link: ChannelLink;
  guest: Actor<typeof dmGuestDriverMachine>;
  host: ScriptedHost;
  memory: GuestMemoryView;
  logs: Extract<DmGuestDriverEmitted, { type: 'log' }>[];
  misbehaviours: Extract<DmGuestDriverEmitted, { type: 'misbehaviour' }>[];
  /** Jobs the vCPU ran, with the time they were posted. */
  jobs: { timeMs: number; job: VcpuJob }[];
  /** Blocks memctl was told about. */
  blocksAdded: { timeMs: number; range: PageRange }[];
  /** Events the guest posted to the channel. */
  channelRequests: string[];
  run(ms: number): void;
  /** Log texts, for matching. */
  logTexts(): string[];
  /** The driver's connection state as a string path, e.g. "connected.initialized". */
  connectionState(): string;
}

/** Offer delay of the channel in these specs: the guest probes at t = 100 ms. */
export const OFFER_DELAY_MS = 100;
const SIGNAL_LATENCY_MS = 0.01;

export function createGuestHarness(opts: HarnessOptions = {}): GuestHarness {
  const clock = new VirtualClock();
  const bus = new MessageBus(clock);
  const link = new ChannelLink();
  const memory = opts.memory ?? new FakeGuestMemory({ ramPages: 4 * 262_144, usedPages: 262_144 });
  const channel = createActor(vmbusChannelMachine, {
    input: { link, outbox: bus.outboxFor('channel'), signalLatencyMs: SIGNAL_LATENCY_MS, offerDelayMs: OFFER_DELAY_MS },
    clock,
  });
  const host = new ScriptedHost(link, clock, bus, opts);
  host.reads = opts.hostReads ?? true;
  const guest = createActor(dmGuestDriverMachine, {
    input: {
      endpoint: link.endpoint('guest', bus.outboxFor('guest')),
      memory,
      outbox: bus.outboxFor('guest'),
      profile: opts.profile ?? { profile: 'linux' },
      seed: opts.seed ?? 1,
    },
    clock,
  });
  const logs: GuestHarness['logs'] = [];
  const misbehaviours: GuestHarness['misbehaviours'] = [];
  guest.on('log', (e) => logs.push(e));
  guest.on('misbehaviour', (e) => misbehaviours.push(e));
  const jobs: GuestHarness['jobs'] = [];
  const blocksAdded: GuestHarness['blocksAdded'] = [];
  const channelRequests: string[] = [];
  const vcpuDelay = opts.vcpuDelayMs ?? 1;
  const onlineDelay = opts.onlineDelayMs ?? 100;

  bus.attach('channel', {
    send: (e: PostedEvent) => {
      if (e.type === 'channel.open' || e.type === 'channel.close') channelRequests.push(e.type);
      channel.send(e as Parameters<typeof channel.send>[0]);
    },
  });
  bus.attach('device', { send: (e: PostedEvent) => host.receive(e as PartInbox['device']) });
  bus.attach('vcpu', {
    send: (e: PostedEvent) => {
      if (e.type !== 'vcpu.run') return;
      const job = (e as { type: 'vcpu.run'; job: VcpuJob }).job;
      jobs.push({ timeMs: clock.now(), job });
      bus.post('vcpu', job.owner, { type: 'job.done', tag: job.tag, costMs: vcpuDelay }, vcpuDelay);
    },
  });
  bus.attach('memctl', {
    send: (e: PostedEvent) => {
      if (e.type !== 'memctl.block-added') return;
      const range = (e as { type: 'memctl.block-added'; range: PageRange }).range;
      blocksAdded.push({ timeMs: clock.now(), range });
      if (onlineDelay !== 'never') bus.post('memctl', 'guest', { type: 'guest.block-onlined', range }, onlineDelay);
    },
  });
  bus.attach('guest', guest);
  guest.start();
  channel.start();

  const stateString = (): string => {
    const value = guest.getSnapshot().value as { connection: unknown };
    const walk = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length !== 1) return Object.keys(v as object)[0] === 'status' ? 'initialized' : JSON.stringify(v);
      const [k, rest] = entries[0]!;
      if (k === 'initialized') return 'initialized';
      return `${k}.${walk(rest)}`;
    };
    return walk(value.connection);
  };

  return {
    clock,
    bus,
    link,
    guest,
    host,
    memory,
    logs,
    misbehaviours,
    jobs,
    blocksAdded,
    channelRequests,
    run: (ms) => clock.advance(ms),
    logTexts: () => logs.map((l) => l.text),
    connectionState: stateString,
  };
}

/** Boot and complete the handshake (auto-answered): the driver is initialized at t ~ 100 ms. */
export function bootInitialized(opts: HarnessOptions = {}): GuestHarness {
  const h = createGuestHarness(opts);
  h.run(OFFER_DELAY_MS + 10);
  expect(h.connectionState()).toBe('connected.initialized');
  return h;
}

/** Sum of page counts. */
export function pagesOf(ranges: readonly PageRange[]): number {
  return ranges.reduce((n, r) => n + r.pageCount, 0);
}
