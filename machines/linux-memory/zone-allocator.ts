/**
 * Page allocation the way Linux's buddy allocator hands pages out, closely enough for the ranges
 * a balloon gives up (Linux mm/page_alloc.c get_page_from_freelist, zone_watermark_ok):
 * - zones in zonelist order, Normal first, then DMA32, then DMA;
 * - a zone gives pages while it stays above its low watermark plus its lowmem reserve; once every
 *   zone is there the slow path tries again down to the min watermark (kswapd has nothing to
 *   reclaim in this model);
 * - within a zone the lowest free block of the order first: boot and memory onlining put free
 *   blocks at the tail of the free lists in address order, and allocations take the head;
 * - a block of order n is aligned to its size.
 * Works on ranges: the cost is per free range visited, never per page.
 */
import { unitsOfRuns } from '../../protocol/balloon-response-units';
import type { PageRange } from '../../protocol/messages';
import type { PageRangeTree } from '../page-range-tree';
import { ZONE_END, ZONE_START, ZONELIST, type ZoneLimits, type ZoneName } from './zones';

/** Free pages in one zone. */
export function zoneFreePages(free: PageRangeTree, zone: ZoneName): number {
  let n = 0;
  for (const r of free.intersection(ZONE_START[zone], ZONE_END[zone] - ZONE_START[zone])) n += r.pageCount;
  return n;
}

/** Units picked for a balloon message, and the same pages as runs of adjacent units. */
export interface PickedUnits {
  /** One range per unit, in the order the allocator hands them out (a DM balloon response lists them so). */
  units: PageRange[];
  /** Adjacent units of `units` (in that order) merged: what moves between the memory model's trees. */
  runs: PageRange[];
}

/**
 * Pick up to `maxUnits` aligned units of `unitPages` from `free` (the tree is not changed), one
 * range per unit in the order the allocator hands them out, and the runs they form.
 */
export function pickUnitsByZone(free: PageRangeTree, limits: ZoneLimits, unitPages: number, maxUnits: number): PickedUnits {
  const runs = pickUnitRunsByZone(free, limits, unitPages, maxUnits);
  return { units: unitsOfRuns(runs, unitPages), runs };
}

/**
 * The same pick as runs only: adjacent units merged, in the order the allocator hands them out
 * (cutting each run into units, in order, gives pickUnitsByZone's `units`). The model moves runs
 * and a Linux guest's message can be encoded from them: nothing costs an object per unit.
 */
export function pickUnitRunsByZone(free: PageRangeTree, limits: ZoneLimits, unitPages: number, maxUnits: number): PageRange[] {
  const runs: PageRange[] = [];
  let picked = 0;
  const freeLeft: Record<ZoneName, number> = { DMA: 0, DMA32: 0, Normal: 0 };
  for (const z of ZONELIST) freeLeft[z] = zoneFreePages(free, z);
  // Where each zone's lowest-first walk has got to (units already picked are below it).
  const cursor: Record<ZoneName, number> = { ...ZONE_START };
  for (const mark of ['low', 'min'] as const) {
    for (const z of ZONELIST) {
      if (picked >= maxUnits) return runs;
      const w = limits.zones[z];
      const budget = Math.floor((freeLeft[z] - w[mark] - w.lowmemReserve) / unitPages);
      if (budget <= 0) continue;
      const n = Math.min(budget, maxUnits - picked);
      const got = walkUnits(free, cursor[z], ZONE_END[z], unitPages, n, runs);
      picked += got;
      freeLeft[z] -= got * unitPages;
      if (got > 0) {
        // The last unit picked ends the last run.
        const last = runs[runs.length - 1] as PageRange;
        cursor[z] = last.startPage + last.pageCount;
      }
    }
  }
  return runs;
}

/** Up to `n` aligned units from `from` upward, below `limit`, added to `runs`; returns how many. */
function walkUnits(free: PageRangeTree, from: number, limit: number, unit: number, n: number, runs: PageRange[]): number {
  let got = 0;
  let p = from;
  while (got < n && p < limit) {
    const r = free.rangeAtOrAbove(p);
    if (r === undefined || r.startPage >= limit) break;
    const end = Math.min(r.startPage + r.pageCount, limit);
    const first = Math.ceil(Math.max(r.startPage, p) / unit) * unit;
    const take = first + unit <= end ? Math.min(Math.floor((end - first) / unit), n - got) : 0;
    if (take > 0) addRun(runs, first, take * unit);
    got += take;
    p = end;
  }
  return got;
}

/** Append a run, merged into the last one when they touch (units picked one after the other). */
function addRun(runs: PageRange[], startPage: number, pageCount: number): void {
  const last = runs[runs.length - 1];
  if (last !== undefined && last.startPage + last.pageCount === startPage) last.pageCount += pageCount;
  else runs.push({ startPage, pageCount });
}

/**
 * Pick up to `pages` order-0 pages (any alignment) the same way, as runs: for the workload's and
 * the kernel's own allocations.
 */
export function pickPagesByZone(free: PageRangeTree, limits: ZoneLimits, pages: number): PageRange[] {
  const out: PageRange[] = [];
  let left = pages;
  const freeLeft: Record<ZoneName, number> = { DMA: 0, DMA32: 0, Normal: 0 };
  for (const z of ZONELIST) freeLeft[z] = zoneFreePages(free, z);
  const cursor: Record<ZoneName, number> = { ...ZONE_START };
  for (const mark of ['low', 'min'] as const) {
    for (const z of ZONELIST) {
      if (left <= 0) return out;
      const w = limits.zones[z];
      const budget = Math.min(left, freeLeft[z] - w[mark] - w.lowmemReserve);
      if (budget <= 0) continue;
      let want = budget;
      let p = cursor[z];
      while (want > 0 && p < ZONE_END[z]) {
        const r = free.rangeAtOrAbove(p);
        if (r === undefined || r.startPage >= ZONE_END[z]) break;
        const start = Math.max(r.startPage, p);
        const count = Math.min(want, Math.min(r.startPage + r.pageCount, ZONE_END[z]) - start);
        out.push({ startPage: start, pageCount: count });
        want -= count;
        p = start + count;
      }
      const got = budget - want;
      cursor[z] = p;
      freeLeft[z] -= got;
      left -= got;
    }
  }
  return out;
}
