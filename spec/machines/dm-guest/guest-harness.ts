/**
 * Runs the DM guest driver against a scripted HOST: the real VMBus channel statechart carries the
 * packets; the host writes raw encoded DM messages into the host->guest ring through a host
 * ChannelEndpoint and reads the guest's replies from the guest->host ring. The vCPU and the memory
 * controller are scripted too (job.done after a fixed delay; block-onlined after a delay or never).
 */
import { createActor, type Actor } from 'xstate';
import { MessageBus } from '../../../actors/message-bus';
import { VirtualClock } from '../../../actors/virtual-clock';
import { decode, encode } from '../../../protocol/codec';
import type { DmMessage, DmMessageOf, DmMessageTypeName, DmVersion, PageRange } from '../../../protocol/messages';
import {
  dmGuestDriverMachine,
  type DmGuestDriverEmitted,
} from '../../../machines/dm-guest-driver.machine';
import type { GuestProfileConfig } from '../../../machines/dm-guest/profiles';
import type { GuestMemoryView } from '../../../machines/memory-views';
import type { PostedEvent } from '../../../machines/outbox';
import type { VcpuJob } from '../../../machines/part-events';
import { vmbusChannelMachine } from '../../../machines/vmbus-channel.machine';
import { ChannelLink, type ChannelEndpoint } from '../../../machines/vmbus-ring';
import { FakeGuestMemory } from './fake-guest-memory';

/** One packet the host read from the guest->host ring. */
export interface HostReceived {
  timeMs: number;
  bytes: Uint8Array;
  /** Decoded, or undefined when the bytes do not decode (the error says why). */
  message?: DmMessage;
  error?: string;
}

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

export class ScriptedHost {
  readonly received: HostReceived[] = [];
  /** Called for each packet read, after the auto-handshake. */
  onMessage: ((m: DmMessage, h: ScriptedHost) => void) | undefined;
  reads = true;
  private transId = 0;

  constructor(
    readonly endpoint: ChannelEndpoint,
    private readonly clock: VirtualClock,
    private readonly opts: HarnessOptions,
  ) {}

  /** Write a message into the host->guest ring (hdr.trans_id = the host's own counter unless given). */
  send(message: DmMessage): number {
    return this.endpoint.send(encode(message), BigInt(message.transId));
  }

  /** Write raw bytes (malformed messages). */
  sendRaw(bytes: Uint8Array): number {
    return this.endpoint.send(bytes, 0n);
  }

  nextTransId(): number {
    return ++this.transId;
  }

  /** Read every packet the guest wrote. */
  drain(): void {
    for (;;) {
      const p = this.endpoint.receive();
      if (p === undefined) break;
      const entry: HostReceived = { timeMs: this.clock.now(), bytes: p.payload };
      try {
        entry.message = decode(p.payload);
      } catch (err) {
        entry.error = err instanceof Error ? err.message : String(err);
      }
      this.received.push(entry);
      if (entry.message !== undefined) {
        this.autoAnswer(entry.message);
        this.onMessage?.(entry.message, this);
      }
    }
    this.endpoint.receiveDone();
  }

  /** Decoded messages of one type, in arrival order. */
  messages<T extends DmMessageTypeName>(type: T): DmMessageOf<T>[] {
    return this.received.flatMap((r) => (r.message?.type === type ? [r.message as DmMessageOf<T>] : []));
  }

  /** Received entries of one type with their times. */
  timed<T extends DmMessageTypeName>(type: T): { timeMs: number; message: DmMessageOf<T> }[] {
    return this.received.flatMap((r) => (r.message?.type === type ? [{ timeMs: r.timeMs, message: r.message as DmMessageOf<T> }] : []));
  }

  private autoAnswer(m: DmMessage): void {
    if (this.opts.autoHandshake === false) return;
    if (m.type === 'DM_VERSION_REQUEST') {
      const ok = this.opts.acceptVersion?.(m.version) ?? true;
      // QEMU echoes the guest's trans_id in its version/caps responses.
      this.send({ type: 'DM_VERSION_RESPONSE', transId: m.transId, isAccepted: ok });
    } else if (m.type === 'DM_CAPABILITIES_REPORT') {
      this.send({
        type: 'DM_CAPABILITIES_RESPONSE',
        transId: m.transId,
        isAccepted: this.opts.acceptCaps ?? true,
        hotRemove: true,
        suppressPressureReports: false,
      });
    }
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
  const host = new ScriptedHost(link.endpoint('host', bus.outboxFor('device')), clock, opts);
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
  bus.attach('device', {
    send: (e: PostedEvent) => {
      if (e.type === 'device.open-request') {
        bus.post('device', 'channel', opts.refuseOpen === true ? { type: 'channel.open-refused', reason: 'refused by the spec' } : { type: 'channel.open-accepted' });
      } else if (e.type === 'device.notify' && host.reads) {
        host.drain();
      }
    },
  });
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
