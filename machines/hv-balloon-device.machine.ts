/**
 * QEMU's hv-balloon device (hw/hyperv/hv-balloon.c): the host side of the Hyper-V Dynamic Memory
 * protocol as an XState statechart. docs/host-device.md explains it in our words;
 * docs/divergences.md lists where we differ on purpose.
 *
 * States. The 16 leaf states carry QEMU's names (QEMU's S_NO_CHANGE pseudo-state is "no
 * transition"). They are grouped: `receiving` holds every state in which QEMU reads packets, and
 * inside it `init`, `balloon`, `unballoon` and `hotAdd` group the flows. One extra node,
 * `balloon.transactionEnd`, is a transient choice state: the end of a balloon transaction goes to
 * S_BALLOON_RB_WAIT or S_IDLE depending on balloon_diff AFTER the response's pages were recorded,
 * which a guard evaluated before the actions cannot know.
 *
 * Event loop. QEMU runs one loop (hv_balloon_event_loop) on every notification, target change,
 * open, close, timer and reset: run the current state's handler, then receive packets one at a time
 * until one changes the state, then repeat while anything changed or anything was consumed. Here
 * every step of that loop is an event the device sends itself, i.e. its own macrostep
 * (machines/hv-balloon-device/event-loop.ts): `loop.run-handler` is handled only by the eight
 * states that have a QEMU handler (S_IDLE, *_RB_WAIT, *_POSTING, S_HOT_ADD_SETUP), and every
 * inbound packet becomes ONE event (DM_VERSION_REQUEST, ..., DM_UNKNOWN) handled by the state the
 * device is in at that moment. So packets are received in exactly the states QEMU receives them
 * in (including right after a handler moved the state, before the new state's handler runs), and
 * handlers run between packets exactly when QEMU runs them. Every state has an entry action that
 * records QEMU's state in `context.state`; the loop compares it to detect "the state changed".
 *
 * Model and effects. Small values live in context (assigned, JSON-clean); the four page-range trees,
 * the endpoint, the memory view and the loop bookkeeping live in `context.model`, which is mutated
 * in place and never copied. Effects (ring writes, host discards, memslot mapping) run inside
 * enqueueActions, when the step is resolved, so their outcome (a failed send, a warning) is
 * counted and emitted in the same step. The loop driver's self-sends are plain custom actions.
 */
import { enqueueActions, setup } from 'xstate';
import {
  BALLOON_CHUNK_PAGES,
  DYNMEM_PROTOCOL_VERSION_WIN10,
  DYNMEM_PROTOCOL_VERSION_WIN7,
  HOT_ADD_CHUNK_PAGES,
  MAX_START_PAGE,
  PAGE_SIZE,
  POST_INIT_WAIT_MS,
} from '../protocol/constants';
import { encode } from '../protocol/codec';
import { versionValue, type DmCaps, type DmMessage, type PageRange } from '../protocol/messages';
import { memdevWindow, memslotLimitOf, type HvBalloonDeviceConfig } from './hv-balloon-device/config';
import {
  enterLoop,
  newLoopBookkeeping,
  stateEntered,
  stepDone,
  type LoopBookkeeping,
  type LoopEvent,
  type LoopSend,
} from './hv-balloon-device/event-loop';
import {
  hotAddAlignPages,
  hotAddChunkMax,
  newOurRange,
  planMemslots,
  plannedHotAddCount,
  remainingStart,
  slotName,
  slotRange,
  slotsToMap,
  type MemslotPlan,
  type OurRangeState,
} from './hv-balloon-device/our-range';
import { DeviceOutput, type HvBalloonEmitted } from './hv-balloon-device/output';
import type { DmPacketEvent, DmUnknownPacket } from './hv-balloon-device/packets';
import { lowerBalloonDiff, recordRemovedRanges, RemovedPageTrees } from './hv-balloon-device/removed-pages';
import type { HvBalloonStateName } from './hv-balloon-device/states';
import { planForTarget, ramTotalPages, type TargetPlan } from './hv-balloon-device/target';
import {
  countWarnings,
  emptyWarningCounters,
  MIN_MESSAGE_SIZE,
  sendResultForMessage,
  warnings,
  type WarningCounters,
} from './hv-balloon-device/warnings';
import type { HostMemoryView } from './memory-views';
import type { Outbox } from './outbox';
import type { PartInbox } from './part-events';
import type { RingPacket } from './vmbus-ring';

export type { HvBalloonDeviceConfig } from './hv-balloon-device/config';
export type { HvBalloonEmitted } from './hv-balloon-device/output';
export type { DmPacketEvent } from './hv-balloon-device/packets';
export type { HvBalloonStateName } from './hv-balloon-device/states';

/** The host end of the DM channel, as the device uses it (machines/vmbus-ring.ts ChannelEndpoint fits). */
export interface DeviceEndpoint {
  readonly isOpen: boolean;
  hasRoomFor(payloadBytes: number): boolean;
  reserve(payloadBytes: number): boolean;
  send(payload: Uint8Array, transactionId: bigint): number;
  receive(): RingPacket | undefined;
  receiveDone(): number;
}

export interface HvBalloonDeviceInput {
  endpoint: DeviceEndpoint;
  memory: HostMemoryView;
  outbox: Outbox;
  /** Validate it first with validateDeviceConfig (QEMU refuses to realize a bad configuration). */
  config: HvBalloonDeviceConfig;
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

const NO_CAPS: DmCaps = { balloon: false, hotAdd: false, hotAddAlignment: 0, hotRemove: false };

/** Bytes of the messages the host sends (QEMU reserves ring room for them before posting). */
const BALLOON_REQUEST_BYTES = 16;
const UNBALLOON_REQUEST_BYTES = 24;
const HOT_ADD_REQUEST_BYTES = 24;

// ---- pure helpers the guards and actions share -------------------------------------------------

function ramTotal(context: HvBalloonContext): number {
  const m = context.model.memory;
  return ramTotalPages(m.bootRamPages, m.pcDimmPages, context.ourRange?.added ?? 0);
}

function targetPlan(context: HvBalloonContext): TargetPlan {
  return planForTarget({
    target: context.target,
    ramTotal: ramTotal(context),
    removedGuestCtr: context.removedGuestCtr,
    removedBothCtr: context.removedBothCtr,
    canBalloon: context.caps.balloon,
    canHotAdd: context.caps.hotAdd,
  });
}

/** The hot-add range as it is, or as hv_balloon_our_range_ensure would create it. */
function ourRangeOrNew(context: HvBalloonContext): OurRangeState | undefined {
  const window = context.model.window;
  return context.ourRange ?? (window ? newOurRange(window) : undefined);
}

function alignPages(context: HvBalloonContext): number {
  return hotAddAlignPages(context.caps.hotAddAlignment);
}

function clampedHotAddCount(context: HvBalloonContext, pageCount: number): number {
  return Math.min(pageCount, context.haCurrentCount);
}

/** Writes a host->guest message; returns QEMU's send result (bytes > 0, or <= 0 on failure). */
function sendMessage(model: HvBalloonModel, message: DmMessage): number {
  return model.endpoint.send(encode(message), BigInt(message.transId));
}

/** QEMU hv_balloon_send_packet: reserve, then send; a failed reserve drops the reply silently. */
function replyToGuest(model: HvBalloonModel, message: DmMessage, bytes: number): void {
  if (model.endpoint.reserve(bytes)) sendMessage(model, message);
}

function capsWord(caps: DmCaps): number {
  return (caps.balloon ? 1 : 0) | (caps.hotAdd ? 2 : 0) | (caps.hotAddAlignment << 2) | (caps.hotRemove ? 64 : 0);
}

/** The packet event of a message type QEMU handles, or undefined. */
function handledPacket(event: HvBalloonEvent): Exclude<DmPacketEvent, DmUnknownPacket> | undefined {
  switch (event.type) {
    case 'DM_VERSION_REQUEST':
    case 'DM_CAPABILITIES_REPORT':
    case 'DM_STATUS_REPORT':
    case 'DM_BALLOON_RESPONSE':
    case 'DM_UNBALLOON_RESPONSE':
    case 'DM_MEM_HOT_ADD_RESPONSE':
      return event;
    default:
      return undefined;
  }
}

/** The loop driver sends its steps to the device itself. */
function loopSend(self: { send(event: HvBalloonEvent): void }): LoopSend {
  return (event) => self.send(event);
}

/** Apply one step's outcome: the context patch, the warning counters, then the emitted events in order. */
interface Enqueue {
  assign(patch: Partial<HvBalloonContext>): void;
  emit(event: HvBalloonEmitted): void;
}
function commit(enqueue: Enqueue, context: HvBalloonContext, out: DeviceOutput, patch: Partial<HvBalloonContext> = {}): void {
  const counters = countWarnings(context.counters, out.warnings);
  if (counters !== context.counters || Object.keys(patch).length > 0) enqueue.assign({ ...patch, counters });
  for (const e of out.emitted) enqueue.emit(e);
}

/** The last action of every loop-step branch that stays in its state (event-loop.ts). */
const done = 'loopStepDone' as const;

// ---- the machine --------------------------------------------------------------------------------

export const hvBalloonDeviceMachine = setup({
  types: {
    input: {} as HvBalloonDeviceInput,
    context: {} as HvBalloonContext,
    events: {} as HvBalloonEvent,
    emitted: {} as HvBalloonEmitted,
  },
  delays: {
    // QEMU HV_BALLOON_POST_INIT_WAIT on QEMU_CLOCK_VIRTUAL
    postInitWait: POST_INIT_WAIT_MS,
  },
  guards: {
    targetPagesPositive: ({ event }) => event.type === 'device.set-target' && event.targetPages > 0,
    // QEMU hv_balloon_handle_msg_size: msglen below sizeof the message
    packetTooShort: ({ event }) => {
      const p = handledPacket(event);
      return p !== undefined && (p.msglen < MIN_MESSAGE_SIZE[p.type] || (p.type !== 'DM_BALLOON_RESPONSE' && !p.message));
    },
    // QEMU: version accepted when 0x3 <= version <= 0x20000, compared as plain u32s
    versionAccepted: ({ event }) => {
      if (event.type !== 'DM_VERSION_REQUEST' || !event.message) return false;
      const v = versionValue(event.message.version);
      return v >= DYNMEM_PROTOCOL_VERSION_WIN7 && v <= DYNMEM_PROTOCOL_VERSION_WIN10;
    },
    statusReportsOff: ({ context }) => !context.config.statusReport,
    targetChanged: ({ context }) => context.targetChanged,
    targetPlanIs: ({ context }, params: { kind: TargetPlan['kind'] }) =>
      context.targetChanged && targetPlan(context).kind === params.kind,
    ringHasRoom: ({ context }, params: { bytes: number }) => context.model.endpoint.hasRoomFor(params.bytes),
    balloonRangeCountMismatch: ({ event }) =>
      event.type === 'DM_BALLOON_RESPONSE' && (event.msglen < 16 + 8 * event.rangeCount || !event.message),
    balloonResponseEmpty: ({ event }) => event.type === 'DM_BALLOON_RESPONSE' && event.rangeCount === 0,
    balloonResponseHasMore: ({ event }) => event.type === 'DM_BALLOON_RESPONSE' && event.morePages,
    balloonDiffLeft: ({ context }) => context.balloonDiff > 0,
    nothingBallooned: ({ context }) => context.model.trees.unballoonSource(context.ourRange !== undefined) === undefined,
    // QEMU decides the next state before sending: more_pages = what is left after this range
    unballoonMoreAfterThis: ({ context }) => {
      const source = context.model.trees.unballoonSource(context.ourRange !== undefined);
      if (!source) return false;
      const highest = source.tree.last();
      const popped = Math.min(highest?.pageCount ?? 0, context.unballoonDiff, HOT_ADD_CHUNK_PAGES);
      return context.unballoonDiff - popped > 0;
    },
    hotAddDiffLeft: ({ context }) => context.hotAddDiff > 0,
    noMemdev: ({ context }) => context.model.window === undefined,
    // QEMU hv_balloon_our_range_ensure: earlier reports inside the future window refuse the range
    ourRangeClash: ({ context }) =>
      context.ourRange === undefined && context.model.window !== undefined && context.model.trees.globalIntersects(context.model.window),
    hotAddStartUnaligned: ({ context }) => {
      const range = ourRangeOrNew(context);
      return range !== undefined && remainingStart(range) % alignPages(context) !== 0;
    },
    hotAddCountZero: ({ context }) => {
      const range = ourRangeOrNew(context);
      return range === undefined || plannedHotAddCount(range, context.hotAddDiff, alignPages(context)) === 0;
    },
    ourRangeGone: ({ context }) => context.ourRange === undefined,
    hotAddResponseContinues: ({ context, event }) => {
      if (event.type !== 'DM_MEM_HOT_ADD_RESPONSE' || !event.message) return false;
      const { result, pageCount } = event.message;
      if (result === 0 || pageCount < context.haCurrentCount) return false;
      return context.hotAddRange.pageCount - clampedHotAddCount(context, pageCount) > 0;
    },
    hotAddResponseShortfall: ({ context, event }) =>
      event.type === 'DM_MEM_HOT_ADD_RESPONSE' &&
      event.message !== undefined &&
      (event.message.result === 0 || event.message.pageCount < context.haCurrentCount),
  },
  actions: {
    // ---- bookkeeping ----
    enterState: enqueueActions(({ context, enqueue }, params: { name: HvBalloonStateName }) => {
      if (context.state === params.name) return;
      enqueue.assign({ state: params.name });
      // QEMU trace hv_balloon_state_change("-> %s")
      enqueue.emit({ type: 'trace', name: 'hv_balloon_state_change', args: { to: params.name } });
    }),
    // The second entry action of every state: the step (or loop entry) that moved the state is over.
    loopStateEntered: ({ context, event, self }, params: { name: HvBalloonStateName }) =>
      stateEntered(context.model.loop, params.name, event, context.model.endpoint, loopSend(self)),
    // A loop step that stays in its state ends here (the last action of every such branch).
    loopStepDone: ({ context, event, self }) => stepDone(context.model.loop, context.state, event, context.model.endpoint, loopSend(self)),
    // Loop entry points: a transition that stays starts the loop at once; one that moves the
    // state starts it when the new state is entered.
    startLoop: ({ context, self }) => enterLoop(context.model.loop, context.state, context.model.endpoint, loopSend(self)),
    startLoopOnEntry: ({ context }) => {
      context.model.loop.startOnEntry = true;
    },

    // ---- lifecycle (QEMU open_channel / close_channel / vmdev_reset / reset hook / to_target) ----
    acceptOpen: ({ context }) => context.model.outbox.post('channel', { type: 'channel.open-accepted' }),
    refuseOpen: enqueueActions(({ context, enqueue }) => {
      const out = new DeviceOutput();
      const w = warnings.openInvalidState(context.state);
      out.warn(w);
      context.model.outbox.post('channel', { type: 'channel.open-refused', reason: w.text });
      commit(enqueue, context, out);
    }),
    forgetStatusReport: enqueueActions(({ context, enqueue }) => {
      // QEMU close_channel: "Don't report stale data"
      enqueue.assign({ statusReport: { ...context.statusReport, received: false } });
    }),
    vmdevReset: enqueueActions(({ context, enqueue }) => {
      context.model.trees.clearAll();
      enqueue.assign({ transId: 0, removedGuestCtr: 0, removedBothCtr: 0 });
    }),
    freeOurRange: enqueueActions(({ context, enqueue }) => {
      const { model } = context;
      const range = context.ourRange;
      if (!range || !model.window || !model.memslotPlan) return;
      const out = new DeviceOutput();
      for (let idx = 0; idx < range.mappedSlots; idx++) {
        out.trace('hv_balloon_unmap_slot', { idx, total: model.memslotPlan.count, offset: idx * model.memslotPlan.slotPages * PAGE_SIZE });
      }
      model.memory.releaseDeviceMemory(model.window);
      // The range's trees go with it. QEMU leaves the grand totals to the vmdev_reset of the same
      // system reset; we lower them now so the counters always equal the trees (docs/divergences.md).
      const guest = model.trees.peek('ourGuest').totalPages;
      const both = model.trees.peek('ourBoth').totalPages;
      model.trees.clearOurs();
      commit(enqueue, context, out, {
        ourRange: undefined,
        removedGuestCtr: context.removedGuestCtr - guest,
        removedBothCtr: context.removedBothCtr - both,
      });
    }),
    setTarget: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'device.set-target') return;
      // QEMU: always set target_changed, even for an unchanged target ("try again").
      enqueue.assign({ target: event.targetPages, targetChanged: true });
    }),

    // ---- negotiation ----
    replyToVersion: enqueueActions(({ context, event, enqueue }, params: { accepted: boolean }) => {
      if (event.type !== 'DM_VERSION_REQUEST' || !event.message) return;
      const out = new DeviceOutput();
      out.trace('hv_balloon_incoming_version', { major: event.message.version.major, minor: event.message.version.minor });
      replyToGuest(context.model, { type: 'DM_VERSION_RESPONSE', transId: event.message.transId, isAccepted: params.accepted }, 16);
      commit(enqueue, context, out);
    }),
    acceptCaps: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DM_CAPABILITIES_REPORT' || !event.message) return;
      const out = new DeviceOutput();
      out.trace('hv_balloon_incoming_caps', { caps: capsWord(event.message.caps) });
      replyToGuest(
        context.model,
        {
          type: 'DM_CAPABILITIES_RESPONSE',
          transId: event.message.transId,
          isAccepted: true,
          hotRemove: true,
          suppressPressureReports: !context.config.statusReport,
        },
        16,
      );
      commit(enqueue, context, out, { caps: { ...event.message.caps } });
    }),
    warnTooShort: enqueueActions(({ context, event, enqueue }) => {
      const p = handledPacket(event);
      if (!p) return;
      const out = new DeviceOutput();
      out.warn(warnings.messageTooShort(p.type, p.msglen, MIN_MESSAGE_SIZE[p.type]));
      commit(enqueue, context, out);
    }),
    warnUnexpected: enqueueActions(({ context, event, enqueue }) => {
      if (
        event.type !== 'DM_VERSION_REQUEST' &&
        event.type !== 'DM_CAPABILITIES_REPORT' &&
        event.type !== 'DM_BALLOON_RESPONSE' &&
        event.type !== 'DM_UNBALLOON_RESPONSE' &&
        event.type !== 'DM_MEM_HOT_ADD_RESPONSE'
      ) {
        return;
      }
      const out = new DeviceOutput();
      out.warn(warnings.unexpected(event.type, context.state));
      commit(enqueue, context, out);
    }),
    warnUnknown: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DM_UNKNOWN') return;
      const out = new DeviceOutput();
      out.warn(warnings.unknownMessage(event.header.typeId));
      commit(enqueue, context, out);
    }),
    recordStatusReport: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DM_STATUS_REPORT' || !event.message) return;
      // QEMU stores num_committed * 4096 and num_avail * 4096 in u64 bytes and prints them exactly
      // (hv_balloon_handle_status_report, qapi HvBalloonInfo).
      const bytes = (pages: bigint): QmpU64 => {
        const b = BigInt.asUintN(64, pages * BigInt(PAGE_SIZE));
        return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
      };
      const committed = bytes(event.message.numCommitted);
      const available = bytes(event.message.numAvail);
      const out = new DeviceOutput();
      out.statusReport(committed, available);
      commit(enqueue, context, out, { statusReport: { received: true, committed, available } });
    }),

    // ---- IDLE: act on a new target ----
    latchTarget: enqueueActions(({ context, enqueue }) => {
      const plan = targetPlan(context);
      const patch: Partial<HvBalloonContext> = { targetChanged: false };
      if (plan.kind === 'balloon') patch.balloonDiff = plan.balloonDiff;
      if (plan.kind === 'unballoon' || plan.kind === 'hotAdd' || plan.kind === 'growNothing') {
        patch.unballoonDiff = plan.unballoonDiff;
        patch.hotAddDiff = plan.hotAddDiff;
      }
      enqueue.assign(patch);
    }),

    // ---- ring space (QEMU vmbus_channel_reserve; on failure the guest signals when room is freed) ----
    reserveRing: enqueueActions(({ context }, params: { bytes: number }) => {
      context.model.endpoint.reserve(params.bytes);
    }),

    // ---- balloon ----
    postBalloonRequest: enqueueActions(({ context, enqueue }) => {
      const numPages = Math.min(context.balloonDiff, BALLOON_CHUNK_PAGES);
      const out = new DeviceOutput();
      out.trace('hv_balloon_outgoing_balloon', { transId: context.transId, count: numPages, remaining: context.balloonDiff });
      const result = sendMessage(context.model, { type: 'DM_BALLOON_REQUEST', transId: context.transId, numPages });
      if (result <= 0) out.warn(warnings.postingFailed('balloon', sendResultForMessage(result)));
      commit(enqueue, context, out);
    }),
    traceIncomingBalloon: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'DM_BALLOON_RESPONSE') return;
      enqueue.emit({
        type: 'trace',
        name: 'hv_balloon_incoming_balloon',
        args: { transId: event.header.transId, rangeCount: event.rangeCount, morePages: event.morePages },
      });
    }),
    warnRangeCount: enqueueActions(({ context, enqueue }) => {
      const out = new DeviceOutput();
      out.warn(warnings.balloonResponseRangeCount());
      commit(enqueue, context, out);
    }),
    // QEMU: range_count == 0 means the guest is at its minimum: end everything, whatever more_pages says
    endBalloonAtMinimum: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ balloonDiff: 0, transId: (context.transId + 1) >>> 0 });
    }),
    recordBalloonRanges: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DM_BALLOON_RESPONSE' || !event.message) return;
      const { model } = context;
      const out = new DeviceOutput();
      const recorded = recordRemovedRanges(event.message.ranges, {
        trees: model.trees,
        memory: model.memory,
        ourWindow: context.ourRange ? model.window : undefined,
        out,
      });
      const balloonDiff = lowerBalloonDiff(context.balloonDiff, recorded.guest + recorded.both, out);
      commit(enqueue, context, out, {
        balloonDiff,
        removedGuestCtr: context.removedGuestCtr + recorded.guest,
        removedBothCtr: context.removedBothCtr + recorded.both,
      });
    }),
    incrementTransId: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ transId: (context.transId + 1) >>> 0 });
    }),

    // ---- unballoon ----
    reportNothingBallooned: enqueueActions(({ context, enqueue }) => {
      const out = new DeviceOutput();
      out.warn(warnings.nothingBallooned());
      commit(enqueue, context, out);
    }),
    postUnballoonRequest: enqueueActions(({ context, enqueue }) => {
      const source = context.model.trees.unballoonSource(context.ourRange !== undefined);
      // QEMU asserts unballoon_diff > 0 here; the flows only enter this state with pages to return.
      const range = context.unballoonDiff > 0 ? source?.tree.pop(Math.min(context.unballoonDiff, HOT_ADD_CHUNK_PAGES)) : undefined;
      if (!source || !range) return;
      // Host memory is not touched: discarded pages fault back in on access (QEMU: "TODO: madvise?").
      const unballoonDiff = context.unballoonDiff - range.pageCount;
      const out = new DeviceOutput();
      out.trace('hv_balloon_outgoing_unballoon', {
        transId: context.transId,
        count: range.pageCount,
        start: range.startPage,
        remaining: unballoonDiff,
      });
      // QEMU dm_mem_page_range: start_page is a 40-bit bit-field, so a range a guest reported past
      // 2^40 pages goes out with its start truncated modulo 2^40 (the count, <= 524288, fits).
      const wireRange: PageRange = { startPage: range.startPage % (MAX_START_PAGE + 1), pageCount: range.pageCount };
      const result = sendMessage(context.model, {
        type: 'DM_UNBALLOON_REQUEST',
        transId: context.transId,
        morePages: unballoonDiff > 0,
        ranges: [wireRange],
      });
      if (result <= 0) out.warn(warnings.postingFailed('unballoon', sendResultForMessage(result)));
      commit(enqueue, context, out, {
        unballoonDiff,
        ...(source.bucket === 'guest'
          ? { removedGuestCtr: context.removedGuestCtr - range.pageCount }
          : { removedBothCtr: context.removedBothCtr - range.pageCount }),
      });
    }),
    traceIncomingUnballoon: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'DM_UNBALLOON_RESPONSE') return;
      enqueue.emit({ type: 'trace', name: 'hv_balloon_incoming_unballoon', args: { transId: event.header.transId } });
    }),

    // ---- hot-add ----
    reportBackendReturned: enqueueActions(({ context, enqueue }) => {
      const out = new DeviceOutput();
      out.warn(warnings.backendAlreadyReturned());
      commit(enqueue, context, out);
    }),
    ensureOurRange: enqueueActions(({ context, enqueue }) => {
      if (context.ourRange || !context.model.window) return;
      const ourRange = newOurRange(context.model.window);
      context.model.trees.clearOurs();
      const out = new DeviceOutput();
      out.trace('hv_balloon_our_range_add', { count: ourRange.pageCount, start: ourRange.startPage });
      commit(enqueue, context, out, { ourRange });
    }),
    reportHotAddUnaligned: enqueueActions(({ context, enqueue }) => {
      const range = ourRangeOrNew(context);
      if (!range) return;
      const out = new DeviceOutput();
      out.warn(warnings.hotAddStartUnaligned(remainingStart(range), alignPages(context)));
      commit(enqueue, context, out);
    }),
    // QEMU hv_balloon_hot_add_setup: plan the range, map the memslots for all of it before sending
    planHotAdd: enqueueActions(({ context, enqueue }) => {
      const range = context.ourRange;
      const { model } = context;
      if (!range || !model.memslotPlan) return;
      const count = plannedHotAddCount(range, context.hotAddDiff, alignPages(context));
      const out = new DeviceOutput();
      const toMap = slotsToMap(model.memslotPlan, range, count);
      for (const idx of toMap) {
        out.trace('hv_balloon_map_slot', { idx, total: model.memslotPlan.count, offset: idx * model.memslotPlan.slotPages * PAGE_SIZE });
        model.memory.mapDeviceMemory(slotRange(model.memslotPlan, range, idx), slotName(idx));
      }
      commit(enqueue, context, out, {
        hotAddRange: { startPage: remainingStart(range), pageCount: count },
        ourRange: { ...range, mappedSlots: range.mappedSlots + toMap.length },
      });
    }),
    postHotAddRequest: enqueueActions(({ context, enqueue }) => {
      const current = Math.min(context.hotAddRange.pageCount, hotAddChunkMax(alignPages(context)));
      const region: PageRange = { startPage: context.hotAddRange.startPage, pageCount: current };
      const out = new DeviceOutput();
      out.trace('hv_balloon_outgoing_hot_add', { transId: context.transId, count: current, start: region.startPage });
      // QEMU always sends the 24-byte form with region = range.
      const result = sendMessage(context.model, {
        type: 'DM_MEM_HOT_ADD_REQUEST',
        transId: context.transId,
        range: region,
        region: { ...region },
      });
      if (result <= 0) out.warn(warnings.postingFailed('hot add', sendResultForMessage(result)));
      commit(enqueue, context, out, { haCurrentCount: current });
    }),
    recordHotAddResponse: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DM_MEM_HOT_ADD_RESPONSE' || !event.message) return;
      const { result, pageCount } = event.message;
      const out = new DeviceOutput();
      out.trace('hv_balloon_incoming_hot_add', { transId: event.message.transId, result, count: pageCount });
      const patch: Partial<HvBalloonContext> = { transId: (context.transId + 1) >>> 0 };
      let range = context.ourRange;
      let accepted = pageCount;
      if (range && result !== 0) {
        if (pageCount > context.haCurrentCount) {
          out.warn(warnings.hotAddCountHigher(pageCount, context.haCurrentCount));
          accepted = context.haCurrentCount;
        }
        range = { ...range, added: range.added + accepted };
        patch.hotAddRange = {
          startPage: context.hotAddRange.startPage + accepted,
          pageCount: context.hotAddRange.pageCount - accepted,
        };
      }
      // QEMU: a failed or partial answer makes the rest of the range unusable until system reset.
      if (range && (result === 0 || accepted < context.haCurrentCount)) {
        range = { ...range, unusableTail: range.pageCount - range.added };
      }
      if (range) patch.ourRange = range;
      commit(enqueue, context, out, patch);
    }),
  },
}).createMachine({
  id: 'hvBalloon',
  context: ({ input }) => {
    const memdev = input.config.memdev;
    const window = memdev ? memdevWindow(memdev) : undefined;
    return {
      model: {
        endpoint: input.endpoint,
        memory: input.memory,
        outbox: input.outbox,
        trees: new RemovedPageTrees(),
        window,
        memslotPlan: memdev && window ? planMemslots(window.pageCount, memslotLimitOf(memdev)) : undefined,
        loop: newLoopBookkeeping(),
      },
      config: input.config,
      state: 'S_WAIT_RESET',
      caps: { ...NO_CAPS },
      target: 0,
      targetChanged: false,
      balloonDiff: 0,
      unballoonDiff: 0,
      hotAddDiff: 0,
      hotAddRange: { startPage: 0, pageCount: 0 },
      haCurrentCount: 0,
      transId: 0,
      removedGuestCtr: 0,
      removedBothCtr: 0,
      ourRange: undefined,
      statusReport: { received: false, committed: 0, available: 0 },
      counters: emptyWarningCounters(),
    };
  },
  // QEMU realize: the device starts in S_WAIT_RESET (the VM resets it at power-on).
  initial: 'S_WAIT_RESET',
  on: {
    'device.notify': { actions: 'startLoop' },
    'device.set-target': [{ guard: 'targetPagesPositive', actions: ['setTarget', 'startLoop'] }, {}],
    'device.open-request': { actions: 'refuseOpen' },
    'device.close-channel': { target: '#S_WAIT_RESET', actions: ['forgetStatusReport', 'startLoopOnEntry'] },
    'device.reset': { target: '#S_POST_RESET_CLOSED', actions: ['vmdevReset', 'startLoopOnEntry'] },
    'system.reset': { actions: 'freeOurRange' },
  },
  states: {
    S_WAIT_RESET: {
      id: 'S_WAIT_RESET',
      entry: [{ type: 'enterState', params: { name: 'S_WAIT_RESET' } }, { type: 'loopStateEntered', params: { name: 'S_WAIT_RESET' } }],
      on: {
        // Already here: QEMU's state_set sees no change.
        'device.close-channel': { actions: ['forgetStatusReport', 'startLoop'] },
      },
    },
    S_POST_RESET_CLOSED: {
      id: 'S_POST_RESET_CLOSED',
      entry: [{ type: 'enterState', params: { name: 'S_POST_RESET_CLOSED' } }, { type: 'loopStateEntered', params: { name: 'S_POST_RESET_CLOSED' } }],
      on: {
        // QEMU vmdev_reset does nothing when the device is already reset.
        'device.reset': {},
        'device.open-request': { target: '#S_VERSION', actions: ['acceptOpen', 'startLoopOnEntry'] },
      },
    },
    receiving: {
      initial: 'init',
      // Packets that reach a state which does not expect them (QEMU: warn, ignore, no reply).
      on: {
        DM_VERSION_REQUEST: { actions: ['warnUnexpected', done] },
        DM_CAPABILITIES_REPORT: { actions: ['warnUnexpected', done] },
        DM_BALLOON_RESPONSE: { actions: ['warnUnexpected', done] },
        DM_UNBALLOON_RESPONSE: { actions: ['warnUnexpected', done] },
        DM_MEM_HOT_ADD_RESPONSE: { actions: ['warnUnexpected', done] },
        // QEMU: status reports are taken in every receiving state and never change it.
        DM_STATUS_REPORT: [
          { guard: 'packetTooShort', actions: ['warnTooShort', done] },
          { guard: 'statusReportsOff', actions: done },
          { actions: ['recordStatusReport', done] },
        ],
        DM_UNKNOWN: { actions: ['warnUnknown', done] },
      },
      states: {
        init: {
          initial: 'S_VERSION',
          states: {
            S_VERSION: {
              id: 'S_VERSION',
              entry: [{ type: 'enterState', params: { name: 'S_VERSION' } }, { type: 'loopStateEntered', params: { name: 'S_VERSION' } }],
              on: {
                DM_VERSION_REQUEST: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'versionAccepted', target: 'S_CAPS', actions: { type: 'replyToVersion', params: { accepted: true } } },
                  // Rejected: stay, the guest may try another version.
                  { actions: [{ type: 'replyToVersion', params: { accepted: false } }, done] },
                ],
              },
            },
            S_CAPS: {
              id: 'S_CAPS',
              entry: [{ type: 'enterState', params: { name: 'S_CAPS' } }, { type: 'loopStateEntered', params: { name: 'S_CAPS' } }],
              on: {
                DM_CAPABILITIES_REPORT: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { target: 'S_POST_INIT_WAIT', actions: 'acceptCaps' },
                ],
              },
            },
            S_POST_INIT_WAIT: {
              id: 'S_POST_INIT_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_POST_INIT_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_POST_INIT_WAIT' } }],
              // QEMU: Windows crashes on DM requests right after boot; wait 50 s of virtual time.
              after: { postInitWait: { target: '#S_IDLE', actions: 'startLoopOnEntry' } },
            },
          },
        },
        S_IDLE: {
          id: 'S_IDLE',
          entry: [{ type: 'enterState', params: { name: 'S_IDLE' } }, { type: 'loopStateEntered', params: { name: 'S_IDLE' } }],
          on: {
            // QEMU hv_balloon_idle_state: only a changed target does anything; unballoon before hot-add.
            'loop.run-handler': [
              { guard: { type: 'targetPlanIs', params: { kind: 'unballoon' } }, target: '#S_UNBALLOON_RB_WAIT', actions: 'latchTarget' },
              { guard: { type: 'targetPlanIs', params: { kind: 'hotAdd' } }, target: '#S_HOT_ADD_SETUP', actions: 'latchTarget' },
              { guard: { type: 'targetPlanIs', params: { kind: 'balloon' } }, target: '#S_BALLOON_RB_WAIT', actions: 'latchTarget' },
              { guard: 'targetChanged', actions: ['latchTarget', done] },
              { actions: done },
            ],
          },
        },
        balloon: {
          initial: 'S_BALLOON_RB_WAIT',
          states: {
            S_BALLOON_RB_WAIT: {
              id: 'S_BALLOON_RB_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_BALLOON_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: BALLOON_REQUEST_BYTES } },
                    target: 'S_BALLOON_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: BALLOON_REQUEST_BYTES } },
                  },
                  // Full: the failed reserve records pending_send_sz; the guest's signal retries.
                  { actions: [{ type: 'reserveRing', params: { bytes: BALLOON_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_BALLOON_POSTING: {
              id: 'S_BALLOON_POSTING',
              entry: [{ type: 'enterState', params: { name: 'S_BALLOON_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_POSTING' } }],
              on: { 'loop.run-handler': { target: 'S_BALLOON_REPLY_WAIT', actions: 'postBalloonRequest' } },
            },
            S_BALLOON_REPLY_WAIT: {
              id: 'S_BALLOON_REPLY_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_BALLOON_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_BALLOON_REPLY_WAIT' } }],
              on: {
                DM_BALLOON_RESPONSE: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  // QEMU traces the response, then drops it whole if range_count does not fit msglen.
                  { guard: 'balloonRangeCountMismatch', actions: ['traceIncomingBalloon', 'warnRangeCount', done] },
                  { guard: 'balloonResponseEmpty', target: '#S_IDLE', actions: ['traceIncomingBalloon', 'endBalloonAtMinimum'] },
                  { guard: 'balloonResponseHasMore', actions: ['traceIncomingBalloon', 'recordBalloonRanges', done] },
                  {
                    target: 'transactionEnd',
                    actions: ['traceIncomingBalloon', 'recordBalloonRanges', 'incrementTransId'],
                  },
                ],
              },
            },
            // Transient choice (not a QEMU state): balloon_diff is known only after the pages were recorded.
            transactionEnd: {
              always: [{ guard: 'balloonDiffLeft', target: 'S_BALLOON_RB_WAIT' }, { target: '#S_IDLE' }],
            },
          },
        },
        unballoon: {
          initial: 'S_UNBALLOON_RB_WAIT',
          states: {
            S_UNBALLOON_RB_WAIT: {
              id: 'S_UNBALLOON_RB_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_UNBALLOON_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: UNBALLOON_REQUEST_BYTES } },
                    target: 'S_UNBALLOON_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: UNBALLOON_REQUEST_BYTES } },
                  },
                  { actions: [{ type: 'reserveRing', params: { bytes: UNBALLOON_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_UNBALLOON_POSTING: {
              id: 'S_UNBALLOON_POSTING',
              entry: [{ type: 'enterState', params: { name: 'S_UNBALLOON_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_POSTING' } }],
              on: {
                'loop.run-handler': [
                  // QEMU stays here (until a reset): a partial request may already be out.
                  { guard: 'nothingBallooned', actions: ['reportNothingBallooned', done] },
                  { guard: 'unballoonMoreAfterThis', target: 'S_UNBALLOON_RB_WAIT', actions: 'postUnballoonRequest' },
                  { target: 'S_UNBALLOON_REPLY_WAIT', actions: 'postUnballoonRequest' },
                ],
              },
            },
            S_UNBALLOON_REPLY_WAIT: {
              id: 'S_UNBALLOON_REPLY_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_UNBALLOON_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_UNBALLOON_REPLY_WAIT' } }],
              on: {
                DM_UNBALLOON_RESPONSE: [
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'hotAddDiffLeft', target: '#S_HOT_ADD_SETUP', actions: ['traceIncomingUnballoon', 'incrementTransId'] },
                  { target: '#S_IDLE', actions: ['traceIncomingUnballoon', 'incrementTransId'] },
                ],
              },
            },
          },
        },
        hotAdd: {
          initial: 'S_HOT_ADD_SETUP',
          states: {
            S_HOT_ADD_SETUP: {
              id: 'S_HOT_ADD_SETUP',
              entry: [{ type: 'enterState', params: { name: 'S_HOT_ADD_SETUP' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_SETUP' } }],
              on: {
                'loop.run-handler': [
                  { guard: 'noMemdev', target: '#S_IDLE' },
                  { guard: 'ourRangeClash', target: '#S_IDLE', actions: 'reportBackendReturned' },
                  { guard: 'hotAddStartUnaligned', target: '#S_IDLE', actions: ['ensureOurRange', 'reportHotAddUnaligned'] },
                  { guard: 'hotAddCountZero', target: '#S_IDLE', actions: 'ensureOurRange' },
                  { target: 'S_HOT_ADD_RB_WAIT', actions: ['ensureOurRange', 'planHotAdd'] },
                ],
              },
            },
            S_HOT_ADD_RB_WAIT: {
              id: 'S_HOT_ADD_RB_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_HOT_ADD_RB_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_RB_WAIT' } }],
              on: {
                'loop.run-handler': [
                  {
                    guard: { type: 'ringHasRoom', params: { bytes: HOT_ADD_REQUEST_BYTES } },
                    target: 'S_HOT_ADD_POSTING',
                    actions: { type: 'reserveRing', params: { bytes: HOT_ADD_REQUEST_BYTES } },
                  },
                  { actions: [{ type: 'reserveRing', params: { bytes: HOT_ADD_REQUEST_BYTES } }, done] },
                ],
              },
            },
            S_HOT_ADD_POSTING: {
              id: 'S_HOT_ADD_POSTING',
              entry: [{ type: 'enterState', params: { name: 'S_HOT_ADD_POSTING' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_POSTING' } }],
              on: { 'loop.run-handler': { target: 'S_HOT_ADD_REPLY_WAIT', actions: 'postHotAddRequest' } },
            },
            S_HOT_ADD_REPLY_WAIT: {
              id: 'S_HOT_ADD_REPLY_WAIT',
              entry: [{ type: 'enterState', params: { name: 'S_HOT_ADD_REPLY_WAIT' } }, { type: 'loopStateEntered', params: { name: 'S_HOT_ADD_REPLY_WAIT' } }],
              on: {
                DM_MEM_HOT_ADD_RESPONSE: [
                  // QEMU asserts the range exists; only a system reset mid-operation can remove it here.
                  { guard: 'ourRangeGone', target: '#S_IDLE', actions: 'incrementTransId' },
                  { guard: 'packetTooShort', actions: ['warnTooShort', done] },
                  { guard: 'hotAddResponseShortfall', target: '#S_IDLE', actions: 'recordHotAddResponse' },
                  { guard: 'hotAddResponseContinues', target: 'S_HOT_ADD_RB_WAIT', actions: 'recordHotAddResponse' },
                  { target: '#S_IDLE', actions: 'recordHotAddResponse' },
                ],
              },
            },
          },
        },
      },
    },
  },
});

export type HvBalloonDeviceMachine = typeof hvBalloonDeviceMachine;
