/**
 * What the device's transitions do (the bodies of its enqueueActions, in QEMU's order: effects on
 * the ring and the host memory, then the context patch and the emitted warnings and trace points).
 * machines/hv-balloon-device.machine.ts names them in its chart; the guards use the helpers.
 */
import { BALLOON_CHUNK_PAGES, HOT_ADD_CHUNK_PAGES, MAX_START_PAGE, PAGE_SIZE } from '../../protocol/constants';
import { encode } from '../../protocol/codec';
import type { DmCaps, DmMessage, PageRange } from '../../protocol/messages';
import type { HvBalloonContext, HvBalloonEvent, HvBalloonModel, QmpU64 } from './context';
import {
  hotAddAlignPages,
  hotAddChunkMax,
  newOurRange,
  plannedHotAddCount,
  remainingStart,
  slotName,
  slotRange,
  slotsToMap,
  type OurRangeState,
} from './our-range';
import { DeviceOutput, type HvBalloonEmitted } from './output';
import type { DmBalloonResponsePacket, DmPacketEvent, DmUnknownPacket } from './packets';
import { lowerBalloonDiff, recordRemovedRanges } from './removed-pages';
import { planForTarget, ramTotalPages, type TargetPlan } from './target';
import { countWarnings, MIN_MESSAGE_SIZE, sendResultForMessage, warnings } from './warnings';
import type { RangeList } from '../../protocol/range-list';

// ---- pure helpers the guards and actions share -------------------------------------------------

function ramTotal(context: HvBalloonContext): number {
  const m = context.model.memory;
  return ramTotalPages(m.bootRamPages, m.pcDimmPages, context.ourRange?.added ?? 0);
}

export function targetPlan(context: HvBalloonContext): TargetPlan {
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
export function ourRangeOrNew(context: HvBalloonContext): OurRangeState | undefined {
  const window = context.model.window;
  return context.ourRange ?? (window ? newOurRange(window) : undefined);
}

export function alignPages(context: HvBalloonContext): number {
  return hotAddAlignPages(context.caps.hotAddAlignment);
}

export function clampedHotAddCount(context: HvBalloonContext, pageCount: number): number {
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
export function handledPacket(event: HvBalloonEvent): Exclude<DmPacketEvent, DmUnknownPacket> | undefined {
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

/** What a step needs of XState's enqueue. */
export interface Enqueue {
  assign(patch: Partial<HvBalloonContext>): void;
  emit(event: HvBalloonEmitted): void;
}

/** Apply one step's outcome: the context patch, the warning counters, then the emitted events in order. */
function commit(enqueue: Enqueue, context: HvBalloonContext, out: DeviceOutput, patch: Partial<HvBalloonContext> = {}): void {
  const counters = countWarnings(context.counters, out.warnings);
  if (counters !== context.counters || Object.keys(patch).length > 0) enqueue.assign({ ...patch, counters });
  for (const e of out.emitted) enqueue.emit(e);
}

/** The arguments XState passes an enqueueActions body, as the steps use them. */
export interface StepArgs {
  context: HvBalloonContext;
  event: HvBalloonEvent;
  enqueue: Enqueue;
}

// ---- lifecycle (QEMU open_channel / close_channel / vmdev_reset / reset hook / to_target) ----
export function refuseOpen({ context, enqueue }: StepArgs): void {
  const out = new DeviceOutput();
  const w = warnings.openInvalidState(context.state);
  out.warn(w);
  context.model.outbox.post('channel', { type: 'channel.open-refused', reason: w.text });
  commit(enqueue, context, out);
}

export function forgetStatusReport({ context, enqueue }: StepArgs): void {
  // QEMU close_channel: "Don't report stale data"
  enqueue.assign({ statusReport: { ...context.statusReport, received: false } });
}

export function vmdevReset({ context, enqueue }: StepArgs): void {
  context.model.trees.clearAll();
  enqueue.assign({ transId: 0, removedGuestCtr: 0, removedBothCtr: 0 });
}

export function freeOurRange({ context, enqueue }: StepArgs): void {
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
}

export function setTarget({ event, enqueue }: StepArgs): void {
  if (event.type !== 'device.set-target') return;
  // QEMU: always set target_changed, even for an unchanged target ("try again").
  enqueue.assign({ target: event.targetPages, targetChanged: true });
}

// ---- negotiation ----
export function replyToVersion({ context, event, enqueue }: StepArgs, params: { accepted: boolean }): void {
  if (event.type !== 'DM_VERSION_REQUEST' || !event.message) return;
  const out = new DeviceOutput();
  out.trace('hv_balloon_incoming_version', { major: event.message.version.major, minor: event.message.version.minor });
  replyToGuest(context.model, { type: 'DM_VERSION_RESPONSE', transId: event.message.transId, isAccepted: params.accepted }, 16);
  commit(enqueue, context, out);
}

export function acceptCaps({ context, event, enqueue }: StepArgs): void {
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
}

export function warnTooShort({ context, event, enqueue }: StepArgs): void {
  const p = handledPacket(event);
  if (!p) return;
  const out = new DeviceOutput();
  out.warn(warnings.messageTooShort(p.type, p.msglen, MIN_MESSAGE_SIZE[p.type]));
  commit(enqueue, context, out);
}

export function warnUnexpected({ context, event, enqueue }: StepArgs): void {
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
}

export function warnUnknown({ context, event, enqueue }: StepArgs): void {
  if (event.type !== 'DM_UNKNOWN') return;
  const out = new DeviceOutput();
  out.warn(warnings.unknownMessage(event.header.typeId));
  commit(enqueue, context, out);
}

export function recordStatusReport({ context, event, enqueue }: StepArgs): void {
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
}

// ---- IDLE: act on a new target ----
export function latchTarget({ context, enqueue }: StepArgs): void {
  const plan = targetPlan(context);
  const patch: Partial<HvBalloonContext> = { targetChanged: false };
  if (plan.kind === 'balloon') patch.balloonDiff = plan.balloonDiff;
  if (plan.kind === 'unballoon' || plan.kind === 'hotAdd' || plan.kind === 'growNothing') {
    patch.unballoonDiff = plan.unballoonDiff;
    patch.hotAddDiff = plan.hotAddDiff;
  }
  enqueue.assign(patch);
}

// ---- ring space (QEMU vmbus_channel_reserve; on failure the guest signals when room is freed) ----
export function reserveRing(context: HvBalloonContext, params: { bytes: number }): void {
  context.model.endpoint.reserve(params.bytes);
}

// ---- balloon ----
export function postBalloonRequest({ context, enqueue }: StepArgs): void {
  const numPages = Math.min(context.balloonDiff, BALLOON_CHUNK_PAGES);
  const out = new DeviceOutput();
  out.trace('hv_balloon_outgoing_balloon', { transId: context.transId, count: numPages, remaining: context.balloonDiff });
  const result = sendMessage(context.model, { type: 'DM_BALLOON_REQUEST', transId: context.transId, numPages });
  if (result <= 0) out.warn(warnings.postingFailed('balloon', sendResultForMessage(result)));
  commit(enqueue, context, out);
}

export function traceIncomingBalloon({ event, enqueue }: StepArgs): void {
  if (event.type !== 'DM_BALLOON_RESPONSE') return;
  const out = new DeviceOutput();
  incomingBalloonTrace(event, out);
  for (const e of out.emitted) enqueue.emit(e);
}

function incomingBalloonTrace(event: DmBalloonResponsePacket, out: DeviceOutput): void {
  out.trace('hv_balloon_incoming_balloon', { transId: event.header.transId, rangeCount: event.rangeCount, morePages: event.morePages });
}

/** The pages a response's ranges name, overlaps counted twice (an upper bound of what recording it adds). */
export function pagesNamed(ranges: readonly PageRange[] | RangeList): number {
  let pages = 0;
  if (Array.isArray(ranges)) for (const r of ranges as readonly PageRange[]) pages += r.pageCount;
  else for (let i = 0, n = (ranges as RangeList).length; i < n; i++) pages += (ranges as RangeList).pageCount(i);
  return pages;
}

export function warnRangeCount({ context, enqueue }: StepArgs): void {
  const out = new DeviceOutput();
  out.warn(warnings.balloonResponseRangeCount());
  commit(enqueue, context, out);
}

// QEMU: range_count == 0 means the guest is at its minimum: end everything, whatever more_pages says
export function endBalloonAtMinimum({ context, enqueue }: StepArgs): void {
  enqueue.assign({ balloonDiff: 0, transId: (context.transId + 1) >>> 0 });
}

/**
 * A well-formed balloon response with ranges (QEMU hv_balloon_handle_balloon_response): trace it,
 * record its ranges; the last response of a request (more_pages = 0) also ends the transaction
 * (trans_id + 1). One context update and the trace points in QEMU's order.
 */
export function recordBalloonResponse({ context, event, enqueue }: StepArgs, params: { endsTransaction: boolean }): void {
  if (event.type !== 'DM_BALLOON_RESPONSE') return;
  // Read in place from the payload when the event came from the ring (no object per range).
  const ranges = event.wireRanges ?? event.message?.ranges;
  const out = new DeviceOutput();
  incomingBalloonTrace(event, out);
  const patch: Partial<HvBalloonContext> = params.endsTransaction ? { transId: (context.transId + 1) >>> 0 } : {};
  if (ranges) {
    const { model } = context;
    const recorded = recordRemovedRanges(ranges, {
      trees: model.trees,
      memory: model.memory,
      ourWindow: context.ourRange ? model.window : undefined,
      out,
    });
    patch.balloonDiff = lowerBalloonDiff(context.balloonDiff, recorded.guest + recorded.both, out);
    patch.removedGuestCtr = context.removedGuestCtr + recorded.guest;
    patch.removedBothCtr = context.removedBothCtr + recorded.both;
  }
  commit(enqueue, context, out, patch);
}

export function incrementTransId({ context, enqueue }: StepArgs): void {
  enqueue.assign({ transId: (context.transId + 1) >>> 0 });
}

// ---- unballoon ----
export function reportNothingBallooned({ context, enqueue }: StepArgs): void {
  const out = new DeviceOutput();
  out.warn(warnings.nothingBallooned());
  commit(enqueue, context, out);
}

export function postUnballoonRequest({ context, enqueue }: StepArgs): void {
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
}

export function traceIncomingUnballoon({ event, enqueue }: StepArgs): void {
  if (event.type !== 'DM_UNBALLOON_RESPONSE') return;
  enqueue.emit({ type: 'trace', name: 'hv_balloon_incoming_unballoon', args: { transId: event.header.transId } });
}

// ---- hot-add ----
export function reportBackendReturned({ context, enqueue }: StepArgs): void {
  const out = new DeviceOutput();
  out.warn(warnings.backendAlreadyReturned());
  commit(enqueue, context, out);
}

export function ensureOurRange({ context, enqueue }: StepArgs): void {
  if (context.ourRange || !context.model.window) return;
  const ourRange = newOurRange(context.model.window);
  context.model.trees.clearOurs();
  const out = new DeviceOutput();
  out.trace('hv_balloon_our_range_add', { count: ourRange.pageCount, start: ourRange.startPage });
  commit(enqueue, context, out, { ourRange });
}

export function reportHotAddUnaligned({ context, enqueue }: StepArgs): void {
  const range = ourRangeOrNew(context);
  if (!range) return;
  const out = new DeviceOutput();
  out.warn(warnings.hotAddStartUnaligned(remainingStart(range), alignPages(context)));
  commit(enqueue, context, out);
}

// QEMU hv_balloon_hot_add_setup: plan the range, map the memslots for all of it before sending
export function planHotAdd({ context, enqueue }: StepArgs): void {
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
}

export function postHotAddRequest({ context, enqueue }: StepArgs): void {
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
}

export function recordHotAddResponse({ context, event, enqueue }: StepArgs): void {
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
}

