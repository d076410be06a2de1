/**
 * The status thread's actions (Linux dm_thread_func, post_status).
 *
 * The thread waits up to 1 s for config_event, then runs post_status and waits again, a fresh 1 s.
 * Its wait is a delayed event the driver raises itself (`guest.status-period`, id STATUS_TIMER),
 * not an `after` of the `sleeping` state: a completion that wakes it early restarts the wait in
 * the step that completed it (cancel, raise again), from whichever region that step is in,
 * without a transition of the `status` region (a second transition in one microstep is XState's
 * dearest; docs/architecture.md, "Performance design: the give-back").
 */
import { cancel } from 'xstate';
import { encode } from '../../protocol/codec';
import { balloonFloorPages } from './balloon-floor';
import { nextTransId, transmit } from './driver-context';
import { driverSetup } from './driver-setup';
import type { DmGuestDriverContext, DmGuestDriverEvent, StatusState } from './driver-types';
import { decidePostStatus, linuxStatusReport, windowsStatusReport } from './status-report';

type PostStatusArgs = Parameters<Parameters<typeof driverSetup.enqueueActions>[0]>[0];

/** What one post_status call changes: the thread's state, the last trans_id, and the report it sends (or null). */
export interface StatusPost {
  status: StatusState;
  transId: number;
  bytes: Uint8Array | null;
}

/**
 * Linux post_status, planned: from the thread's state `status` and the last trans_id used
 * `transId`, what the call changes and the report it sends (encoded now, from the memory counters
 * now). Null when it changes nothing.
 */
export function planStatusPost(context: DmGuestDriverContext, status: StatusState, transId: number): StatusPost | null {
  const now = context.parts.outbox.now();
  const decision = decidePostStatus(status, now);
  if (decision.kind === 'delayed') return { status: { ...status, delayCallsLeft: decision.delayCallsLeft }, transId, bytes: null };
  if (decision.kind === 'rate-limited') return status !== context.status ? { status, transId, bytes: null } : null;
  const reportId = nextTransId(transId);
  const mem = context.parts.memory;
  const message =
    context.profile.statusFields === 'windows'
      ? windowsStatusReport(
          reportId,
          {
            availablePages: mem.availablePages(),
            committedPages: mem.committedPages(),
            balloonedPages: mem.balloonedPages(),
            freePages: mem.freePages(),
            managedPages: mem.managedPages(),
            pageFilePages: context.profile.pageFilePages,
          },
          context.parts.seed,
          status.reportsSent,
        )
      : linuxStatusReport(reportId, {
          availablePages: mem.availablePages(),
          committedPages: mem.committedPages(),
          balloonedPages: mem.balloonedPages(),
          addedPages: context.hotAdd.addedPages,
          onlinedPages: context.hotAdd.onlinedPages,
          floorPages: balloonFloorPages(mem.managedPages()),
        });
  return { status: { ...status, lastSentAt: now, reportsSent: status.reportsSent + 1 }, transId: reportId, bytes: encode(message) };
}

/**
 * Linux post_status. `status` is the thread's state to start from (the context's, or with the
 * wake-ups consumed): it is written in the same assign as the report's bookkeeping, so a woken
 * thread costs one context update.
 */
function postStatusFrom({ context, enqueue }: Pick<PostStatusArgs, 'context' | 'enqueue'>, status: StatusState): void {
  const post = planStatusPost(context, status, context.transId);
  if (post === null) return;
  const bytes = post.bytes;
  if (bytes === null) {
    enqueue.assign({ status: post.status });
    return;
  }
  enqueue.assign({ transId: post.transId, status: post.status });
  enqueue(function sendDmStatusReport() {
    transmit(context, bytes); // Linux: send errors are ignored, no retry
  });
}

/** The id of the status thread's pending wake-up (its 1 s wait). */
const STATUS_TIMER = 'statusThreadWait';

/** Start the thread's 1 s wait (again): the pending one, if any, is called off first. */
export function restartStatusWait(enqueue: PostStatusArgs['enqueue']): void {
  enqueue.cancel(STATUS_TIMER);
  enqueue.raise({ type: 'guest.status-period' }, { id: STATUS_TIMER, delay: 'statusPeriod' });
}

export const statusActions = {
  /** post_status called by the driver's work (balloon up, hot-add), not the thread: no wait restarts. */
  postStatus: driverSetup.enqueueActions((args) => postStatusFrom(args, args.context.status)),
  /** The 1 s wait ran out: post_status, wait again. */
  postStatusAndWait: driverSetup.enqueueActions((args) => {
    postStatusFrom(args, args.context.status);
    restartStatusWait(args.enqueue);
  }),
  /**
   * `sleeping`'s entry, and its wake by completions a step left unconsumed (statusWakeups): consume
   * them with one post_status if there are any, and start a fresh 1 s wait. Linux dm_thread_func:
   * reinit_completion(&config_event) after the wait, so completions that piled up while the thread
   * slept wake it once, not once each.
   */
  wakeStatusThread: driverSetup.enqueueActions((args) => {
    if (args.context.status.wakeups > 0) postStatusFrom(args, { ...args.context.status, wakeups: 0 });
    restartStatusWait(args.enqueue);
  }),
  /** Leaving `sleeping` (the driver is torn down): no wake-up is left pending. */
  stopStatusWait: cancel<DmGuestDriverContext, DmGuestDriverEvent, undefined, DmGuestDriverEvent>(STATUS_TIMER),
};
