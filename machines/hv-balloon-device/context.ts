/**
 * The hv-balloon device's context, input and events (machines/hv-balloon-device.machine.ts is the
 * chart). Small values live in context (assigned, JSON-clean); the trees, the endpoint, the memory
 * view and the loop bookkeeping live in `context.model`, mutated in place and never copied.
 * 17 keys: under the ~20 at which V8 turns each `assign` copy into a dictionary-mode object.
 */
import type { DmCaps, PageRange } from '../../protocol/messages';
import type { HvBalloonDeviceConfig } from './config';
import type { LoopBookkeeping, LoopEvent } from './event-loop';
import type { MemslotPlan, OurRangeState } from './our-range';
import type { DmPacketEvent } from './packets';
import type { RemovedPageTrees } from './removed-pages';
import type { HvBalloonStateName } from './states';
import type { WarningCounters } from './warnings';
import type { HostMemoryView } from '../memory-views';
import type { Outbox } from '../outbox';
import type { PartInbox } from '../part-events';
import type { RingPacket } from '../vmbus-ring';

/** The host end of the DM channel, as the device uses it (machines/vmbus-ring.ts ChannelEndpoint fits). */
export interface DeviceEndpoint {
  readonly isOpen: boolean;
  hasRoomFor(payloadBytes: number): boolean;
  reserve(payloadBytes: number): boolean;
  send(payload: Uint8Array, transactionId: bigint): number;
  receive(): RingPacket | undefined;
  receiveDone(): number;
  /**
   * Optional (ChannelEndpoint has both): reading the channel now would take and free nothing; a send
   * of `payloadBytes` now would go out and leave room to reserve `nextPayloadBytes`. An endpoint
   * without them makes the device take every loop step on its own (hv-balloon-device/event-loop.ts).
   */
  nothingToReceive?(): boolean;
  hasRoomAfterSend?(payloadBytes: number, nextPayloadBytes: number): boolean;
}

export interface HvBalloonDeviceInput {
  endpoint: DeviceEndpoint;
  memory: HostMemoryView;
  outbox: Outbox;
  /** Validate it first with validateDeviceConfig (QEMU refuses to realize a bad configuration). */
  config: HvBalloonDeviceConfig;
  /**
   * Take each of QEMU's loop steps as an XState step of its own, never two in one
   * (hv-balloon-device/event-loop.ts): the same trace and wire, with a snapshot published between
   * every two steps (e.g. to watch S_BALLOON_RB_WAIT in an inspector). Default false.
   */
  stepByStep?: boolean;
}

/** The mutable part of the device, referenced from context and never copied. */
export interface HvBalloonModel {
  readonly endpoint: DeviceEndpoint;
  readonly memory: HostMemoryView;
  readonly outbox: Outbox;
  readonly trees: RemovedPageTrees;
  /** The memdev window in pages, if the device has a memdev. */
  readonly window: PageRange | undefined;
  /** Memslot layout of the window (QEMU hv_balloon_decide_memslots), if the device has a memdev. */
  readonly memslotPlan: MemslotPlan | undefined;
  readonly loop: LoopBookkeeping;
  /** HvBalloonDeviceInput.stepByStep. */
  readonly stepByStep: boolean;
}

/**
 * A QMP u64: a number while it is exact (up to 2^53 - 1), a bigint above, so QMP prints every
 * value exactly as QEMU does.
 */
export type QmpU64 = number | bigint;

/** The last guest status report (QEMU status_report), in bytes. */
export interface StatusReportData {
  received: boolean;
  committed: QmpU64;
  available: QmpU64;
}

export interface HvBalloonContext {
  readonly model: HvBalloonModel;
  readonly config: HvBalloonDeviceConfig;
  /** QEMU's current state (mirrors the chart's leaf; used in warnings and by the event loop). */
  state: HvBalloonStateName;
  /** The guest's capabilities (QEMU stores the whole word; balloon, hot_add, hot_add_alignment matter). */
  caps: DmCaps;
  /** Balloon target in pages: the total guest size wanted. */
  target: number;
  targetChanged: boolean;
  /** Operation parameters latched when an operation starts (QEMU keeps them in a union). */
  balloonDiff: number;
  unballoonDiff: number;
  hotAddDiff: number;
  hotAddRange: PageRange;
  haCurrentCount: number;
  /** QEMU trans_id (unsigned int). */
  transId: number;
  /** Grand totals across the global and the hot-add trees of each kind. */
  removedGuestCtr: number;
  removedBothCtr: number;
  /** The hot-add range, once the first hot-add created it; freed at system reset. */
  ourRange: OurRangeState | undefined;
  statusReport: StatusReportData;
  /** Warnings printed, per kind (per-page warnings count every page). */
  counters: WarningCounters;
}

export type HvBalloonEvent = PartInbox['device'] | DmPacketEvent | LoopEvent;
