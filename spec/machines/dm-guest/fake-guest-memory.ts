/**
 * A small, exact GuestMemoryView for the driver's unit specs: RAM is pages [0, ramPages), the
 * workload holds the lowest `usedPages`, everything else is free; MemAvailable = free pages unless
 * a spec pins it. Ranges are kept in plain sorted arrays (specs use few ranges). Balloon units come
 * from the highest free memory down, aligned to their size, like the buddy allocator.
 */
import type { PageRange } from '../../../protocol/messages';
import type { GuestMemoryView } from '../../../machines/memory-views';

function end(r: PageRange): number {
  return r.startPage + r.pageCount;
}

/** Insert `r` into a sorted, merged list. */
function insert(list: PageRange[], r: PageRange): PageRange[] {
  if (r.pageCount === 0) return list;
  const all = [...list, { ...r }].sort((a, b) => a.startPage - b.startPage);
  const out: PageRange[] = [];
  for (const x of all) {
    const last = out[out.length - 1];
    if (last !== undefined && x.startPage <= end(last)) last.pageCount = Math.max(end(last), end(x)) - last.startPage;
    else out.push({ ...x });
  }
  return out;
}

/** Remove `r` from a sorted list. */
function subtract(list: PageRange[], r: PageRange): PageRange[] {
  const out: PageRange[] = [];
  for (const x of list) {
    if (end(x) <= r.startPage || x.startPage >= end(r)) {
      out.push(x);
      continue;
    }
    if (x.startPage < r.startPage) out.push({ startPage: x.startPage, pageCount: r.startPage - x.startPage });
    if (end(x) > end(r)) out.push({ startPage: end(r), pageCount: end(x) - end(r) });
  }
  return out;
}

function intersect(list: PageRange[], r: PageRange): PageRange[] {
  const out: PageRange[] = [];
  for (const x of list) {
    const s = Math.max(x.startPage, r.startPage);
    const e = Math.min(end(x), end(r));
    if (e > s) out.push({ startPage: s, pageCount: e - s });
  }
  return out;
}

function total(list: PageRange[]): number {
  return list.reduce((n, r) => n + r.pageCount, 0);
}

export interface FakeGuestMemoryOptions {
  ramPages: number;
  /** Pages the workload holds from the bottom (also Committed_AS unless `committedPages` says otherwise). */
  usedPages?: number;
  /** Committed_AS; default usedPages. */
  committedPages?: number;
  /** Replace the free list (e.g. to fragment memory). */
  freeRanges?: PageRange[];
}

export class FakeGuestMemory implements GuestMemoryView {
  free: PageRange[];
  ballooned: PageRange[] = [];
  /** Hot-added blocks (offline until onlined). */
  offline: PageRange[] = [];
  blocks: PageRange[] = [];
  onlined = 0;
  committed: number;
  /** Pin MemAvailable to a value (null: free pages). */
  available: number | null = null;
  /** Calls, for assertions. */
  readonly calls: string[] = [];

  constructor(readonly options: FakeGuestMemoryOptions) {
    const used = options.usedPages ?? 0;
    this.free = options.freeRanges?.map((r) => ({ ...r })) ?? [{ startPage: used, pageCount: options.ramPages - used }];
    this.committed = options.committedPages ?? used;
  }

  managedPages(): number {
    return this.options.ramPages + this.onlined - total(this.ballooned);
  }
  freePages(): number {
    return total(this.free);
  }
  availablePages(): number {
    return this.available ?? this.freePages();
  }
  committedPages(): number {
    return this.committed;
  }
  balloonedPages(): number {
    return total(this.ballooned);
  }

  allocateBalloonUnits(unitPages: number, maxUnits: number): PageRange[] {
    this.calls.push(`units ${unitPages} x${maxUnits}`);
    const out: PageRange[] = [];
    for (const r of [...this.free].reverse()) {
      let hi = Math.floor(end(r) / unitPages) * unitPages;
      const lo = Math.ceil(r.startPage / unitPages) * unitPages;
      while (out.length < maxUnits && hi - unitPages >= lo) {
        out.push({ startPage: hi - unitPages, pageCount: unitPages });
        hi -= unitPages;
      }
    }
    for (const u of out) this.take(u);
    return out;
  }

  /** Whether allocateBalloonUnits(unitPages, 1) would get a unit (not in `calls`: it changes nothing). */
  hasBalloonUnit(unitPages: number): boolean {
    return this.free.some((r) => Math.floor(end(r) / unitPages) * unitPages - unitPages >= Math.ceil(r.startPage / unitPages) * unitPages);
  }

  allocateBalloonContiguous(maxPages: number, maxRanges: number): PageRange[] {
    this.calls.push(`contiguous ${maxPages} x${maxRanges}`);
    const runs = [...this.free].sort((a, b) => b.pageCount - a.pageCount || b.startPage - a.startPage);
    const out: PageRange[] = [];
    let left = maxPages;
    for (const run of runs) {
      if (left === 0 || out.length >= maxRanges) break;
      const n = Math.min(left, run.pageCount);
      out.push({ startPage: end(run) - n, pageCount: n });
      left -= n;
    }
    for (const r of out) this.take(r);
    return out;
  }

  releaseBalloonRange(range: PageRange): number {
    this.calls.push(`release 0x${range.startPage.toString(16)}+${range.pageCount}`);
    const parts = intersect(this.ballooned, range);
    for (const p of parts) {
      this.ballooned = subtract(this.ballooned, p);
      this.free = insert(this.free, p);
    }
    return total(parts);
  }

  addMemoryBlock(range: PageRange): 'ok' | 'exists' {
    this.calls.push(`add 0x${range.startPage.toString(16)}+${range.pageCount}`);
    const clashesRam = range.startPage < this.options.ramPages;
    const clashesBlock = this.blocks.some((b) => b.startPage < end(range) && range.startPage < end(b));
    if (clashesRam || clashesBlock) return 'exists';
    this.blocks.push({ ...range });
    this.offline = insert(this.offline, range);
    return 'ok';
  }

  onlinePages(range: PageRange): number {
    this.calls.push(`online 0x${range.startPage.toString(16)}+${range.pageCount}`);
    const parts = intersect(this.offline, range);
    for (const p of parts) {
      this.offline = subtract(this.offline, p);
      this.free = insert(this.free, p);
    }
    const n = total(parts);
    this.onlined += n;
    return n;
  }

  private take(r: PageRange): void {
    this.free = subtract(this.free, r);
    this.ballooned = insert(this.ballooned, r);
  }
}
