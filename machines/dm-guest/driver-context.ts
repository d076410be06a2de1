/**
 * The DM guest driver's constants, its context at power-on, and the small pure helpers its
 * actions share (trans_id, log lines, work items, the malicious profile's bookkeeping).
 */
import { STATUS_PERIOD_MS } from '../../protocol/constants';
import { DM_MESSAGE_TYPE_IDS, type DmMessage, type DmVersion, type PageRange } from '../../protocol/messages';
import type { WorkItem } from '../part-events';
import { HotAddRegions } from './hot-add-regions';
import { misbehavioursForResponse, timedSchedule, type MisbehaviourKind, type ResponseMisbehaviour } from './malicious-plan';
import type { ResolvedGuestProfile } from './profiles';
import type { DmGuestDriverContext, DmGuestDriverEmitted, DriverParts, DriverStats, LogLevel, WorkRequest } from './driver-types';

/** Linux hv_balloon.c: 2.0 (WIN10) first, then 1.0 (WIN8), then 0.3 (WIN7) as the last attempt. */
export const VERSION_SEQUENCE: readonly DmVersion[] = [
  { major: 2, minor: 0 },
  { major: 1, minor: 0 },
  { major: 0, minor: 3 },
];

/** Linux alloc_unit for the first try: 2 MiB. */
export const UNIT_2M = 512;
/**
 * Kernel timers round up: the status thread's 1 s sleep ends a jiffy late (HZ = 250 assumed), so
 * consecutive reports pass post_status' strict "> 1 s since the last" check (Linux hv_balloon.c
 * dm_thread_func: period ~1.0-1.1 s).
 */
export const STATUS_THREAD_PERIOD_MS = STATUS_PERIOD_MS + 4;

export const ETIMEDOUT = -110;
export const EPROTO = -71;
export const EIO = -5;
export const ECONNRESET = -104;
export const EEXIST = -17;
export const EINVAL = -22;

/** The tag of fire-and-forget vCPU jobs (onlining cost); nothing waits for their job.done. */
export const ONLINE_JOB_TAG = 'guest-online';

export function sumPages(ranges: readonly PageRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.pageCount;
  return n;
}

/** Linux: atomic_inc_return on a 32-bit counter. */
export function nextTransId(id: number): number {
  return (id + 1) >>> 0;
}

export function versionText(v: DmVersion): string {
  return `${v.major}.${v.minor}`;
}

export function line(context: DmGuestDriverContext, level: LogLevel, text: string): DmGuestDriverEmitted {
  return { type: 'log', level, text, timeMs: context.parts.outbox.now() };
}

export function work(items: [WorkItem['kind'], number][]): WorkItem[] {
  return items.filter(([, count]) => count > 0).map(([kind, count]) => ({ kind, count }));
}

/** Encode and write one DM message (VMBus in-band, requestid 0 as Linux sends). */
export function transmit(context: DmGuestDriverContext, bytes: Uint8Array): number {
  return context.parts.endpoint.send(bytes, 0n);
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
export function freshContext(parts: DriverParts, profile: ResolvedGuestProfile): DmGuestDriverContext {
  const p = profile;
  return {
    parts,
    profile: p,
    hotAdd: new HotAddRegions(p.memoryBlockPages),
    transId: 0,
    dmState: 'Initializing',
    connection: {
      versionAttempt: 0,
      protocolVersion: null,
      hostCaps: null,
      failure: null,
      maxDynamicPageCount: null,
      initializedAt: null,
    },
    status: { delayCallsLeft: p.pressureReportDelay, lastSentAt: null, reportsSent: 0, wakeups: 0 },
    work: {
      queue: [],
      balloonUp: null,
      hotAddRequest: null,
      // Linux: hot-add is off in hibernation-enabled VMs (hot_add_enabled()).
      hotAddEnabled: !p.hibernation,
      onlineCompleted: false,
      job: null,
      blockAdd: null,
    },
    receive: { unballoon: null, job: null, read: null },
    jobSeq: 0,
    stats: initialStats(),
    malice:
      p.malicious === null
        ? null
        : { seed: p.malicious.seed, timed: timedSchedule(p.malicious.plan), timedIndex: 0, earlierReported: null },
  };
}

/** Virtual ms from now until the next timed misbehaviour. */
export function nextMaliceDelay(context: DmGuestDriverContext): number {
  const m = context.malice;
  const entry = m?.timed[m.timedIndex];
  const initializedAt = context.connection.initializedAt;
  if (entry === undefined || initializedAt === null) return 0;
  return Math.max(0, initializedAt + entry.atMs - context.parts.outbox.now());
}

/** Linux work-item semantics: a newer request of the same kind overwrites the queued one in place. */
export function upsert(queue: readonly WorkRequest[], request: WorkRequest): WorkRequest[] {
  const i = queue.findIndex((q) => q.kind === request.kind);
  if (i < 0) return [...queue, request];
  const out = queue.slice();
  out[i] = request;
  return out;
}

/** The misbehaviours of the balloon response about to be built (malicious profile). */
export function currentCorruption(context: DmGuestDriverContext): ResponseMisbehaviour[] {
  if (context.profile.malicious === null) return [];
  return misbehavioursForResponse(context.profile.malicious.plan, context.stats.balloonResponses + 1);
}

/** The two emitted events of one misbehaviour: the event itself and its kernel-log line. */
export function misbehaviourEvents(context: DmGuestDriverContext, kind: MisbehaviourKind, text: string): DmGuestDriverEmitted[] {
  const timeMs = context.parts.outbox.now();
  return [
    { type: 'misbehaviour', kind, text, timeMs },
    { type: 'log', level: 'warn', text: `malicious guest: ${text}`, timeMs },
  ];
}

/** An assign that counts `n` misbehaviours (applied in order after any earlier assign). */
export function countMisbehaviours(n: number): (args: { context: DmGuestDriverContext }) => Partial<DmGuestDriverContext> {
  return ({ context }) => ({ stats: { ...context.stats, misbehaviours: context.stats.misbehaviours + n } });
}

export function messageTypeId(m: DmMessage): number {
  return DM_MESSAGE_TYPE_IDS[m.type];
}
