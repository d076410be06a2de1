/**
 * The usual DM_BALLOON_REQUEST: the host's interrupt finds one packet in the ring, a well-formed
 * balloon request, while the work item is idle (QEMU posts one request and waits for the whole
 * answer). Step by step that is the callback reading it in `draining`, dispatching it as a raised
 * `guest.balloon-request`, reading the empty ring and going back to `idle`, then the work item
 * starting balloonUp and allocating the first message: five XState steps. Here it is one: the
 * interrupt's step reads the request, reads the empty ring, queues and starts the request and
 * allocates, prepares and charges the first message, in that order, with one context update, and
 * the work item goes straight to `charging`.
 *
 * XState picks a step's targets before its actions run, so `loneBalloonRequest` decides
 * beforehand, without side effects (a peek), what the dispatch would decide: the packet is a
 * balloon request the driver honours, the ring is empty after it, and the first round gets 2 MiB
 * units (not `nothingIn2MiBUnits`). Anything else goes through `draining` as before
 * (docs/architecture.md, "Performance design: the guest side").
 */
import type { DmBalloonRequest } from '../../protocol/messages';
import type { ChannelEndpoint } from '../vmbus-ring';
import { allocateMessage, balloonRequestQueued, clampBalloonRequest, newBalloonUp, postChargeJob } from './balloon-up-actions';
import { prepareUncorrupted } from './balloon-up-one-step';
import { line, UNIT_2M } from './driver-context';
import { driverSetup } from './driver-setup';
import type { DmGuestDriverContext } from './driver-types';
import { peekMessageOfType, readNextPacket, takePeekedMessage } from './receive-actions';

/** The inbound ring's only packet, if it is a DM_BALLOON_REQUEST `readPacket` would read as such. */
function peekLoneBalloonRequest(endpoint: ChannelEndpoint): DmBalloonRequest | null {
  return endpoint.inbound.length === 1 ? peekMessageOfType(endpoint, 'DM_BALLOON_REQUEST') : null;
}

export const loneBalloonRequestGuards = {
  /**
   * The interrupt brings one balloon request the driver honours (not hibernating, not above the
   * profile's limit), and its first round gets 2 MiB units. The malicious profile's first round
   * depends on its fakes: it goes step by step. Used with the state guards `workIdle` (in
   * `receive`) and `receiveIdle` (in `work`).
   */
  loneBalloonRequest: ({ context }: { context: DmGuestDriverContext }) => {
    const m = peekLoneBalloonRequest(context.parts.endpoint);
    const profile = context.profile;
    if (m === null || profile.hibernation || profile.malicious !== null) return false;
    if (profile.maxBalloonRequestPages !== null && m.numPages > profile.maxBalloonRequestPages) return false;
    if (profile.balloonAllocation !== 'units') return true;
    return clampBalloonRequest(context, m.numPages).pages >= UNIT_2M && context.parts.memory.hasBalloonUnit?.(UNIT_2M) === true;
  },
};

export const loneBalloonRequestActions = {
  /**
   * draining's read, dispatch and last (empty) read, then the work item's queueBalloonRequest,
   * startBalloonUp, allocateBalloonMessage, prepareBalloonMessage and chargeBalloonMessage, in
   * that order, with one context update.
   */
  takeLoneBalloonRequest: driverSetup.enqueueActions(({ context, enqueue }) => {
    const endpoint = context.parts.endpoint;
    const m = peekLoneBalloonRequest(endpoint);
    if (m === null) return;
    enqueue(function readPacket() {
      context.receive.read = takePeekedMessage(endpoint, m);
    });
    enqueue(function readPacket() {
      // The ring is empty now: the callback is done.
      context.receive.read = readNextPacket(endpoint);
    });
    if (context.dmState === 'Balloon Up') enqueue.emit(line(context, 'warn', 'Currently ballooning'));
    const { progress: b, partialText } = newBalloonUp(context, m.numPages);
    if (partialText !== null) enqueue.emit(line(context, 'info', partialText));
    const tag = `guest-job-${context.jobSeq + 1}`;
    enqueue(function allocateAndCharge() {
      allocateMessage(context, b);
      prepareUncorrupted(b, b.target - b.sent);
      postChargeJob(context, b, tag);
    });
    // The queue is empty in `idle`: queued and taken, it stays empty.
    const queued = balloonRequestQueued(context, m.numPages);
    enqueue.assign({
      dmState: queued.dmState,
      work: { ...queued.work, queue: queued.work.queue.slice(1), balloonUp: b, job: tag },
      jobSeq: context.jobSeq + 1,
      stats: { ...queued.stats, messagesReceived: queued.stats.messagesReceived + 1 },
    });
  }),
};
