/**
 * Balloon down (Linux hv_balloon.c balloon_down, run in the channel callback): an unballoon request
 * read from the ring is charged to the vCPU; when that job is done its ranges go back to the free
 * lists, the status thread is woken once per range, and the last part of the request is answered.
 *
 * Two actions, one context update each: XState builds a new snapshot (the whole state value of
 * this 35-node chart) for every `assign`, so a step that patches the context once costs a third
 * of one that patches it three times (docs/architecture.md, "Performance design: the give-back").
 */
import { encode } from '../../protocol/codec';
import { nextTransId, sumPages, transmit, work } from './driver-context';
import { driverSetup } from './driver-setup';

export const balloonDownActions = {
  /**
   * An unballoon request was read (draining's dispatch): count it, take its ranges and post the
   * vCPU job that frees them. Linux trusts the host's ranges completely.
   */
  beginBalloonDown: driverSetup.enqueueActions(({ context, enqueue }) => {
    const read = context.receive.read;
    const m = read?.kind === 'packet' ? read.message : null;
    if (m?.type !== 'DM_UNBALLOON_REQUEST') return;
    const ranges = m.ranges.map((r) => ({ ...r }));
    const tag = `guest-job-${context.jobSeq + 1}`;
    enqueue.assign({
      receive: { ...context.receive, unballoon: { ranges, morePages: m.morePages }, job: tag },
      dmState: 'Balloon Down',
      jobSeq: context.jobSeq + 1,
      stats: {
        ...context.stats,
        messagesReceived: context.stats.messagesReceived + 1,
        unballoonRequests: context.stats.unballoonRequests + 1,
      },
    });
    const items = work([
      ['messageHandled', 1],
      ['rangeFreed', ranges.length],
      ['pageFreed', sumPages(ranges)],
      ['messageSent', m.morePages ? 0 : 1],
    ]);
    enqueue(function postUnballoonJob() {
      context.parts.outbox.post('vcpu', { type: 'vcpu.run', job: { owner: 'guest', tag, work: items } });
    });
  }),

  /**
   * The vCPU job is done: free the ranges, wake the status thread (Linux completes config_event once
   * per range) and, for the request with more_pages = 0, send the one 8-byte DM_UNBALLOON_RESPONSE.
   */
  finishBalloonDown: driverSetup.enqueueActions(({ context, enqueue, self }) => {
    const u = context.receive.unballoon;
    if (u === null) return;
    enqueue(function releaseUnballoonRanges() {
      for (const r of u.ranges) {
        const released = context.parts.memory.releaseBalloonRange(r);
        // The simulator reports what did not fit (Linux would free pages it does not own).
        if (released < r.pageCount) {
          self.send({
            type: 'guest.log',
            level: 'warn',
            text: `unballoon range 0x${r.startPage.toString(16)}+${r.pageCount}: only ${released} of its pages were ballooned`,
          });
        }
      }
    });
    const receive = { ...context.receive, unballoon: null, job: null };
    const status = { ...context.status, wakeups: context.status.wakeups + u.ranges.length };
    const stats = { ...context.stats, pagesUnballooned: context.stats.pagesUnballooned + sumPages(u.ranges) };
    if (u.morePages) {
      enqueue.assign({ receive, status, stats });
      return;
    }
    const transId = nextTransId(context.transId);
    const bytes = encode({ type: 'DM_UNBALLOON_RESPONSE', transId });
    enqueue.assign({ receive, status, stats, transId, dmState: 'Initialized' });
    enqueue(function sendDmUnballoonResponse() {
      transmit(context, bytes); // Linux ignores send errors here
    });
  }),
};
