/** Balloon up (Linux balloon_up, run by the balloon work item): allocate, charge, send, repeat. */
import { encodeBalloonResponseUnits } from '../../protocol/balloon-response-units';
import { encode } from '../../protocol/codec';
import { MAX_RANGES_PER_MESSAGE } from '../../protocol/constants';
import type { DmBalloonResponse, PageRange } from '../../protocol/messages';
import { balloonFloorPages, clampToFloor, clampToReserve, partialFulfilmentText, type ClampedRequest } from './balloon-floor';
import {
  countMisbehaviours,
  currentCorruption,
  line,
  misbehaviourEvents,
  nextTransId,
  sumPages,
  transmit,
  UNIT_2M,
  upsert,
  work,
} from './driver-context';
import { driverSetup } from './driver-setup';
import type { BalloonUpProgress, DmGuestDriverContext } from './driver-types';
import { corruptedCopies, corruptRanges, injectedRangeCount, withTransId } from './malicious-plan';

/** What noting a balloon request changes (Linux balloon_onchannelcallback: the work item is scheduled). */
export function balloonRequestQueued(context: DmGuestDriverContext, numPages: number): Pick<DmGuestDriverContext, 'dmState' | 'work' | 'stats'> {
  return {
    dmState: 'Balloon Up',
    work: { ...context.work, queue: upsert(context.work.queue, { kind: 'balloon', numPages }) },
    stats: { ...context.stats, balloonRequests: context.stats.balloonRequests + 1 },
  };
}

/** The request's target, clamped once (Linux: the floor from managed pages; Windows: its reserve). */
export function clampBalloonRequest(context: DmGuestDriverContext, numPages: number): ClampedRequest {
  const mem = context.parts.memory;
  const available = mem.availablePages();
  return context.profile.balloonAllocation === 'contiguous'
    ? clampToReserve(numPages, available, context.profile.reservePages)
    : clampToFloor(numPages, available, balloonFloorPages(mem.managedPages()));
}

/**
 * A new transaction for a request of `numPages`: its progress, clamped once, and the log line of a
 * partial fulfilment (or null).
 */
export function newBalloonUp(context: DmGuestDriverContext, numPages: number): { progress: BalloonUpProgress; partialText: string | null } {
  const clamp = clampBalloonRequest(context, numPages);
  return {
    partialText: clamp.partial === null ? null : partialFulfilmentText(clamp.partial),
    progress: {
      requested: numPages,
      target: clamp.pages,
      sent: 0,
      unitPages: UNIT_2M,
      ranges: [],
      unitCount: 0,
      unitRuns: false,
      wire: [],
      last: false,
      messages: 0,
      attempts: 0,
      corruption: [],
      sendResult: 0,
      transId: context.transId,
    },
  };
}

/**
 * Allocate the pages of one message into the transaction's progress `b` (in place); `allocating`
 * decides on what it got.
 */
export function allocateMessage(context: DmGuestDriverContext, b: BalloonUpProgress): void {
  const remaining = b.target - b.sent;
  // Fake ranges the malicious profile will add must fit in the same 4096-byte message.
  const room = MAX_RANGES_PER_MESSAGE - injectedRangeCount(currentCorruption(context));
  const mem = context.parts.memory;
  if (context.profile.balloonAllocation === 'contiguous') {
    b.ranges = remaining > 0 ? mem.allocateBalloonContiguous(remaining, room) : [];
    b.unitCount = b.ranges.length;
    b.unitRuns = false;
    return;
  }
  const units = Math.min(Math.floor(remaining / b.unitPages), room);
  // The units as runs, where the memory can give them so and no malicious copy needs the list.
  b.unitRuns = context.malice === null && mem.allocateBalloonUnitRuns !== undefined;
  b.ranges = units <= 0 ? [] : b.unitRuns ? mem.allocateBalloonUnitRuns!(b.unitPages, units) : mem.allocateBalloonUnits(b.unitPages, units);
  b.unitCount = b.unitRuns ? sumPages(b.ranges) / b.unitPages : b.ranges.length;
}

/** The message's bytes with trans_id `transId` (more_pages unless it is the last). */
export function encodeBalloonMessage(b: BalloonUpProgress, transId: number): Uint8Array {
  return b.unitRuns
    ? encodeBalloonResponseUnits(transId, !b.last, b.wire, b.unitPages)
    : encode({ type: 'DM_BALLOON_RESPONSE', transId, morePages: !b.last, ranges: b.wire } satisfies DmBalloonResponse);
}

/** What recording a sent message changes in context (besides its trans_id), and its real pages. */
export function recordedMessage(context: DmGuestDriverContext, b: BalloonUpProgress): Pick<DmGuestDriverContext, 'malice' | 'stats'> & { got: number } {
  const got = sumPages(b.ranges);
  const malice =
    context.malice !== null && context.malice.earlierReported === null && b.wire.length > 0
      ? { ...context.malice, earlierReported: { ...b.wire[0]! } }
      : context.malice;
  return {
    got,
    malice,
    stats: { ...context.stats, balloonResponses: context.stats.balloonResponses + 1, pagesReported: context.stats.pagesReported + got },
  };
}

/** The transaction's progress after a message of `got` pages went out: ready for the next. */
export function advanceMessage(b: BalloonUpProgress, got: number): void {
  b.sent += got;
  b.messages++;
  b.ranges = [];
  b.unitCount = 0;
  b.wire = [];
  b.corruption = [];
}

/** Post the vCPU job that charges the allocation of the message in `b` (tag: the job's, already counted). */
export function postChargeJob(context: DmGuestDriverContext, b: BalloonUpProgress, tag: string): void {
  const items = work([
    ['messageHandled', b.messages === 0 ? 1 : 0],
    ['rangeAllocated', b.unitCount],
    ['pageAllocated', sumPages(b.ranges)],
    ['messageSent', 1],
  ]);
  context.parts.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
}

/** prepareBalloonMessage's effect: the message goes out as `wire` (the allocation, or a corrupted copy of it). */
export function setPrepared(b: BalloonUpProgress, wire: BalloonUpProgress['wire'], corruption: BalloonUpProgress['corruption'], got: number, remaining: number): void {
  b.wire = wire;
  b.corruption = corruption;
  // Linux: the last message is the one that got nothing or exactly what was left.
  b.last = got === 0 || got === remaining;
  b.attempts = 0;
}

export const balloonUpActions = {
  // ---- the request (Linux balloon_onchannelcallback queues the work item) ----
  queueBalloonRequest: driverSetup.enqueueActions(({ context, event, enqueue }) => {
    if (event.type !== 'guest.balloon-request') return;
    if (context.dmState === 'Balloon Up') enqueue.emit(line(context, 'warn', 'Currently ballooning'));
    enqueue.assign(balloonRequestQueued(context, event.numPages));
  }),
  logIgnoreBalloonUp: driverSetup.emit(({ context }) => line(context, 'info', 'Ignore balloon-up request!')),
  logIgnoreOversizedRequest: driverSetup.emit(({ context, event }) =>
    line(
      context,
      'warn',
      `balloon request for ${event.type === 'guest.balloon-request' ? event.numPages : 0} pages is above ${context.profile.maxBalloonRequestPages} and is not honoured`,
    ),
  ),

  // ---- the transaction ----
  startBalloonUp: driverSetup.enqueueActions(({ context, enqueue }) => {
    const head = context.work.queue[0];
    if (head?.kind !== 'balloon') return;
    const { progress, partialText } = newBalloonUp(context, head.numPages);
    if (partialText !== null) enqueue.emit(line(context, 'info', partialText));
    enqueue.assign({ work: { ...context.work, queue: context.work.queue.slice(1), balloonUp: progress } });
  }),
  /**
   * Allocate the pages of one message; `allocating` decides on what it got. The transaction's
   * progress is a mutable object made by startBalloonUp (docs/architecture.md, "Performance
   * design: the guest side"): the steps of one message change it in place, without an assign.
   */
  allocateBalloonMessage: driverSetup.createAction(({ context }) => {
    const b = context.work.balloonUp;
    if (b !== null) allocateMessage(context, b);
  }),
  // An assign, not an in-place change: `allocating` re-enters itself, and XState looks for eventless
  // transitions again only after a step that made a new snapshot.
  switchTo4KiBUnits: driverSetup.assign(({ context }) => ({
    work: { ...context.work, balloonUp: context.work.balloonUp === null ? null : { ...context.work.balloonUp, unitPages: 1 } },
  })),
  prepareBalloonMessage: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    const got = sumPages(b.ranges);
    const remaining = b.target - b.sent;
    const corruption = currentCorruption(context);
    let wire = b.ranges;
    if (corruption.length > 0 && context.malice !== null) {
      const n = context.stats.balloonResponses + 1;
      const corrupted = corruptRanges(b.ranges, corruption, context.malice.earlierReported, n);
      wire = corrupted.ranges;
      for (const note of corrupted.notes) for (const e of misbehaviourEvents(context, note.kind, note.text)) enqueue.emit(e);
      enqueue.assign(countMisbehaviours(corrupted.notes.length));
    }
    enqueue(function prepareMessage() {
      setPrepared(b, wire, corruption, got, remaining);
    });
  }),
  chargeBalloonMessage: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    const tag = `guest-job-${context.jobSeq + 1}`;
    enqueue.assign({ jobSeq: context.jobSeq + 1, work: { ...context.work, job: tag } });
    enqueue(function postBalloonJob() {
      postChargeJob(context, b, tag);
    });
  }),
  /** Send the message; `sending` decides on what the ring said (kept in the transaction's progress). */
  sendBalloonResponse: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    let transId = nextTransId(context.transId);
    const bytes = encodeBalloonMessage(b, transId);
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
    // The trans_id used goes into context with the bookkeeping of whichever step leaves `sending`
    // (recordMessageSent, countRingFull, recordTransId): one assign per message, not two.
    enqueue(function sendDmBalloonResponse() {
      for (const copy of copies) transmit(context, copy);
      b.transId = transId;
      b.sendResult = transmit(context, bytes);
      b.attempts++;
    });
  }),
  countRingFull: driverSetup.assign(({ context }) => ({
    transId: context.work.balloonUp?.transId ?? context.transId,
    stats: { ...context.stats, ringFullRetries: context.stats.ringFullRetries + 1 },
  })),
  /** The trans_id of the send that failed is used up too (Linux pre-increments it). */
  recordTransId: driverSetup.assign(({ context }) => ({ transId: context.work.balloonUp?.transId ?? context.transId })),
  recordMessageSent: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    const { got, malice, stats } = recordedMessage(context, b);
    enqueue.assign({ transId: b.transId, work: { ...context.work, job: null }, malice, stats });
    enqueue(function nextMessage() {
      advanceMessage(b, got);
    });
  }),
  freeBalloonMessage: driverSetup.createAction(({ context }) => {
    // Linux: on a send error other than -EAGAIN the pages of this message go back, and the request ends.
    for (const r of context.work.balloonUp?.ranges ?? []) context.parts.memory.releaseBalloonRange(r);
  }),
  logBalloonResponseFailed: driverSetup.emit(({ context }) => line(context, 'error', 'Balloon response failed')),
  endBalloonUp: driverSetup.assign(({ context }) => ({ work: { ...context.work, balloonUp: null, job: null }, dmState: 'Initialized' as const })),
};
