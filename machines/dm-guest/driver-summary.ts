/** The driver's state as a JSON-safe summary, for queries (query-balloon, counters) and reports. */
import { balloonFloorPages } from './balloon-floor';
import { versionText } from './driver-context';
import type { DmDriverState, DmGuestDriverContext, DriverFailure, DriverStats, WorkRequest } from './driver-types';
import type { ResolvedGuestProfile } from './profiles';

/** A JSON-safe summary of the driver for queries and reports. */
export interface DmGuestDriverSummary {
  profile: ResolvedGuestProfile['name'];
  dmState: DmDriverState;
  protocolVersion: string | null;
  failure: DriverFailure | null;
  transId: number;
  maxDynamicPageCount: number | null;
  balloonedPages: number;
  floorPages: number;
  hotAdd: { enabled: boolean; regions: number; addedPages: number; onlinedPages: number; onlineBlocks: number };
  status: { reportsSent: number; delayCallsLeft: number; lastSentAt: number | null };
  queue: WorkRequest['kind'][];
  stats: DriverStats;
}

export function summarizeGuestDriver(context: DmGuestDriverContext): DmGuestDriverSummary {
  return {
    profile: context.profile.name,
    dmState: context.dmState,
    protocolVersion: context.connection.protocolVersion === null ? null : versionText(context.connection.protocolVersion),
    failure: context.connection.failure,
    transId: context.transId,
    maxDynamicPageCount: context.connection.maxDynamicPageCount,
    balloonedPages: context.parts.memory.balloonedPages(),
    floorPages: balloonFloorPages(context.parts.memory.managedPages()),
    hotAdd: {
      enabled: context.work.hotAddEnabled,
      regions: context.hotAdd.regions.length,
      addedPages: context.hotAdd.addedPages,
      onlinedPages: context.hotAdd.onlinedPages,
      onlineBlocks: context.hotAdd.onlineBlockCount,
    },
    status: {
      reportsSent: context.status.reportsSent,
      delayCallsLeft: context.status.delayCallsLeft,
      lastSentAt: context.status.lastSentAt,
    },
    queue: context.work.queue.map((q) => q.kind),
    stats: context.stats,
  };
}
