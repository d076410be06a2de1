/**
 * The guest end of the Hyper-V Dynamic Memory protocol: the Linux driver (drivers/hv/hv_balloon.c),
 * with a Windows-like and a malicious profile (machines/dm-guest/profiles.ts).
 *
 * Two parallel regions:
 * - `connection`: waitingForOffer -> opening -> connected { version -> capabilities ->
 *   initialized { status | work | malice } } | failed | closed. This is Linux balloon_probe /
 *   balloon_connect_vsp: one 5 s budget for the whole version negotiation (2.0 -> 1.0 -> 0.3),
 *   another 5 s for the capabilities exchange; on failure the channel is closed and the driver
 *   stays silent.
 * - `receive`: the channel callback (Linux balloon_onchannelcallback). It reads the inbound ring
 *   one packet at a time, decodes it and dispatches it as a typed event; an unballoon request is
 *   handled right there (Linux balloon_down runs in the callback), so nothing else is read until
 *   its pages are freed and it is answered.
 *
 * Inside `initialized`: `status` is the hv_balloon kernel thread (a report about every second,
 * the first `pressure_report_delay` post_status calls swallowed); `work` runs balloon-up and
 * hot-add one at a time with Linux work-item semantics; `malice` fires the malicious profile's
 * timed misbehaviours.
 *
 * Effects (ring writes, memory allocation, posts to other parts) run in named actions; an effect
 * whose outcome decides the next state reports it back as an internal event (self.send), so every
 * decision is a guarded transition. Guest work costs virtual time on the vCPU ('vcpu.run' ->
 * 'job.done'). The hot-add bookkeeping is a mutable model (HotAddRegions) referenced from context.
 */
import { and, assign, emit, enqueueActions, not, raise, setup, stateIn } from 'xstate';
import { encode, decode } from '../protocol/codec';
import { ProtocolError } from '../protocol/errors';
import {
  GUEST_HANDSHAKE_TIMEOUT_MS,
  GUEST_MESSAGE_MAX_BYTES,
  GUEST_ONLINE_WAIT_MS,
  GUEST_RING_FULL_RETRY_MS,
  MAX_RANGES_PER_MESSAGE,
  STATUS_PERIOD_MS,
} from '../protocol/constants';
import { DM_MESSAGE_TYPE_IDS, type DmBalloonResponse, type DmMessage, type DmVersion, type PageRange } from '../protocol/messages';
import { balloonFloorPages, clampToFloor, clampToReserve, partialFulfilmentText } from './dm-guest/balloon-floor';
import { HotAddRegions, hotAddResult, type HotAddRequestRanges } from './dm-guest/hot-add-regions';
import {
  corruptedCopies,
  corruptRanges,
  injectedRangeCount,
  misbehavioursForHotAdd,
  misbehavioursForResponse,
  timedSchedule,
  withTransId,
  type MisbehaviourKind,
  type ResponseMisbehaviour,
  type TimedMisbehaviour,
} from './dm-guest/malicious-plan';
import { resolveGuestProfile, type GuestProfileConfig, type ResolvedGuestProfile } from './dm-guest/profiles';
import { decidePostStatus, linuxStatusReport, windowsStatusReport, type StatusGate } from './dm-guest/status-report';
import type { GuestMemoryView } from './memory-views';
import type { Outbox } from './outbox';
import type { PartInbox, WorkItem } from './part-events';
import type { ChannelEndpoint } from './vmbus-ring';

// ---- public types ------------------------------------------------------------------------------

export interface DmGuestDriverInput {
  /** The guest end of the DM channel (its inbound ring is host -> guest). */
  endpoint: ChannelEndpoint;
  /** What the guest kernel offers the driver: counters, balloon allocation, hot-add. */
  memory: GuestMemoryView;
  /** Posts to 'channel', 'vcpu', 'memctl'. */
  outbox: Outbox;
  /** Which guest; validated (GuestProfileError naming the field on bad values). */
  profile: GuestProfileConfig;
  /** Seed of every random choice (Windows counters, the malicious plan's defaults). */
  seed: number;
}

/** Linux debugfs "state" names (hv_balloon.c hv_balloon_debug_show). */
export type DmDriverState = 'Initializing' | 'Initialized' | 'Balloon Up' | 'Balloon Down' | 'Hot Add' | 'Error';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Why the driver gave up (the probe failed); it stays silent until a system reset. */
export interface DriverFailure {
  reason: string;
  /** The Linux probe error, e.g. -110 (ETIMEDOUT) or -71 (EPROTO). */
  errno: number;
  /** Virtual ms. */
  atMs: number;
}

/** What the driver emits (actor.on(type, ...)). */
export type DmGuestDriverEmitted =
  /** A guest kernel-log line ("hv_balloon: ..."), Linux wording where Linux has one. */
  | { type: 'log'; level: LogLevel; text: string; timeMs: number }
  /** The malicious profile did something on purpose (also logged). */
  | { type: 'misbehaviour'; kind: MisbehaviourKind; text: string; timeMs: number };

export type WorkRequest = { kind: 'balloon'; numPages: number } | { kind: 'hotAdd'; request: HotAddRequestRanges };

/** The balloon-up transaction in progress (Linux balloon_up's locals). */
export interface BalloonUpProgress {
  requested: number;
  /** After the floor (Linux) or reserve (Windows) clamp, done once at the start. */
  target: number;
  /** Pages in responses sent so far. */
  sent: number;
  /** Linux alloc_unit: 512 (2 MiB) until a 2 MiB round gets nothing, then 1 for good. */
  unitPages: number;
  /** Ranges allocated for the message being built (real pages). */
  ranges: PageRange[];
  /** The ranges on the wire (the malicious profile adds fakes). */
  wire: PageRange[];
  /** This message ends the transaction (more_pages = 0). */
  last: boolean;
  /** Responses sent in this transaction. */
  messages: number;
  /** Send attempts of the current message (ring-full retries). */
  attempts: number;
  /** Malicious: the misbehaviours of the current message. */
  corruption: ResponseMisbehaviour[];
}

export interface UnballoonProgress {
  ranges: PageRange[];
  morePages: boolean;
}

export interface StatusState extends StatusGate {
  /** Reports sent. */
  reportsSent: number;
  /**
   * Linux config_event: completions (one per unballoon range) since the status thread last woke.
   * One wake consumes them all: dm_thread_func re-initialises the completion after its wait.
   */
  wakeups: number;
}

export interface DriverStats {
  messagesReceived: number;
  messagesDropped: number;
  balloonRequests: number;
  balloonResponses: number;
  /** Real pages put in balloon responses. */
  pagesReported: number;
  ringFullRetries: number;
  unballoonRequests: number;
  pagesUnballooned: number;
  hotAddRequests: number;
  hotAddResponses: number;
  misbehaviours: number;
}

export interface MaliceState {
  seed: number;
  /** Timed misbehaviours in firing order. */
  timed: TimedMisbehaviour[];
  /** Next timed entry to fire. */
  timedIndex: number;
  /** A range reported in an earlier balloon response (what duplicates re-report). */
  earlierReported: PageRange | null;
}

export interface DmGuestDriverContext {
  readonly endpoint: ChannelEndpoint;
  readonly memory: GuestMemoryView;
  readonly outbox: Outbox;
  readonly seed: number;
  readonly profile: ResolvedGuestProfile;
  /** The last DM trans_id the guest used (Linux: one counter, pre-incremented, never echoes the host's). */
  transId: number;
  dmState: DmDriverState;
  /** Index into VERSION_SEQUENCE of the last version requested. */
  versionAttempt: number;
  /** The version the host accepted ("Using Dynamic Memory protocol version X.Y"). */
  protocolVersion: DmVersion | null;
  /** The host's capabilities-response bits Linux ignores, recorded for queries. */
  hostCaps: { hotRemove: boolean; suppressPressureReports: boolean } | null;
  failure: DriverFailure | null;
  /** DM_INFO max page count (Linux max_dynamic_page_count: recorded, no effect). */
  maxDynamicPageCount: number | null;
  initializedAt: number | null;
  status: StatusState;
  /** Requests waiting for the work item: at most one per kind (a newer one overwrites). */
  queue: WorkRequest[];
  balloonUp: BalloonUpProgress | null;
  unballoon: UnballoonProgress | null;
  /** The hot-add request being processed. */
  hotAddRequest: HotAddRequestRanges | null;
  /** The HAS model (mutable, referenced, never copied). */
  readonly hotAdd: HotAddRegions;
  /** Linux do_hot_add: false after add_memory said -EEXIST (or in hibernation mode). */
  hotAddEnabled: boolean;
  /**
   * Linux ol_waitevent: a block came online since the current chunk's wait was re-armed (any
   * block's MEM_ONLINE completes it, also one arriving while the chunk is still being added).
   */
  onlineCompleted: boolean;
  jobSeq: number;
  /** The vCPU job the work region waits for. */
  workJob: string | null;
  /** The vCPU job the receive region waits for. */
  receiveJob: string | null;
  stats: DriverStats;
  malice: MaliceState | null;
}

/** Events the driver takes from the bus (PartInbox['guest']). */
export type DmGuestDriverBusEvent = PartInbox['guest'];

/** Events the driver sends itself: decoded packets and the outcomes of its effects. */
export type DmGuestDriverInternalEvent =
  | { type: 'guest.packet'; message: DmMessage; bytes: number }
  | { type: 'guest.bad-packet'; typeId: number | null; text: string }
  | { type: 'guest.ring-empty' }
  | { type: 'guest.send-failed'; what: string; result: number }
  | { type: 'guest.balloon-allocated'; ranges: PageRange[] }
  | { type: 'guest.balloon-sent'; result: number }
  | { type: 'guest.block-add-result'; block: PageRange; outcome: 'ok' | 'exists' | 'unaligned' }
  | { type: 'guest.log'; level: LogLevel; text: string }
  | { type: 'guest.version-response'; accepted: boolean }
  | { type: 'guest.caps-response'; accepted: boolean; hotRemove: boolean; suppressPressureReports: boolean }
  | { type: 'guest.balloon-request'; numPages: number }
  | { type: 'guest.hot-add-request'; request: HotAddRequestRanges };

export type DmGuestDriverEvent = DmGuestDriverBusEvent | DmGuestDriverInternalEvent;

// ---- constants ---------------------------------------------------------------------------------

/** Linux hv_balloon.c: 2.0 (WIN10) first, then 1.0 (WIN8), then 0.3 (WIN7) as the last attempt. */
export const VERSION_SEQUENCE: readonly DmVersion[] = [
  { major: 2, minor: 0 },
  { major: 1, minor: 0 },
  { major: 0, minor: 3 },
];

/** Linux alloc_unit for the first try: 2 MiB. */
const UNIT_2M = 512;
/**
 * Kernel timers round up: the status thread's 1 s sleep ends a jiffy late (HZ = 250 assumed), so
 * consecutive reports pass post_status' strict "> 1 s since the last" check (Linux hv_balloon.c
 * dm_thread_func: period ~1.0-1.1 s).
 */
export const STATUS_THREAD_PERIOD_MS = STATUS_PERIOD_MS + 4;

const ETIMEDOUT = -110;
const EPROTO = -71;
const EIO = -5;
const ECONNRESET = -104;
const EEXIST = -17;
const EINVAL = -22;

/** The tag of fire-and-forget vCPU jobs (onlining cost); nothing waits for their job.done. */
const ONLINE_JOB_TAG = 'guest-online';

// ---- helpers -------------------------------------------------------------------------------------

function sumPages(ranges: readonly PageRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.pageCount;
  return n;
}

/** Linux: atomic_inc_return on a 32-bit counter. */
function nextTransId(id: number): number {
  return (id + 1) >>> 0;
}

function versionText(v: DmVersion): string {
  return `${v.major}.${v.minor}`;
}

function line(context: DmGuestDriverContext, level: LogLevel, text: string): DmGuestDriverEmitted {
  return { type: 'log', level, text, timeMs: context.outbox.now() };
}

function work(items: [WorkItem['kind'], number][]): WorkItem[] {
  return items.filter(([, count]) => count > 0).map(([kind, count]) => ({ kind, count }));
}

/** Encode and write one DM message (VMBus in-band, requestid 0 as Linux sends). */
function transmit(context: DmGuestDriverContext, bytes: Uint8Array): number {
  return context.endpoint.send(bytes, 0n);
}

function initialStats(): DriverStats {
  return {
    messagesReceived: 0,
    messagesDropped: 0,
    balloonRequests: 0,
    balloonResponses: 0,
    pagesReported: 0,
    ringFullRetries: 0,
    unballoonRequests: 0,
    pagesUnballooned: 0,
    hotAddRequests: 0,
    hotAddResponses: 0,
    misbehaviours: 0,
  };
}

/** The context at power-on and after every system reset: the driver forgets everything. */
function freshContext(input: {
  endpoint: ChannelEndpoint;
  memory: GuestMemoryView;
  outbox: Outbox;
  seed: number;
  profile: ResolvedGuestProfile;
}): DmGuestDriverContext {
  const p = input.profile;
  return {
    endpoint: input.endpoint,
    memory: input.memory,
    outbox: input.outbox,
    seed: input.seed,
    profile: p,
    transId: 0,
    dmState: 'Initializing',
    versionAttempt: 0,
    protocolVersion: null,
    hostCaps: null,
    failure: null,
    maxDynamicPageCount: null,
    initializedAt: null,
    status: { delayCallsLeft: p.pressureReportDelay, lastSentAt: null, reportsSent: 0, wakeups: 0 },
    queue: [],
    balloonUp: null,
    unballoon: null,
    hotAddRequest: null,
    hotAdd: new HotAddRegions(p.memoryBlockPages),
    // Linux: hot-add is off in hibernation-enabled VMs (hot_add_enabled()).
    hotAddEnabled: !p.hibernation,
    onlineCompleted: false,
    jobSeq: 0,
    workJob: null,
    receiveJob: null,
    stats: initialStats(),
    malice:
      p.malicious === null
        ? null
        : { seed: p.malicious.seed, timed: timedSchedule(p.malicious.plan), timedIndex: 0, earlierReported: null },
  };
}

/** Virtual ms from now until the next timed misbehaviour. */
function nextMaliceDelay(context: DmGuestDriverContext): number {
  const m = context.malice;
  const entry = m?.timed[m.timedIndex];
  if (entry === undefined || context.initializedAt === null) return 0;
  return Math.max(0, context.initializedAt + entry.atMs - context.outbox.now());
}

// ---- the machine ---------------------------------------------------------------------------------

export const dmGuestDriverMachine = setup({
  types: {
    input: {} as DmGuestDriverInput,
    context: {} as DmGuestDriverContext,
    events: {} as DmGuestDriverEvent,
    emitted: {} as DmGuestDriverEmitted,
  },
  delays: {
    handshakeTimeout: GUEST_HANDSHAKE_TIMEOUT_MS,
    statusPeriod: STATUS_THREAD_PERIOD_MS,
    ringFullRetry: GUEST_RING_FULL_RETRY_MS,
    onlineWait: GUEST_ONLINE_WAIT_MS,
    nextMisbehaviour: ({ context }) => nextMaliceDelay(context),
  },
  guards: {
    openSucceeded: ({ event }) => event.type === 'guest.channel-opened' && event.ok,
    accepted: ({ event }) =>
      (event.type === 'guest.version-response' || event.type === 'guest.caps-response') && event.accepted,
    hasNextVersion: ({ context }) => context.versionAttempt < VERSION_SEQUENCE.length - 1,
    channelListening: stateIn('#dmGuestDriver.connection.connected'),
    messageIs: ({ event }, params: { type: DmMessage['type'] }) => event.type === 'guest.packet' && event.message.type === params.type,
    initialized: stateIn('#dmGuestDriver.connection.connected.initialized'),
    inVersionNegotiation: stateIn('#dmGuestDriver.connection.connected.version'),
    inCapabilitiesExchange: stateIn('#dmGuestDriver.connection.connected.capabilities'),
    receiveJobDone: ({ context, event }) => event.type === 'job.done' && event.tag === context.receiveJob,
    workJobDone: ({ context, event }) => event.type === 'job.done' && event.tag === context.workJob,
    statusWakeups: ({ context }) => context.status.wakeups > 0,
    hibernating: ({ context }) => context.profile.hibernation,
    requestTooLarge: ({ context, event }) =>
      event.type === 'guest.balloon-request' &&
      context.profile.maxBalloonRequestPages !== null &&
      event.numPages > context.profile.maxBalloonRequestPages,
    nextIsBalloon: ({ context }) => context.queue[0]?.kind === 'balloon',
    nextIsHotAdd: ({ context }) => context.queue[0]?.kind === 'hotAdd',
    /** Linux balloon_up: a 2 MiB round that got nothing switches to 4 KiB units and retries unsent. */
    nothingIn2MiBUnits: ({ context, event }) =>
      event.type === 'guest.balloon-allocated' &&
      event.ranges.length === 0 &&
      context.profile.balloonAllocation === 'units' &&
      context.balloonUp?.unitPages === UNIT_2M,
    ringFull: ({ event }) => event.type === 'guest.balloon-sent' && event.result < 0,
    sendFailed: ({ event }) => event.type === 'guest.balloon-sent' && event.result === 0,
    lastMessage: ({ context }) => context.balloonUp?.last === true,
    chunksToAdd: ({ context }) => (context.hotAdd.operation?.chunksLeft ?? 0) > 0,
    onlineCompleted: ({ context }) => context.onlineCompleted,
    blockAdded: ({ event }) => event.type === 'guest.block-add-result' && event.outcome === 'ok',
    blockExists: ({ event }) => event.type === 'guest.block-add-result' && event.outcome === 'exists',
    timedMisbehaviourLeft: ({ context }) =>
      context.malice !== null && context.malice.timedIndex < context.malice.timed.length,
  },
  actions: {
    // ---- lifecycle ----
    forgetEverything: assign(({ context }) => freshContext(context)),
    emitLog: emit(({ context, event }) =>
      line(context, event.type === 'guest.log' ? event.level : 'info', event.type === 'guest.log' ? event.text : ''),
    ),
    openChannel: ({ context }) => context.outbox.post('channel', { type: 'channel.open' }),
    closeChannel: ({ context }) => context.outbox.post('channel', { type: 'channel.close' }),
    fail: enqueueActions(({ context, enqueue }, params: { reason: string; errno: number }) => {
      enqueue.assign({ failure: { ...params, atMs: context.outbox.now() }, dmState: 'Error' });
      enqueue.emit(line(context, 'error', `probe failed with error ${params.errno}: ${params.reason}`));
    }),
    recordChannelClosed: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ failure: { reason: 'the DM channel was closed', errno: ECONNRESET, atMs: context.outbox.now() }, dmState: 'Error' });
      enqueue.emit(line(context, 'warn', 'the DM channel was closed; the driver stops'));
    }),

    // ---- handshake (Linux balloon_connect_vsp, version_resp, cap_resp) ----
    sendVersionRequest: enqueueActions(({ context, enqueue, self }, params: { attempt: number }) => {
      const transId = nextTransId(context.transId);
      const version = VERSION_SEQUENCE[params.attempt]!;
      const bytes = encode({
        type: 'DM_VERSION_REQUEST',
        transId,
        version,
        // Linux: is_last_attempt only on the 0.3 request.
        isLastAttempt: params.attempt === VERSION_SEQUENCE.length - 1,
      });
      enqueue.assign({ transId, versionAttempt: params.attempt });
      enqueue(function sendDmVersionRequest() {
        const result = transmit(context, bytes);
        if (result <= 0) self.send({ type: 'guest.send-failed', what: 'DM_VERSION_REQUEST', result });
      });
    }),
    recordProtocolVersion: enqueueActions(({ context, enqueue }) => {
      const version = VERSION_SEQUENCE[context.versionAttempt]!;
      enqueue.assign({ protocolVersion: version });
      enqueue.emit(line(context, 'info', `Using Dynamic Memory protocol version ${versionText(version)}`));
    }),
    sendCapabilitiesReport: enqueueActions(({ context, enqueue, self }) => {
      const transId = nextTransId(context.transId);
      const bytes = encode({
        type: 'DM_CAPABILITIES_REPORT',
        transId,
        // Linux: balloon and hot_add even in hibernation mode ("the host currently still requires the bits").
        caps: { balloon: true, hotAdd: true, hotAddAlignment: context.profile.hotAddAlignment, hotRemove: false },
        // Linux: "host does not use these; same as the Windows driver".
        minPageCount: 0n,
        maxPageNumber: 0xffff_ffff_ffff_ffffn,
      });
      enqueue.assign({ transId });
      enqueue(function sendDmCapabilitiesReport() {
        const result = transmit(context, bytes);
        if (result <= 0) self.send({ type: 'guest.send-failed', what: 'DM_CAPABILITIES_REPORT', result });
      });
    }),
    recordHostCaps: assign({
      hostCaps: ({ event }) =>
        event.type === 'guest.caps-response'
          ? { hotRemove: event.hotRemove, suppressPressureReports: event.suppressPressureReports }
          : null,
    }),
    logCapsRejected: emit(({ context }) => line(context, 'error', 'Capabilities not accepted by host')),
    markInitialized: assign(({ context }) => ({
      initializedAt: context.outbox.now(),
      dmState: 'Initialized' as const,
      status: { ...context.status, delayCallsLeft: context.profile.pressureReportDelay, lastSentAt: null },
    })),

    // ---- receive path (Linux balloon_onchannelcallback) ----
    readPacket: ({ context, self }) => {
      const packet = context.endpoint.receive();
      if (packet === undefined) {
        self.send({ type: 'guest.ring-empty' });
        return;
      }
      // Linux frees ring space per packet read.
      context.endpoint.receiveDone();
      const payload = packet.payload;
      if (payload.length > GUEST_MESSAGE_MAX_BYTES) {
        // Linux: a DM message longer than its 4096-byte buffer is not copied; the zeroed buffer reads as type 0.
        self.send({ type: 'guest.bad-packet', typeId: 0, text: `Unhandled message: type: 0 (${payload.length}-byte packet)` });
        return;
      }
      try {
        self.send({ type: 'guest.packet', message: decode(payload), bytes: payload.length });
      } catch (err) {
        const typeId = payload.length >= 2 ? payload[0]! | (payload[1]! << 8) : null;
        const why = err instanceof ProtocolError ? err.message : String(err);
        self.send({
          type: 'guest.bad-packet',
          typeId,
          text: err instanceof ProtocolError && err.code === 'UNKNOWN_TYPE' ? `Unhandled message: type: ${typeId}` : `dropped malformed message: ${why}`,
        });
      }
    },
    logBadPacket: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'guest.bad-packet') return;
      enqueue.assign({ stats: { ...context.stats, messagesReceived: context.stats.messagesReceived + 1, messagesDropped: context.stats.messagesDropped + 1 } });
      enqueue.emit(line(context, 'warn', event.text));
    }),
    countMessage: assign(({ context }) => ({
      stats: { ...context.stats, messagesReceived: context.stats.messagesReceived + 1 },
    })),
    raiseVersionResponse: raise(({ event }) => ({
      type: 'guest.version-response' as const,
      accepted: event.type === 'guest.packet' && event.message.type === 'DM_VERSION_RESPONSE' && event.message.isAccepted,
    })),
    raiseCapsResponse: raise(({ event }) => {
      const m = event.type === 'guest.packet' && event.message.type === 'DM_CAPABILITIES_RESPONSE' ? event.message : null;
      return {
        type: 'guest.caps-response' as const,
        accepted: m?.isAccepted ?? false,
        hotRemove: m?.hotRemove ?? false,
        suppressPressureReports: m?.suppressPressureReports ?? false,
      };
    }),
    raiseBalloonRequest: raise(({ event }) => ({
      type: 'guest.balloon-request' as const,
      numPages: event.type === 'guest.packet' && event.message.type === 'DM_BALLOON_REQUEST' ? event.message.numPages : 0,
    })),
    raiseHotAddRequest: raise(({ event }) => {
      const m = event.type === 'guest.packet' && event.message.type === 'DM_MEM_HOT_ADD_REQUEST' ? event.message : null;
      const range = m === null ? { startPage: 0, pageCount: 0 } : { ...m.range };
      return {
        type: 'guest.hot-add-request' as const,
        request: m?.region === undefined ? { range } : { range, region: { ...m.region } },
      };
    }),
    recordInfo: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'guest.packet' || event.message.type !== 'DM_INFO_MESSAGE') return;
      // Linux reads only the first info entry; no reply is ever sent.
      const info = event.message.info[0];
      if (info?.type === 'MAX_PAGE_COUNT') {
        const pages = Number(info.maxPageCount);
        enqueue.assign({ maxDynamicPageCount: pages });
        enqueue.emit(line(context, 'info', `Max. dynamic memory size: ${Math.floor(pages / 256)} MB`));
      } else if (info !== undefined && info.infoType !== 0) {
        enqueue.emit(line(context, 'warn', `Received Unknown type: ${info.infoType}`));
      }
    }),
    /** A message nobody handles in this state: log why and drop it (no reply). */
    dropMessage: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'guest.packet') return;
      const m = event.message;
      let level: LogLevel = 'warn';
      let text: string;
      switch (m.type) {
        case 'DM_VERSION_RESPONSE':
        case 'DM_CAPABILITIES_RESPONSE':
          text = `unexpected ${m.type} outside the handshake, ignored`;
          break;
        case 'DM_UNBALLOON_REQUEST':
          if (context.profile.hibernation) {
            level = 'info';
            text = 'Ignore balloon-down request!';
            break;
          }
          text = `${m.type} before the driver is initialized, ignored`;
          break;
        case 'DM_BALLOON_REQUEST':
        case 'DM_MEM_HOT_ADD_REQUEST':
          text = `${m.type} before the driver is initialized, ignored`;
          break;
        default:
          // DM_ERROR, hot-remove (Linux does not implement it) and guest->host types.
          text = `Unhandled message: type: ${messageTypeId(m)}`;
      }
      enqueue.emit(line(context, level, text));
      enqueue.assign({ stats: { ...context.stats, messagesDropped: context.stats.messagesDropped + 1 } });
    }),

    // ---- balloon down (Linux balloon_down, in the callback) ----
    beginUnballoon: assign(({ context, event }) => {
      if (event.type !== 'guest.packet' || event.message.type !== 'DM_UNBALLOON_REQUEST') return {};
      const m = event.message;
      return {
        unballoon: { ranges: m.ranges.map((r) => ({ ...r })), morePages: m.morePages },
        dmState: 'Balloon Down' as const,
        stats: { ...context.stats, unballoonRequests: context.stats.unballoonRequests + 1 },
      };
    }),
    chargeUnballoon: enqueueActions(({ context, enqueue }) => {
      const u = context.unballoon;
      if (u === null) return;
      const tag = `guest-job-${context.jobSeq + 1}`;
      enqueue.assign({ jobSeq: context.jobSeq + 1, receiveJob: tag });
      const items = work([
        ['messageHandled', 1],
        ['rangeFreed', u.ranges.length],
        ['pageFreed', sumPages(u.ranges)],
        ['messageSent', u.morePages ? 0 : 1],
      ]);
      enqueue(function postUnballoonJob() {
        context.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
      });
    }),
    releaseUnballoonRanges: ({ context, self }) => {
      const u = context.unballoon;
      if (u === null) return;
      // Linux trusts the host's ranges completely; the simulator reports what did not fit.
      for (const r of u.ranges) {
        const released = context.memory.releaseBalloonRange(r);
        if (released < r.pageCount) {
          self.send({
            type: 'guest.log',
            level: 'warn',
            text: `unballoon range 0x${r.startPage.toString(16)}+${r.pageCount}: only ${released} of its pages were ballooned`,
          });
        }
      }
    },
    finishUnballoonMessage: enqueueActions(({ context, enqueue }) => {
      const u = context.unballoon;
      if (u === null) return;
      enqueue.assign({
        receiveJob: null,
        unballoon: null,
        // Linux completes config_event once per range: the status thread wakes for each.
        status: { ...context.status, wakeups: context.status.wakeups + u.ranges.length },
        stats: { ...context.stats, pagesUnballooned: context.stats.pagesUnballooned + sumPages(u.ranges) },
      });
      if (u.morePages) return;
      // Only the request with more_pages = 0 is answered: one 8-byte DM_UNBALLOON_RESPONSE.
      const transId = nextTransId(context.transId);
      const bytes = encode({ type: 'DM_UNBALLOON_RESPONSE', transId });
      enqueue.assign({ transId, dmState: 'Initialized' });
      enqueue(function sendDmUnballoonResponse() {
        transmit(context, bytes); // Linux ignores send errors here
      });
    }),

    // ---- status (Linux dm_thread_func, post_status) ----
    // Linux dm_thread_func: reinit_completion(&config_event) after the wait, so completions that
    // piled up while the thread slept wake it once, not once each.
    consumeStatusWakeups: assign(({ context }) => ({ status: { ...context.status, wakeups: 0 } })),
    postStatus: enqueueActions(({ context, enqueue }) => {
      const now = context.outbox.now();
      const decision = decidePostStatus(context.status, now);
      if (decision.kind === 'delayed') {
        enqueue.assign({ status: { ...context.status, delayCallsLeft: decision.delayCallsLeft } });
        return;
      }
      if (decision.kind === 'rate-limited') return;
      const transId = nextTransId(context.transId);
      const mem = context.memory;
      const message =
        context.profile.statusFields === 'windows'
          ? windowsStatusReport(
              transId,
              {
                availablePages: mem.availablePages(),
                committedPages: mem.committedPages(),
                balloonedPages: mem.balloonedPages(),
                freePages: mem.freePages(),
                managedPages: mem.managedPages(),
                pageFilePages: context.profile.pageFilePages,
              },
              context.seed,
              context.status.reportsSent,
            )
          : linuxStatusReport(transId, {
              availablePages: mem.availablePages(),
              committedPages: mem.committedPages(),
              balloonedPages: mem.balloonedPages(),
              addedPages: context.hotAdd.addedPages,
              onlinedPages: context.hotAdd.onlinedPages,
              floorPages: balloonFloorPages(mem.managedPages()),
            });
      const bytes = encode(message);
      enqueue.assign({
        transId,
        status: { ...context.status, lastSentAt: now, reportsSent: context.status.reportsSent + 1 },
      });
      enqueue(function sendDmStatusReport() {
        transmit(context, bytes); // Linux: send errors are ignored, no retry
      });
    }),

    // ---- work item (Linux balloon_wrk / ha_wrk) ----
    queueBalloonRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'guest.balloon-request') return;
      if (context.dmState === 'Balloon Up') enqueue.emit(line(context, 'warn', 'Currently ballooning'));
      enqueue.assign({
        dmState: 'Balloon Up',
        queue: upsert(context.queue, { kind: 'balloon', numPages: event.numPages }),
        stats: { ...context.stats, balloonRequests: context.stats.balloonRequests + 1 },
      });
    }),
    logIgnoreBalloonUp: emit(({ context }) => line(context, 'info', 'Ignore balloon-up request!')),
    logIgnoreOversizedRequest: emit(({ context, event }) =>
      line(
        context,
        'warn',
        `balloon request for ${event.type === 'guest.balloon-request' ? event.numPages : 0} pages is above ${context.profile.maxBalloonRequestPages} and is not honoured`,
      ),
    ),
    queueHotAddRequest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'guest.hot-add-request') return;
      if (context.dmState === 'Hot Add') enqueue.emit(line(context, 'warn', 'Currently hot-adding'));
      enqueue.assign({
        dmState: 'Hot Add',
        queue: upsert(context.queue, { kind: 'hotAdd', request: event.request }),
        stats: { ...context.stats, hotAddRequests: context.stats.hotAddRequests + 1 },
      });
    }),

    // ---- balloon up (Linux balloon_up) ----
    startBalloonUp: enqueueActions(({ context, enqueue }) => {
      const head = context.queue[0];
      if (head?.kind !== 'balloon') return;
      const mem = context.memory;
      const available = mem.availablePages();
      // The clamp is done once per request (Linux: floor from managed pages; Windows: its reserve).
      const clamp =
        context.profile.balloonAllocation === 'contiguous'
          ? clampToReserve(head.numPages, available, context.profile.reservePages)
          : clampToFloor(head.numPages, available, balloonFloorPages(mem.managedPages()));
      if (clamp.partial !== null) enqueue.emit(line(context, 'info', partialFulfilmentText(clamp.partial)));
      enqueue.assign({
        queue: context.queue.slice(1),
        balloonUp: {
          requested: head.numPages,
          target: clamp.pages,
          sent: 0,
          unitPages: UNIT_2M,
          ranges: [],
          wire: [],
          last: false,
          messages: 0,
          attempts: 0,
          corruption: [],
        },
      });
    }),
    allocateBalloonMessage: ({ context, self }) => {
      const b = context.balloonUp;
      if (b === null) return;
      const remaining = b.target - b.sent;
      // Fake ranges the malicious profile will add must fit in the same 4096-byte message.
      const room = MAX_RANGES_PER_MESSAGE - injectedRangeCount(currentCorruption(context));
      let ranges: PageRange[];
      if (context.profile.balloonAllocation === 'contiguous') {
        ranges = remaining > 0 ? context.memory.allocateBalloonContiguous(remaining, room) : [];
      } else {
        const units = Math.min(Math.floor(remaining / b.unitPages), room);
        ranges = units > 0 ? context.memory.allocateBalloonUnits(b.unitPages, units) : [];
      }
      self.send({ type: 'guest.balloon-allocated', ranges });
    },
    switchTo4KiBUnits: assign(({ context }) => ({
      balloonUp: context.balloonUp === null ? null : { ...context.balloonUp, unitPages: 1 },
    })),
    prepareBalloonMessage: enqueueActions(({ context, event, enqueue }) => {
      const b = context.balloonUp;
      if (b === null || event.type !== 'guest.balloon-allocated') return;
      const got = sumPages(event.ranges);
      const remaining = b.target - b.sent;
      const corruption = currentCorruption(context);
      let wire = event.ranges;
      if (corruption.length > 0 && context.malice !== null) {
        const n = context.stats.balloonResponses + 1;
        const corrupted = corruptRanges(event.ranges, corruption, context.malice.earlierReported, n);
        wire = corrupted.ranges;
        for (const note of corrupted.notes) for (const e of misbehaviourEvents(context, note.kind, note.text)) enqueue.emit(e);
        enqueue.assign(countMisbehaviours(corrupted.notes.length));
      }
      enqueue.assign({
        balloonUp: {
          ...b,
          ranges: event.ranges,
          wire,
          corruption,
          // Linux: the last message is the one that got nothing or exactly what was left.
          last: got === 0 || got === remaining,
          attempts: 0,
        },
      });
    }),
    chargeBalloonMessage: enqueueActions(({ context, enqueue }) => {
      const b = context.balloonUp;
      if (b === null) return;
      const tag = `guest-job-${context.jobSeq + 1}`;
      enqueue.assign({ jobSeq: context.jobSeq + 1, workJob: tag });
      const items = work([
        ['messageHandled', b.messages === 0 ? 1 : 0],
        ['rangeAllocated', b.ranges.length],
        ['pageAllocated', sumPages(b.ranges)],
        ['messageSent', 1],
      ]);
      enqueue(function postBalloonJob() {
        context.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
      });
    }),
    sendBalloonResponse: enqueueActions(({ context, enqueue, self }) => {
      const b = context.balloonUp;
      if (b === null) return;
      let transId = context.transId;
      const message: DmBalloonResponse = {
        type: 'DM_BALLOON_RESPONSE',
        transId: (transId = nextTransId(transId)),
        morePages: !b.last,
        ranges: b.wire,
      };
      const bytes = encode(message);
      // Malicious byte-level copies go out once, before the first attempt of the real message.
      const copies: Uint8Array[] = [];
      if (b.attempts === 0 && b.corruption.length > 0) {
        const n = context.stats.balloonResponses + 1;
        for (const copy of corruptedCopies(bytes, b.corruption, n)) {
          transId = nextTransId(transId);
          copies.push(withTransId(copy.bytes, transId));
          for (const e of misbehaviourEvents(context, copy.note.kind, copy.note.text)) enqueue.emit(e);
          enqueue.assign(countMisbehaviours(1));
        }
      }
      enqueue.assign({ transId, balloonUp: { ...b, attempts: b.attempts + 1 } });
      enqueue(function sendDmBalloonResponse() {
        for (const copy of copies) transmit(context, copy);
        self.send({ type: 'guest.balloon-sent', result: transmit(context, bytes) });
      });
    }),
    countRingFull: assign(({ context }) => ({
      stats: { ...context.stats, ringFullRetries: context.stats.ringFullRetries + 1 },
    })),
    recordMessageSent: assign(({ context }) => {
      const b = context.balloonUp;
      if (b === null) return {};
      const got = sumPages(b.ranges);
      const malice =
        context.malice !== null && context.malice.earlierReported === null && b.wire.length > 0
          ? { ...context.malice, earlierReported: { ...b.wire[0]! } }
          : context.malice;
      return {
        balloonUp: { ...b, sent: b.sent + got, messages: b.messages + 1, ranges: [], wire: [], corruption: [] },
        workJob: null,
        malice,
        stats: {
          ...context.stats,
          balloonResponses: context.stats.balloonResponses + 1,
          pagesReported: context.stats.pagesReported + got,
        },
      };
    }),
    freeBalloonMessage: ({ context }) => {
      // Linux: on a send error other than -EAGAIN the pages of this message go back, and the request ends.
      for (const r of context.balloonUp?.ranges ?? []) context.memory.releaseBalloonRange(r);
    },
    logBalloonResponseFailed: emit(({ context }) => line(context, 'error', 'Balloon response failed')),
    endBalloonUp: assign(() => ({ balloonUp: null, workJob: null, dmState: 'Initialized' as const })),

    // ---- hot add (Linux hot_add_req, handle_pg_range, hv_mem_hot_add) ----
    takeHotAddRequest: assign(({ context }) => {
      const head = context.queue[0];
      if (head?.kind !== 'hotAdd') return {};
      return { queue: context.queue.slice(1), hotAddRequest: head.request };
    }),
    startHotAdd: ({ context }) => {
      const request = context.hotAddRequest;
      const model = context.hotAdd;
      if (request === null || !context.hotAddEnabled) {
        model.operation = null;
        return;
      }
      const op = model.begin(request);
      // Linux handle_pg_range: pages backed inside an already-online block go to the allocator
      // at once.
      let onlined = 0;
      for (const r of op.onlineNow) onlined += context.memory.onlinePages(r);
      model.countOnlined(onlined);
      if (onlined > 0) {
        context.outbox.post('vcpu', {
          type: 'vcpu.run',
          job: { owner: 'guest', tag: ONLINE_JOB_TAG, work: [{ kind: 'pageOnlined', count: onlined }] },
        });
      }
    },
    chargeBlockAdd: enqueueActions(({ context, enqueue }) => {
      const tag = `guest-job-${context.jobSeq + 1}`;
      // Linux hv_mem_hot_add: reinit_completion(&ol_waitevent) just before add_memory.
      enqueue.assign({ jobSeq: context.jobSeq + 1, workJob: tag, onlineCompleted: false });
      enqueue(function postBlockAddJob() {
        context.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: [{ kind: 'blockAdded', count: 1 }] } });
      });
    }),
    addNextBlock: ({ context, self }) => {
      const model = context.hotAdd;
      const block = model.takeChunk();
      // Linux add_memory: a block must start on a memory-block boundary (-EINVAL otherwise).
      let outcome: 'ok' | 'exists' | 'unaligned' = 'unaligned';
      if (block.startPage % model.chunkPages === 0) outcome = context.memory.addMemoryBlock(block);
      if (outcome === 'ok') {
        model.chunkAdded();
        context.outbox.post('memctl', { type: 'memctl.block-added', range: { ...block } });
      } else {
        model.undoChunk();
      }
      self.send({ type: 'guest.block-add-result', block, outcome });
    },
    logBlockAddFailed: emit(({ context, event }) =>
      line(
        context,
        'error',
        `hot_add memory failed error is ${event.type === 'guest.block-add-result' && event.outcome === 'exists' ? EEXIST : EINVAL}`,
      ),
    ),
    disableHotAdd: assign({ hotAddEnabled: false }),
    // Linux hv_memory_notifier: MEM_ONLINE completes ol_waitevent.
    completeOnlineWait: assign({ onlineCompleted: true }),
    onlineBlock: ({ context, event }) => {
      if (event.type !== 'guest.block-onlined') return;
      const model = context.hotAdd;
      const { backed, outside } = model.onlineBlock(event.range);
      let counted = 0;
      for (const r of backed) counted += context.memory.onlinePages(r);
      // Linux hv_online_page: pages outside every region go online via generic_online_page,
      // without counting in num_pages_onlined.
      let onlined = counted;
      for (const r of outside) onlined += context.memory.onlinePages(r);
      model.countOnlined(counted);
      if (onlined > 0) {
        context.outbox.post('vcpu', {
          type: 'vcpu.run',
          job: { owner: 'guest', tag: ONLINE_JOB_TAG, work: [{ kind: 'pageOnlined', count: onlined }] },
        });
      }
    },
    answerHotAdd: enqueueActions(({ context, enqueue }) => {
      const op = context.hotAdd.operation;
      const region = op !== null && op.regionIndex >= 0 ? context.hotAdd.regions[op.regionIndex] : undefined;
      const pageCount = region !== undefined && op !== null ? region.coveredEndPage - op.oldCoveredEnd : 0;
      const disabled = !context.hotAddEnabled;
      const result = hotAddResult(pageCount, disabled);
      // Linux hot_add_req: logged when nothing was added or hot-add is (now) disabled.
      if (pageCount === 0 || disabled) {
        enqueue.emit(line(context, context.profile.hibernation ? 'info' : 'error', context.profile.hibernation ? 'Ignore hot-add request!' : 'Memory hot add failed'));
      }
      let wirePages = pageCount;
      const n = context.stats.hotAddResponses + 1;
      if (context.profile.malicious !== null) {
        for (const m of misbehavioursForHotAdd(context.profile.malicious.plan, n)) {
          wirePages = Math.min(0xffff_ffff, wirePages + m.pages);
          const text = `hot-add response #${n} claims ${wirePages} pages, ${pageCount} were added`;
          for (const e of misbehaviourEvents(context, m.kind, text)) enqueue.emit(e);
          enqueue.assign(countMisbehaviours(1));
        }
      }
      const transId = nextTransId(context.transId);
      const bytes = encode({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId, pageCount: wirePages, result });
      enqueue.assign(({ context: c }) => ({
        transId,
        hotAddRequest: null,
        workJob: null,
        dmState: 'Initialized' as const,
        stats: { ...c.stats, hotAddResponses: n },
      }));
      enqueue(function sendDmHotAddResponse() {
        transmit(context, bytes); // Linux ignores send errors here
      });
    }),
    finishHotAdd: ({ context }) => {
      // num_pages_added += page_count (the model counts it).
      context.hotAdd.finish();
    },

    // ---- malicious timed misbehaviours ----
    performTimedMisbehaviour: enqueueActions(({ context, enqueue }) => {
      const m = context.malice;
      const entry = m?.timed[m.timedIndex];
      if (m === null || entry === undefined) return;
      const transId = nextTransId(context.transId);
      let message: DmMessage;
      let text: string;
      switch (entry.kind) {
        case 'unsolicitedUnballoonResponse':
          message = { type: 'DM_UNBALLOON_RESPONSE', transId };
          text = 'sends a DM_UNBALLOON_RESPONSE nobody asked for';
          break;
        case 'unsolicitedHotAddResponse':
          message = { type: 'DM_MEM_HOT_ADD_RESPONSE', transId, pageCount: entry.pages, result: 1 };
          text = `sends an unsolicited DM_MEM_HOT_ADD_RESPONSE claiming ${entry.pages} pages`;
          break;
        case 'versionRequestAfterInit':
          message = { type: 'DM_VERSION_REQUEST', transId, version: VERSION_SEQUENCE[0]!, isLastAttempt: false };
          text = 'sends a DM_VERSION_REQUEST after the handshake';
          break;
        case 'capsReportAfterInit':
          message = {
            type: 'DM_CAPABILITIES_REPORT',
            transId,
            caps: { balloon: true, hotAdd: true, hotAddAlignment: context.profile.hotAddAlignment, hotRemove: false },
            minPageCount: 0n,
            maxPageNumber: 0xffff_ffff_ffff_ffffn,
          };
          text = 'sends a DM_CAPABILITIES_REPORT after the handshake';
          break;
      }
      const bytes = encode(message);
      for (const e of misbehaviourEvents(context, entry.kind, text)) enqueue.emit(e);
      enqueue.assign(countMisbehaviours(1));
      enqueue.assign({ transId, malice: { ...m, timedIndex: m.timedIndex + 1 } });
      enqueue(function sendMisbehaviour() {
        transmit(context, bytes);
      });
    }),
  },
}).createMachine({
  id: 'dmGuestDriver',
  type: 'parallel',
  context: ({ input }) =>
    freshContext({
      endpoint: input.endpoint,
      memory: input.memory,
      outbox: input.outbox,
      seed: input.seed,
      profile: resolveGuestProfile(input.profile, input.seed),
    }),
  on: {
    // Reboot: the module is loaded afresh; the channel will be offered again.
    'system.reset': {
      target: ['#dmGuestDriver.connection.waitingForOffer', '#dmGuestDriver.receive.idle'],
      actions: 'forgetEverything',
    },
    'guest.log': { actions: 'emitLog' },
  },
  states: {
    connection: {
      initial: 'waitingForOffer',
      states: {
        waitingForOffer: {
          on: { 'guest.channel-offered': { target: 'opening', actions: 'openChannel' } },
        },
        opening: {
          on: {
            'guest.channel-opened': [
              { guard: 'openSucceeded', target: 'connected' },
              { target: 'failed', actions: { type: 'fail', params: { reason: 'the DM channel could not be opened', errno: EIO } } },
            ],
          },
        },
        connected: {
          initial: 'version',
          on: {
            'guest.channel-closed': { target: 'closed', actions: 'recordChannelClosed' },
          },
          states: {
            version: {
              entry: { type: 'sendVersionRequest', params: { attempt: 0 } },
              // One 5 s budget for all attempts: later requests are sent without leaving this state.
              after: {
                handshakeTimeout: {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'version negotiation timed out', errno: ETIMEDOUT } }, 'closeChannel'],
                },
              },
              on: {
                'guest.version-response': [
                  { guard: 'accepted', target: 'capabilities', actions: 'recordProtocolVersion' },
                  {
                    guard: 'hasNextVersion',
                    actions: {
                      type: 'sendVersionRequest',
                      params: ({ context }: { context: DmGuestDriverContext }) => ({ attempt: context.versionAttempt + 1 }),
                    },
                  },
                  {
                    target: '#dmGuestDriver.connection.failed',
                    actions: [{ type: 'fail', params: { reason: 'no protocol version was accepted', errno: EPROTO } }, 'closeChannel'],
                  },
                ],
                'guest.send-failed': {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'the version request could not be sent', errno: EPROTO } }, 'closeChannel'],
                },
              },
            },
            capabilities: {
              entry: 'sendCapabilitiesReport',
              after: {
                handshakeTimeout: {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'capabilities exchange timed out', errno: ETIMEDOUT } }, 'closeChannel'],
                },
              },
              on: {
                'guest.caps-response': [
                  { guard: 'accepted', target: 'initialized', actions: 'recordHostCaps' },
                  {
                    target: '#dmGuestDriver.connection.failed',
                    actions: [
                      'logCapsRejected',
                      { type: 'fail', params: { reason: 'capabilities not accepted by host', errno: EPROTO } },
                      'closeChannel',
                    ],
                  },
                ],
                'guest.send-failed': {
                  target: '#dmGuestDriver.connection.failed',
                  actions: [{ type: 'fail', params: { reason: 'the capabilities report could not be sent', errno: EPROTO } }, 'closeChannel'],
                },
              },
            },
            initialized: {
              type: 'parallel',
              entry: 'markInitialized',
              states: {
                status: {
                  initial: 'sleeping',
                  states: {
                    // The hv_balloon thread: sleep up to 1 s (an unballoon wakes it early), then post_status.
                    sleeping: {
                      always: { guard: 'statusWakeups', target: 'posting', actions: 'consumeStatusWakeups' },
                      after: { statusPeriod: 'posting' },
                    },
                    posting: {
                      entry: 'postStatus',
                      always: 'sleeping',
                    },
                  },
                },
                work: {
                  initial: 'idle',
                  on: {
                    'guest.balloon-request': [
                      { guard: 'hibernating', actions: 'logIgnoreBalloonUp' },
                      { guard: 'requestTooLarge', actions: 'logIgnoreOversizedRequest' },
                      { actions: 'queueBalloonRequest' },
                    ],
                    'guest.hot-add-request': { actions: 'queueHotAddRequest' },
                    'guest.block-onlined': { actions: ['onlineBlock', 'completeOnlineWait'] },
                  },
                  states: {
                    idle: {
                      always: [
                        { guard: 'nextIsBalloon', target: 'balloonUp' },
                        { guard: 'nextIsHotAdd', target: 'hotAdd' },
                      ],
                    },
                    balloonUp: {
                      entry: 'startBalloonUp',
                      initial: 'allocating',
                      states: {
                        allocating: {
                          entry: 'allocateBalloonMessage',
                          on: {
                            'guest.balloon-allocated': [
                              { guard: 'nothingIn2MiBUnits', target: 'allocating', reenter: true, actions: 'switchTo4KiBUnits' },
                              { target: 'charging', actions: 'prepareBalloonMessage' },
                            ],
                          },
                        },
                        // The allocation costs vCPU time before the message goes out.
                        charging: {
                          entry: 'chargeBalloonMessage',
                          on: { 'job.done': { guard: 'workJobDone', target: 'sending' } },
                        },
                        sending: {
                          entry: 'sendBalloonResponse',
                          on: {
                            'guest.balloon-sent': [
                              // Linux balloon_up: -EAGAIN -> msleep(20), then post_status, then retry with a fresh trans_id.
                              { guard: 'ringFull', target: 'ringFull', actions: 'countRingFull' },
                              {
                                guard: 'sendFailed',
                                target: '#dmGuestDriver.connection.connected.initialized.work.idle',
                                actions: ['freeBalloonMessage', 'logBalloonResponseFailed', 'postStatus', 'endBalloonUp'],
                              },
                              {
                                guard: 'lastMessage',
                                target: '#dmGuestDriver.connection.connected.initialized.work.idle',
                                actions: ['recordMessageSent', 'postStatus', 'endBalloonUp'],
                              },
                              { target: 'allocating', actions: ['recordMessageSent', 'postStatus'] },
                            ],
                          },
                        },
                        ringFull: {
                          after: { ringFullRetry: { target: 'sending', actions: 'postStatus' } },
                        },
                      },
                    },
                    hotAdd: {
                      entry: ['takeHotAddRequest', 'startHotAdd'],
                      initial: 'deciding',
                      states: {
                        deciding: {
                          always: [{ guard: 'chunksToAdd', target: 'charging' }, { target: 'responding' }],
                        },
                        charging: {
                          entry: 'chargeBlockAdd',
                          on: { 'job.done': { guard: 'workJobDone', target: 'adding' } },
                        },
                        adding: {
                          entry: 'addNextBlock',
                          on: {
                            'guest.block-add-result': [
                              { guard: 'blockAdded', target: 'waitingOnline' },
                              // Linux: -EEXIST means the address map precludes hot-add: disable it for good.
                              { guard: 'blockExists', target: 'responding', actions: ['logBlockAddFailed', 'disableHotAdd'] },
                              { target: 'responding', actions: 'logBlockAddFailed' },
                            ],
                          },
                        },
                        // Linux waits up to 5 s for MEM_ONLINE (any block's completion since the re-arm ends the wait).
                        waitingOnline: {
                          always: { guard: 'onlineCompleted', target: 'chunkDone' },
                          after: { onlineWait: 'chunkDone' },
                        },
                        chunkDone: {
                          entry: 'postStatus',
                          always: [{ guard: 'chunksToAdd', target: 'charging' }, { target: 'responding' }],
                        },
                        responding: {
                          entry: ['answerHotAdd', 'finishHotAdd'],
                          always: '#dmGuestDriver.connection.connected.initialized.work.idle',
                        },
                      },
                    },
                  },
                },
                malice: {
                  initial: 'choosing',
                  states: {
                    choosing: {
                      always: [{ guard: 'timedMisbehaviourLeft', target: 'waiting' }, { target: 'done' }],
                    },
                    waiting: {
                      after: { nextMisbehaviour: { target: 'choosing', actions: 'performTimedMisbehaviour' } },
                    },
                    done: {},
                  },
                },
              },
            },
          },
        },
        // The probe failed: the channel is closed and the driver stays unbound until a reset.
        failed: {},
        // The channel went away under the driver.
        closed: {},
      },
    },
    receive: {
      initial: 'idle',
      states: {
        idle: {
          on: { 'guest.interrupt': { guard: 'channelListening', target: 'draining' } },
        },
        draining: {
          entry: 'readPacket',
          on: {
            'guest.ring-empty': 'idle',
            'guest.bad-packet': { target: 'draining', reenter: true, actions: 'logBadPacket' },
            // Linux balloon_onchannelcallback's switch on hdr.type.
            'guest.packet': [
              {
                // Linux balloon_down runs in the callback; in hibernation mode it is ignored instead.
                guard: and([{ type: 'messageIs', params: { type: 'DM_UNBALLOON_REQUEST' as const } }, 'initialized', not('hibernating')]),
                target: 'balloonDown',
                actions: ['countMessage', 'beginUnballoon'],
              },
              {
                guard: and([{ type: 'messageIs', params: { type: 'DM_VERSION_RESPONSE' as const } }, 'inVersionNegotiation']),
                target: 'draining',
                reenter: true,
                actions: ['countMessage', 'raiseVersionResponse'],
              },
              {
                guard: and([{ type: 'messageIs', params: { type: 'DM_CAPABILITIES_RESPONSE' as const } }, 'inCapabilitiesExchange']),
                target: 'draining',
                reenter: true,
                actions: ['countMessage', 'raiseCapsResponse'],
              },
              {
                guard: and([{ type: 'messageIs', params: { type: 'DM_BALLOON_REQUEST' as const } }, 'initialized']),
                target: 'draining',
                reenter: true,
                actions: ['countMessage', 'raiseBalloonRequest'],
              },
              {
                guard: and([{ type: 'messageIs', params: { type: 'DM_MEM_HOT_ADD_REQUEST' as const } }, 'initialized']),
                target: 'draining',
                reenter: true,
                actions: ['countMessage', 'raiseHotAddRequest'],
              },
              {
                guard: { type: 'messageIs', params: { type: 'DM_INFO_MESSAGE' as const } },
                target: 'draining',
                reenter: true,
                actions: ['countMessage', 'recordInfo'],
              },
              { target: 'draining', reenter: true, actions: ['countMessage', 'dropMessage'] },
            ],
          },
        },
        // Linux balloon_down: free the ranges (vCPU time), wake the status thread, answer the last part.
        balloonDown: {
          entry: 'chargeUnballoon',
          on: {
            'job.done': {
              guard: 'receiveJobDone',
              target: 'draining',
              actions: ['releaseUnballoonRanges', 'finishUnballoonMessage'],
            },
          },
        },
      },
    },
  },
});

// ---- small pure helpers used above ---------------------------------------------------------------

/** Linux work-item semantics: a newer request of the same kind overwrites the queued one in place. */
function upsert(queue: readonly WorkRequest[], request: WorkRequest): WorkRequest[] {
  const i = queue.findIndex((q) => q.kind === request.kind);
  if (i < 0) return [...queue, request];
  const out = queue.slice();
  out[i] = request;
  return out;
}

/** The misbehaviours of the balloon response about to be built (malicious profile). */
function currentCorruption(context: DmGuestDriverContext): ResponseMisbehaviour[] {
  if (context.profile.malicious === null) return [];
  return misbehavioursForResponse(context.profile.malicious.plan, context.stats.balloonResponses + 1);
}

/** The two emitted events of one misbehaviour: the event itself and its kernel-log line. */
function misbehaviourEvents(context: DmGuestDriverContext, kind: MisbehaviourKind, text: string): DmGuestDriverEmitted[] {
  const timeMs = context.outbox.now();
  return [
    { type: 'misbehaviour', kind, text, timeMs },
    { type: 'log', level: 'warn', text: `malicious guest: ${text}`, timeMs },
  ];
}

/** An assign that counts `n` misbehaviours (applied in order after any earlier assign). */
function countMisbehaviours(n: number): (args: { context: DmGuestDriverContext }) => Partial<DmGuestDriverContext> {
  return ({ context }) => ({ stats: { ...context.stats, misbehaviours: context.stats.misbehaviours + n } });
}

function messageTypeId(m: DmMessage): number {
  return DM_MESSAGE_TYPE_IDS[m.type];
}

// ---- queries -------------------------------------------------------------------------------------

/** A JSON-safe summary of the driver for queries and reports. */
export interface DmGuestDriverSummary {
  profile: ResolvedGuestProfile['name'];
  dmState: DmDriverState;
  protocolVersion: string | null;
  failure: DriverFailure | null;
  transId: number;
  maxDynamicPageCount: number | null;
  balloonedPages: number;
  floorPages: number;
  hotAdd: { enabled: boolean; regions: number; addedPages: number; onlinedPages: number; onlineBlocks: number };
  status: { reportsSent: number; delayCallsLeft: number; lastSentAt: number | null };
  queue: WorkRequest['kind'][];
  stats: DriverStats;
}

export function summarizeGuestDriver(context: DmGuestDriverContext): DmGuestDriverSummary {
  return {
    profile: context.profile.name,
    dmState: context.dmState,
    protocolVersion: context.protocolVersion === null ? null : versionText(context.protocolVersion),
    failure: context.failure,
    transId: context.transId,
    maxDynamicPageCount: context.maxDynamicPageCount,
    balloonedPages: context.memory.balloonedPages(),
    floorPages: balloonFloorPages(context.memory.managedPages()),
    hotAdd: {
      enabled: context.hotAddEnabled,
      regions: context.hotAdd.regions.length,
      addedPages: context.hotAdd.addedPages,
      onlinedPages: context.hotAdd.onlinedPages,
      onlineBlocks: context.hotAdd.onlineBlockCount,
    },
    status: {
      reportsSent: context.status.reportsSent,
      delayCallsLeft: context.status.delayCallsLeft,
      lastSentAt: context.status.lastSentAt,
    },
    queue: context.queue.map((q) => q.kind),
    stats: context.stats,
  };
}
