/** The status thread's actions (Linux dm_thread_func, post_status). */
import { encode } from '../../protocol/codec';
import { balloonFloorPages } from './balloon-floor';
import { nextTransId, transmit } from './driver-context';
import { driverSetup } from './driver-setup';
import { decidePostStatus, linuxStatusReport, windowsStatusReport } from './status-report';

export const statusActions = {
  // Linux dm_thread_func: reinit_completion(&config_event) after the wait, so completions that
  // piled up while the thread slept wake it once, not once each.
  consumeStatusWakeups: driverSetup.assign(({ context }) => ({ status: { ...context.status, wakeups: 0 } })),
  postStatus: driverSetup.enqueueActions(({ context, enqueue }) => {
    const now = context.parts.outbox.now();
    const decision = decidePostStatus(context.status, now);
    if (decision.kind === 'delayed') {
      enqueue.assign({ status: { ...context.status, delayCallsLeft: decision.delayCallsLeft } });
      return;
    }
    if (decision.kind === 'rate-limited') return;
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
};
