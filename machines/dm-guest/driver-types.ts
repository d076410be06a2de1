/**
 * The DM guest driver's types: its input, context, events and what it emits.
 *
 * The context is grouped (docs/architecture.md, "Performance design"): XState copies the whole
 * context on every assign, and V8 turns a copy with about 20 or more keys into a slow
 * dictionary-mode object. So the top level holds a dozen keys, each a group that one assign
 * replaces when something in it changes.
 */
import type { DmMessage, DmVersion, PageRange } from '../../protocol/messages';
import type { GuestMemoryView } from '../memory-views';
import type { Outbox } from '../outbox';
import type { PartInbox } from '../part-events';
import type { ChannelEndpoint } from '../vmbus-ring';
import type { HotAddRegions, HotAddRequestRanges } from './hot-add-regions';
import type { MisbehaviourKind, ResponseMisbehaviour, TimedMisbehaviour } from './malicious-plan';
import type { GuestProfileConfig, ResolvedGuestProfile } from './profiles';
import type { StatusGate } from './status-report';

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

/**
 * The balloon-up transaction in progress (Linux balloon_up's locals). startBalloonUp makes a new
 * one per request; the steps of each message (allocate, prepare, send, record) then change it in
 * place, like the HAS model, so the hot path needs no assign (docs/architecture.md, "Performance
 * design: the guest side"). A copy taken from an older snapshot may show later progress.
 */
export interface BalloonUpProgress {
  requested: number;
  /** After the floor (Linux) or reserve (Windows) clamp, done once at the start. */
  target: number;
  /** Pages in responses sent so far. */
  sent: number;
  /** Linux alloc_unit: 512 (2 MiB) until a 2 MiB round gets nothing, then 1 for good. */
  unitPages: number;
  /**
   * Ranges allocated for the message being built (real pages): one per unit, or when `unitRuns`
   * is set, runs of adjacent units in the order they were handed out.
   */
  ranges: PageRange[];
  /** Units in `ranges`: the message's range count (before any fakes). */
  unitCount: number;
  /**
   * `ranges` and `wire` are runs of units of `unitPages` (a Linux guest that is not malicious):
   * the message is encoded from them, with no object per unit (protocol/balloon-response-units.ts).
   */
  unitRuns: boolean;
  /** The ranges on the wire (the malicious profile adds fakes); runs of units when `unitRuns` is set. */
  wire: PageRange[];
  /** This message ends the transaction (more_pages = 0). */
  last: boolean;
  /** Responses sent in this transaction. */
  messages: number;
  /** Send attempts of the current message (ring-full retries). */
  attempts: number;
  /** Malicious: the misbehaviours of the current message. */
  corruption: ResponseMisbehaviour[];
  /** What the last send attempt returned (VmbusRing: bytes written, 0 failed, < 0 ring full). */
  sendResult: number;
  /**
   * The last trans_id the last send attempt used (with a malicious guest's copies); the step that
   * leaves `sending` records it as context.transId.
   */
  transId: number;
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

/** What the driver works with; references, never copied or changed. */
export interface DriverParts {
  readonly endpoint: ChannelEndpoint;
  readonly memory: GuestMemoryView;
  readonly outbox: Outbox;
  readonly seed: number;
}

/** The `connection` region's facts: the handshake's outcome and what the host told the driver. */
export interface ConnectionState {
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
}

/** The `work` region: the work item's queue and the transaction in progress. */
export interface WorkState {
  /** Requests waiting for the work item: at most one per kind (a newer one overwrites). */
  queue: WorkRequest[];
  balloonUp: BalloonUpProgress | null;
  /** The hot-add request being processed. */
  hotAddRequest: HotAddRequestRanges | null;
  /** Linux do_hot_add: false after add_memory said -EEXIST (or in hibernation mode). */
  hotAddEnabled: boolean;
  /**
   * Linux ol_waitevent: a block came online since the current chunk's wait was re-armed (any
   * block's MEM_ONLINE completes it, also one arriving while the chunk is still being added).
   */
  onlineCompleted: boolean;
  /** The vCPU job the work region waits for. */
  job: string | null;
  /** What add_memory said about the block just added (hot add). */
  blockAdd: BlockAddResult | null;
}

export interface BlockAddResult {
  block: PageRange;
  outcome: 'ok' | 'exists' | 'unaligned';
}

/** One read of the inbound ring: a decoded message, a packet that could not be used, or nothing. */
export type PacketRead =
  | { kind: 'packet'; message: DmMessage; bytes: number }
  | { kind: 'bad'; typeId: number | null; text: string }
  | { kind: 'empty' };

/** The `receive` region: the unballoon request being handled in the channel callback. */
export interface ReceiveState {
  unballoon: UnballoonProgress | null;
  /** The vCPU job the receive region waits for. */
  job: string | null;
  /** The packet just read, which `draining` dispatches (set in place by readPacket, not assigned). */
  read: PacketRead | null;
}

export interface DmGuestDriverContext {
  readonly parts: DriverParts;
  readonly profile: ResolvedGuestProfile;
  /** The HAS model (mutable, referenced, never copied). */
  readonly hotAdd: HotAddRegions;
  /** The last DM trans_id the guest used (Linux: one counter, pre-incremented, never echoes the host's). */
  transId: number;
  dmState: DmDriverState;
  connection: ConnectionState;
  status: StatusState;
  work: WorkState;
  receive: ReceiveState;
  /** vCPU jobs posted so far (their tags). */
  jobSeq: number;
  stats: DriverStats;
  malice: MaliceState | null;
}

/** Events the driver takes from the bus (PartInbox['guest']). */
export type DmGuestDriverBusEvent = PartInbox['guest'];

/**
 * Events the driver sends or raises itself. The outcomes of its frequent effects (a packet read, a
 * balloon allocation, a send, a block add) are kept in context instead and decided by eventless
 * transitions in the same step (docs/architecture.md, "Performance design").
 */
export type DmGuestDriverInternalEvent =
  | { type: 'guest.send-failed'; what: string; result: number }
  | { type: 'guest.log'; level: LogLevel; text: string }
  | { type: 'guest.version-response'; accepted: boolean }
  | { type: 'guest.caps-response'; accepted: boolean; hotRemove: boolean; suppressPressureReports: boolean }
  | { type: 'guest.balloon-request'; numPages: number }
  | { type: 'guest.hot-add-request'; request: HotAddRequestRanges }
  // The status thread's 1 s wait ran out (status-actions.ts STATUS_TIMER).
  | { type: 'guest.status-period' };

export type DmGuestDriverEvent = DmGuestDriverBusEvent | DmGuestDriverInternalEvent;
