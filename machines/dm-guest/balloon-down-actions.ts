/**
 * Balloon down (Linux hv_balloon.c balloon_down, run in the channel callback): an unballoon request
 * read from the ring is charged to the vCPU; when that job is done its ranges go back to the free
 * lists, the status thread is woken once per range, and the last part of the request is answered.
 *
 * A host gives back memory in a stream of requests (QEMU: one range of up to 2 GiB each, all in
 * the ring at once). When the job of one is done and the next packet in the ring is another
 * unballoon request, finishing the one and taking the next is a single step (`continueBalloonDown`)
 * instead of a pass through `draining`: the same reads, frees and sends in the same order, with
 * one context update. XState builds a new snapshot (the whole state value of this 35-node chart)
 * for every `assign` and every microstep, so this is what a DM message costs here
 * (docs/architecture.md, "Performance design: the give-back").
 */
import { encode } from '../../protocol/codec';
import type { DmUnballoonRequest, PageRange } from '../../protocol/messages';
import { nextTransId, sumPages, transmit, work } from './driver-context';
import { driverSetup } from './driver-setup';
import { peekMessageOfType, takePeekedMessage } from './receive-actions';
import { planStatusPost, restartStatusWait } from './status-actions';
import type { DmGuestDriverContext, DriverStats, PacketRead, ReceiveState, StatusState } from './driver-types';

/** What taking an unballoon request changes: the request, its job's tag, the counters. */
function begin(
  context: DmGuestDriverContext,
  m: DmUnballoonRequest,
  receive: ReceiveState,
  stats: DriverStats,
): Pick<DmGuestDriverContext, 'receive' | 'jobSeq' | 'stats' | 'dmState'> {
  const ranges: PageRange[] = m.ranges.map((r) => ({ ...r }));
  return {
    receive: { ...receive, unballoon: { ranges, morePages: m.morePages }, job: `guest-job-${context.jobSeq + 1}` },
    jobSeq: context.jobSeq + 1,
    dmState: 'Balloon Down',
    stats: { ...stats, messagesReceived: stats.messagesReceived + 1, unballoonRequests: stats.unballoonRequests + 1 },
  };
}

/** What finishing the request in hand changes, and the response to send when it was the last part. */
function finish(context: DmGuestDriverContext): {
  receive: ReceiveState;
  status: StatusState;
  stats: DriverStats;
  answer: { transId: number; bytes: Uint8Array } | null;
} {
  const u = context.receive.unballoon!;
  let answer = null;
  if (!u.morePages) {
    // Only the request with more_pages = 0 is answered: one 8-byte DM_UNBALLOON_RESPONSE.
    const transId = nextTransId(context.transId);
    answer = { transId, bytes: encode({ type: 'DM_UNBALLOON_RESPONSE', transId }) };
  }
  return {
    receive: { ...context.receive, unballoon: null, job: null },
    // Linux completes config_event once per range: the status thread wakes for each.
    status: { ...context.status, wakeups: context.status.wakeups + u.ranges.length },
    stats: { ...context.stats, pagesUnballooned: context.stats.pagesUnballooned + sumPages(u.ranges) },
    answer,
  };
}

type EffectArgs = { context: DmGuestDriverContext; self: { send(event: { type: 'guest.log'; level: 'warn'; text: string }): void } };

/** Free the request's ranges; the simulator reports what did not fit (Linux trusts the host and frees whatever they name). */
function releaseRanges({ context, self }: EffectArgs): void {
  for (const r of context.receive.unballoon?.ranges ?? []) {
    const released = context.parts.memory.releaseBalloonRange(r);
    if (released < r.pageCount) {
      self.send({
        type: 'guest.log',
        level: 'warn',
        text: `unballoon range 0x${r.startPage.toString(16)}+${r.pageCount}: only ${released} of its pages were ballooned`,
      });
    }
  }
}

export const balloonDownGuards = {
  /** The next packet in the ring is an unballoon request `draining` would take into balloonDown. */
  nextIsUnballoonRequest: ({ context }: { context: DmGuestDriverContext }) => peekMessageOfType(context.parts.endpoint, 'DM_UNBALLOON_REQUEST') !== null,
};

export const balloonDownActions = {
  /** An unballoon request was read (draining's dispatch): count it and take its ranges. */
  beginBalloonDown: driverSetup.enqueueActions(({ context, enqueue }) => {
    const read = context.receive.read;
    if (read?.kind !== 'packet' || read.message.type !== 'DM_UNBALLOON_REQUEST') return;
    enqueue.assign(begin(context, read.message, context.receive, context.stats));
  }),

  /** balloonDown's entry: post the vCPU job that frees the request's ranges. */
  postBalloonDownJob: driverSetup.createAction(({ context }) => {
    const u = context.receive.unballoon;
    const tag = context.receive.job;
    if (u === null || tag === null) return;
    const items = work([
      ['messageHandled', 1],
      ['rangeFreed', u.ranges.length],
      ['pageFreed', sumPages(u.ranges)],
      ['messageSent', u.morePages ? 0 : 1],
    ]);
    context.parts.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
  }),

  /** The job is done and the ring holds no further unballoon request: free, wake, answer; `draining` reads on. */
  finishBalloonDown: driverSetup.enqueueActions(({ context, enqueue, self }) => {
    if (context.receive.unballoon === null) return;
    enqueue(function releaseUnballoonRanges() {
      releaseRanges({ context, self });
    });
    const { receive, status, stats, answer } = finish(context);
    if (answer === null) {
      enqueue.assign({ receive, status, stats });
      return;
    }
    enqueue.assign({ receive, status, stats, transId: answer.transId, dmState: 'Initialized' });
    enqueue(function sendDmUnballoonResponse() {
      transmit(context, answer.bytes); // Linux ignores send errors here
    });
  }),

  /**
   * The job is done and the next packet is another unballoon request: what finishBalloonDown,
   * draining's readPacket and beginBalloonDown do one after the other, in that order, in one step,
   * and what the status thread does when the freed ranges wake it (post_status, a fresh 1 s wait).
   */
  continueBalloonDown: driverSetup.enqueueActions(({ context, enqueue, self }) => {
    const next = peekMessageOfType(context.parts.endpoint, 'DM_UNBALLOON_REQUEST');
    if (context.receive.unballoon === null || next === null) return;
    // The effects run here, in the order finishBalloonDown, readPacket and the woken status
    // thread run them, not as enqueued actions of their own: this step runs once per request of a
    // stream, and XState pays for every action it resolves.
    releaseRanges({ context, self });
    const { receive, status, stats, answer } = finish(context);
    if (answer !== null) transmit(context, answer.bytes); // Linux ignores send errors here
    const read: PacketRead = takePeekedMessage(context.parts.endpoint, next);
    const transId = answer?.transId ?? context.transId;
    // Linux: each freed range completes config_event; the thread wakes once for them all.
    const woken = { ...status, wakeups: 0 };
    const post = planStatusPost(context, woken, transId);
    if (post?.bytes) transmit(context, post.bytes); // Linux: send errors are ignored, no retry
    enqueue.assign({ ...begin(context, next, { ...receive, read }, stats), status: post?.status ?? woken, transId: post?.transId ?? transId });
    restartStatusWait(enqueue);
  }),
};
