/** The status thread's actions (Linux dm_thread_func, post_status). */
import { encode } from '../../protocol/codec';
import { balloonFloorPages } from './balloon-floor';
import { nextTransId, transmit } from './driver-context';
import { driverSetup } from './driver-setup';
import type { StatusState } from './driver-types';
import { decidePostStatus, linuxStatusReport, windowsStatusReport } from './status-report';

type PostStatusArgs = Parameters<Parameters<typeof driverSetup.enqueueActions>[0]>[0];

/**
 * Linux post_status. `status` is the thread's state to start from (the context's, or with the
 * wake-ups consumed): it is written in the same assign as the report's bookkeeping, so a woken
 * thread costs one context update.
 */
function postStatusFrom({ context, enqueue }: Pick<PostStatusArgs, 'context' | 'enqueue'>, status: StatusState): void {
  const now = context.parts.outbox.now();
  const decision = decidePostStatus(status, now);
  if (decision.kind === 'delayed') {
    enqueue.assign({ status: { ...status, delayCallsLeft: decision.delayCallsLeft } });
    return;
  }
  if (decision.kind === 'rate-limited') {
    if (status !== context.status) enqueue.assign({ status });
    return;
  }
  const transId = nextTransId(context.transId);
  const mem = context.parts.memory;
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
          context.parts.seed,
          status.reportsSent,
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
    status: { ...status, lastSentAt: now, reportsSent: status.reportsSent + 1 },
  });
  enqueue(function sendDmStatusReport() {
    transmit(context, bytes); // Linux: send errors are ignored, no retry
  });
}

export const statusActions = {
  // Linux dm_thread_func: reinit_completion(&config_event) after the wait, so completions that
  // piled up while the thread slept wake it once, not once each.
  consumeStatusWakeups: driverSetup.assign(({ context }) => ({ status: { ...context.status, wakeups: 0 } })),
  postStatus: driverSetup.enqueueActions((args) => postStatusFrom(args, args.context.status)),
  /** The thread woken by completions (an unballoon's ranges): consume them and post_status, in one assign. */
  wakeStatusThread: driverSetup.enqueueActions((args) => {
    if (args.context.status.wakeups === 0) return;
    postStatusFrom(args, { ...args.context.status, wakeups: 0 });
  }),
};
