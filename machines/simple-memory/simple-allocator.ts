/**
 * The simple guest memory model's rules (a MachineMemory built with kernelReservedPages, and the
 * Windows-like profile): one zone, watermarks from the online pages, balloon units from the top
 * of free memory down, Windows-like contiguous runs. Pure: they pick ranges from a free tree and
 * leave the tree alone; the caller moves them.
 */
import { MAX_PAGE_COUNT } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import type { PageRangeTree } from '../page-range-tree';

export interface SimpleWatermarks {
  min: number;
  low: number;
  high: number;
}

/**
 * Linux mm/page_alloc.c for one zone: min_free_kbytes = sqrt(16 x KiB) in [128, 262144];
 * low = min + gap, high = min + 2 x gap, gap = max(min / 4, pages x 10 / 10000).
 */
export function simpleWatermarks(onlinePages: number): SimpleWatermarks {
  const minKiB = Math.min(262_144, Math.max(128, Math.floor(Math.sqrt(onlinePages * 4 * 16))));
  const min = Math.floor(minKiB / 4);
  const gap = Math.max(Math.floor(min / 4), Math.floor((onlinePages * 10) / 10_000));
  return { min, low: min + gap, high: min + 2 * gap };
}

/** Up to `want` aligned units from the highest free memory down, highest first; also the runs they form. */
export function pickUnitsFromTop(free: PageRangeTree, unitPages: number, want: number): { units: PageRange[]; runs: PageRange[] } {
  const units: PageRange[] = [];
  const runs: PageRange[] = [];
  for (const r of free.ranges({ reverse: true })) {
    if (units.length >= want) break;
    const hi = Math.floor((r.startPage + r.pageCount) / unitPages) * unitPages;
    const lo = Math.ceil(r.startPage / unitPages) * unitPages;
    if (hi - lo < unitPages) continue;
    const n = Math.min((hi - lo) / unitPages, want - units.length);
    runs.push({ startPage: hi - n * unitPages, pageCount: n * unitPages });
    for (let i = 1; i <= n; i++) units.push({ startPage: hi - i * unitPages, pageCount: unitPages });
  }
  return { units, runs };
}

/**
 * Windows-like: up to `maxPages` as the largest free runs first (ties: the higher run), each
 * taken from its high end, in pieces of at most 2^24 - 1 pages, at most `maxRanges` of them.
 */
export function pickContiguousRuns(free: PageRangeTree, maxPages: number, maxRanges: number): PageRange[] {
  const out: PageRange[] = [];
  let remaining = maxPages;
  if (remaining === 0 || maxRanges === 0) return out;
  const runs = free.toArray().sort((a, b) => b.pageCount - a.pageCount || b.startPage - a.startPage);
  for (const run of runs) {
    if (remaining === 0 || out.length >= maxRanges) break;
    let top = run.startPage + run.pageCount;
    let left = Math.min(remaining, run.pageCount);
    while (left > 0 && out.length < maxRanges) {
      const n = Math.min(left, MAX_PAGE_COUNT);
      out.push({ startPage: top - n, pageCount: n });
      top -= n;
      left -= n;
      remaining -= n;
    }
  }
  return out;
}

/** The simple model's boot reservation: `pages` from the lowest free memory up (the kernel is loaded low). */
export function pickLowest(free: PageRangeTree, pages: number): PageRange[] {
  const out: PageRange[] = [];
  let left = pages;
  for (const r of free.ranges()) {
    if (left === 0) break;
    const n = Math.min(left, r.pageCount);
    out.push({ startPage: r.startPage, pageCount: n });
    left -= n;
  }
  return out;
}
