/**
 * Balloon up's one-step actions: what a message's `job.done` does when balloon-up-guards.ts can
 * tell beforehand that its send goes out. Each is the list `sending` and `allocating` would run,
 * in that order, with the same helpers (balloon-up-actions.ts, status-actions.ts), as one action
 * with one context update: XState makes a whole new snapshot (the state value of the driver's 12
 * active nodes) for every assign, so that is what a message costs (docs/architecture.md,
 * "Performance design: the guest side").
 */
import { nextTransId, sumPages, transmit } from './driver-context';
import { advanceMessage, allocateMessage, encodeBalloonMessage, postChargeJob, recordedMessage, setPrepared } from './balloon-up-actions';
import { driverSetup } from './driver-setup';
import type { BalloonUpProgress, DmGuestDriverContext } from './driver-types';
import { planStatusPost, type StatusPost } from './status-actions';

/** prepareBalloonMessage for a guest that does not corrupt its messages: the wire is the allocation. */
export function prepareUncorrupted(b: BalloonUpProgress, remaining: number): void {
  setPrepared(b, b.ranges, [], sumPages(b.ranges), remaining);
}

/** sendBalloonResponse (no malicious copies), then recordMessageSent's and postStatus' plans. */
function sendPlan(context: DmGuestDriverContext, b: BalloonUpProgress) {
  const transId = nextTransId(context.transId);
  const bytes = encodeBalloonMessage(b, transId);
  const record = recordedMessage(context, b);
  // post_status after the send: it starts from the trans_id the send used.
  const post: StatusPost | null = planStatusPost(context, context.status, transId);
  return { transId, bytes, record, post };
}

/** Send, then the status report if post_status sends one. */
function transmitBoth(context: DmGuestDriverContext, b: BalloonUpProgress, transId: number, bytes: Uint8Array, post: StatusPost | null): void {
  b.transId = transId;
  b.sendResult = transmit(context, bytes);
  b.attempts++;
  if (post?.bytes) transmit(context, post.bytes); // Linux: send errors are ignored, no retry
}

export const balloonUpOneStepActions = {
  /**
   * sendBalloonResponse, recordMessageSent, postStatus, allocateBalloonMessage,
   * prepareBalloonMessage and charging's chargeBalloonMessage, in one step (the guest does not
   * corrupt its messages: the guard leaves the malicious profile to the step-by-step path).
   */
  sendAndChargeNextMessage: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    const { transId, bytes, record, post } = sendPlan(context, b);
    const tag = `guest-job-${context.jobSeq + 1}`;
    enqueue(function sendAndChargeNext() {
      transmitBoth(context, b, transId, bytes, post);
      advanceMessage(b, record.got);
      allocateMessage(context, b);
      prepareUncorrupted(b, b.target - b.sent);
      postChargeJob(context, b, tag);
    });
    enqueue.assign({
      transId: post?.transId ?? transId,
      status: post?.status ?? context.status,
      malice: record.malice,
      stats: record.stats,
      jobSeq: context.jobSeq + 1,
      work: { ...context.work, job: tag },
    });
  }),
  /** sendBalloonResponse, recordMessageSent, postStatus and endBalloonUp of the last message, in one step. */
  sendLastMessage: driverSetup.enqueueActions(({ context, enqueue }) => {
    const b = context.work.balloonUp;
    if (b === null) return;
    const { transId, bytes, record, post } = sendPlan(context, b);
    enqueue(function sendLast() {
      transmitBoth(context, b, transId, bytes, post);
      advanceMessage(b, record.got);
    });
    enqueue.assign({
      transId: post?.transId ?? transId,
      status: post?.status ?? context.status,
      malice: record.malice,
      stats: record.stats,
      work: { ...context.work, balloonUp: null, job: null },
      dmState: 'Initialized',
    });
  }),
};
