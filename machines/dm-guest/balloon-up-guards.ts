/**
 * Balloon up's one-step guards. A message's `job.done` normally sends it, records it, posts
 * status, allocates the next one and charges it (or ends the transaction) in one step. XState
 * picks a step's target before its actions run, so these guards decide beforehand, without side
 * effects, what `sending` and `allocating` would decide afterwards: the send goes out (not
 * `ringFull`, not `sendFailed`) and the next round gets units of the current size (not
 * `nothingIn2MiBUnits`). Where they cannot tell, the step goes to `sending` and the transaction
 * goes on step by step, the same messages in the same order (docs/architecture.md, "Performance
 * design: the guest side").
 */
import { sumPages, UNIT_2M } from './driver-context';
import type { BalloonUpProgress, DmGuestDriverContext, DmGuestDriverEvent } from './driver-types';

type GuardArgs = { context: DmGuestDriverContext; event: DmGuestDriverEvent };

/** PROTO struct dm_balloon_response: a 16-byte header (hdr, reservedz, more_pages + range_count), 8 bytes per range. */
function balloonResponseBytes(b: BalloonUpProgress): number {
  const ranges = b.unitRuns ? sumPages(b.wire) / b.unitPages : b.wire.length;
  return 16 + 8 * ranges;
}

/**
 * This job is the message's charge, and its send will be written: no malicious copies go out
 * first (those take `sending`), and the ring has room (`send` writes exactly when it has; the
 * guest never reserves ring space).
 */
function chargedResponseGoesOut({ context, event }: GuardArgs): boolean {
  const b = context.work.balloonUp;
  return (
    event.type === 'job.done' &&
    event.tag === context.work.job &&
    b !== null &&
    b.corruption.length === 0 &&
    context.parts.endpoint.hasRoomFor(balloonResponseBytes(b))
  );
}

/**
 * After this message the next round of `allocating` gets at least one unit of the current size,
 * so it will not switch to 4 KiB units. The malicious profile's room depends on the next
 * message's fakes: it goes step by step.
 */
function nextRoundGetsUnits(context: DmGuestDriverContext, b: BalloonUpProgress): boolean {
  if (context.profile.malicious !== null) return false;
  if (context.profile.balloonAllocation !== 'units' || b.unitPages !== UNIT_2M) return true;
  const remaining = b.target - b.sent - sumPages(b.ranges);
  return remaining >= b.unitPages && context.parts.memory.hasBalloonUnit?.(b.unitPages) === true;
}

export const balloonUpGuards = {
  /** The message goes out and more follow: send it and allocate and charge the next, in one step. */
  sendsAndAllocatesNext: (args: GuardArgs) => {
    const b = args.context.work.balloonUp;
    return b !== null && !b.last && chargedResponseGoesOut(args) && nextRoundGetsUnits(args.context, b);
  },
  /** The last message (more_pages = 0) goes out: send it and end the transaction, in one step. */
  sendsLastMessage: (args: GuardArgs) => args.context.work.balloonUp?.last === true && chargedResponseGoesOut(args),
};
