/**
 * Walking a free-page tree by address, in ranges: the pieces of free memory from a page upward
 * or from a limit downward. Used to place boot reservations and to pick pages the way Linux's
 * allocators do (memblock top-down, the buddy allocator's lowest-first free lists).
 */
import type { PageRange } from '../../protocol/messages';
import type { PageRangeTree } from '../page-range-tree';

/** Up to `pages` free pages from `from` upward (below `limit`), lowest first; the tree is not changed. */
export function freeFromBelow(free: PageRangeTree, from: number, pages: number, limit = Number.MAX_SAFE_INTEGER): PageRange[] {
  const out: PageRange[] = [];
  let p = from;
  let left = pages;
  while (left > 0 && p < limit) {
    const r = free.rangeAtOrAbove(p);
    if (r === undefined) break;
    const start = Math.max(r.startPage, p);
    if (start >= limit) break;
    const n = Math.min(left, r.startPage + r.pageCount - start, limit - start);
    out.push({ startPage: start, pageCount: n });
    left -= n;
    p = start + n;
  }
  return out;
}

/** Up to `pages` free pages from just below `limit` downward (at or above `floor`), highest first. */
export function freeFromAbove(free: PageRangeTree, limit: number, pages: number, floor = 0): PageRange[] {
  const out: PageRange[] = [];
  let p = limit;
  let left = pages;
  while (left > 0 && p > floor) {
    const r = free.rangeBelow(p - 1);
    if (r === undefined) break;
    const end = Math.min(r.startPage + r.pageCount, p);
    if (end <= floor) break;
    const start = Math.max(r.startPage, floor, end - left);
    out.push({ startPage: start, pageCount: end - start });
    left -= end - start;
    p = start;
  }
  return out;
}
