/**
 * The hot-add range ("our range": the whole memdev window) and its memslots (QEMU
 * hw/hyperv/hv-balloon-our_range_memslots.c and hv-balloon.c hv_balloon_decide_memslots; see
 * docs/host-device.md). Pure functions over small plain records; the removed-page trees of the
 * range live in RemovedPageTrees.
 */
import { HOT_ADD_CHUNK_PAGES, MEMSLOT_SIZE_ALIGN_BYTES, PAGE_SIZE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';

/** The hot-add range's bookkeeping (QEMU OurRange + the mapped-slot count of OurRangeMemslots). */
export interface OurRangeState {
  /** First guest PFN of the memdev window (addr / 4096). */
  startPage: number;
  /** Pages in the window (backend size / 4096). */
  pageCount: number;
  /** Pages the guest accepted so far (QEMU our_range.added). */
  added: number;
  /** Pages at the end that will not be hot-added until the range is freed (QEMU unusable_tail). */
  unusableTail: number;
  /** Slots mapped so far, always a prefix of the slot list (QEMU mapped_count). */
  mappedSlots: number;
}

/** How the window is cut into memslots, decided once before realize (QEMU hv_balloon_decide_memslots). */
export interface MemslotPlan {
  count: number;
  /** Nominal pages per slot; the last slot may be smaller. */
  slotPages: number;
}

const MEMSLOT_ALIGN_PAGES = MEMSLOT_SIZE_ALIGN_BYTES / PAGE_SIZE;

/**
 * QEMU hv_balloon_decide_memslots: slot size = align_up(size / limit, 128 MiB), slots =
 * ceil(size / slot size); a single slot covers the whole window.
 * @param windowPages memdev size in pages (> 0)
 * @param limit the memslot limit the memory-device core passes (>= 1)
 */
export function planMemslots(windowPages: number, limit: number): MemslotPlan {
  const sizeBytes = windowPages * PAGE_SIZE;
  const perSlotBytes = Math.floor(sizeBytes / limit);
  const slotPages = Math.ceil(perSlotBytes / MEMSLOT_SIZE_ALIGN_BYTES) * MEMSLOT_ALIGN_PAGES;
  const count = Math.ceil(windowPages / slotPages);
  return count > 1 ? { count, slotPages } : { count: 1, slotPages: windowPages };
}

/** The guest-physical pages of slot `index` (the last one ends at the window's end). */
export function slotRange(plan: MemslotPlan, range: Pick<OurRangeState, 'startPage' | 'pageCount'>, index: number): PageRange {
  const offset = index * plan.slotPages;
  const pageCount = index === plan.count - 1 ? range.pageCount - offset : plan.slotPages;
  return { startPage: range.startPage + offset, pageCount };
}

/** QEMU memslot alias names. */
export function slotName(index: number): string {
  return `memslot-${index}`;
}

/**
 * QEMU hvb_our_range_memslots_ensure_mapped_additional: the slot indexes to map so that the first
 * (added + additionalPages) pages of the window are mapped, continuing after the mapped prefix.
 */
export function slotsToMap(plan: MemslotPlan, range: OurRangeState, additionalPages: number): number[] {
  const totalPages = range.added + additionalPages;
  const out: number[] = [];
  for (let idx = range.mappedSlots; idx < plan.count; idx++) {
    if (idx * plan.slotPages >= totalPages) break;
    out.push(idx);
  }
  return out;
}

/** QEMU our_range_get_remaining_size: count - added - unusable_tail. */
export function remainingPages(range: OurRangeState): number {
  return range.pageCount - range.added - range.unusableTail;
}

/** QEMU our_range_get_remaining_start: the next PFN to hot-add. */
export function remainingStart(range: OurRangeState): number {
  return range.startPage + range.added;
}

/** A fresh range over the memdev window (QEMU our_range_init). */
export function newOurRange(window: PageRange): OurRangeState {
  return { startPage: window.startPage, pageCount: window.pageCount, added: 0, unusableTail: 0, mappedSlots: 0 };
}

/** The hot-add alignment in pages: caps.hot_add_alignment n means 2^n MiB. */
export function hotAddAlignPages(alignmentExponent: number): number {
  return 2 ** alignmentExponent * (1024 * 1024 / PAGE_SIZE);
}

/** QEMU hv_balloon_hot_add_posting: the largest request; an alignment of 2 GiB or more overrides the chunk. */
export function hotAddChunkMax(alignPages: number): number {
  return alignPages >= HOT_ADD_CHUNK_PAGES ? alignPages : alignDown(HOT_ADD_CHUNK_PAGES, alignPages);
}

export function alignDown(value: number, align: number): number {
  return value - (value % align);
}

/**
 * The pages the next hot-add operation plans (QEMU hv_balloon_hot_add_setup): min(remaining,
 * hot_add_diff) aligned down. 0 means the device goes back to IDLE.
 */
export function plannedHotAddCount(range: OurRangeState, hotAddDiff: number, alignPages: number): number {
  return alignDown(Math.min(remainingPages(range), hotAddDiff), alignPages);
}
