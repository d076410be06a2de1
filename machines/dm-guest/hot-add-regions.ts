/**
 * The Linux guest's hot-add bookkeeping (drivers/hv/hv_balloon.c process_hot_add, handle_pg_range,
 * hv_online_page), as a mutable model the driver statechart references from its context (never
 * copied by `assign`).
 *
 * One "HAS" (hot-add state, Linux struct hv_hotadd_state) per region: the region
 * [startPage, endPage), how far memory blocks were actually added (haEndPage, grows by whole
 * chunks), the pages the host has backed [coveredStartPage, coveredEndPage) and the unbacked
 * gaps inside that. A page is usable ("backed") iff it is covered and not in a gap; the driver
 * onlines only backed pages (Linux hv_online_page). Everything is ranges; nothing is per page.
 * No I/O here: the statechart adds blocks and onlines pages through the memory view.
 */
import type { PageRange } from '../../protocol/messages';

export interface HotAddGap {
  startPage: number;
  endPage: number;
}

export interface HotAddRegion {
  startPage: number;
  endPage: number;
  /** End of what was hot-added (whole chunks from startPage). */
  haEndPage: number;
  coveredStartPage: number;
  coveredEndPage: number;
  gaps: HotAddGap[];
}

/** A DM_MEM_HOT_ADD_REQUEST as the driver sees it: the 24-byte form has a region. */
export interface HotAddRequestRanges {
  range: PageRange;
  region?: PageRange;
}

/** The request being processed (Linux hot_add_req -> process_hot_add -> handle_pg_range). */
export interface HotAddOperation {
  /** The region handle_pg_range works on, or -1 if no region holds the first page. */
  regionIndex: number;
  /** covered_end_pfn when handle_pg_range started: the response counts what it grew by. */
  oldCoveredEnd: number;
  /** Linux handle_pg_range, first part: pages of already-added chunks that this request backs. */
  backedInAddedChunks: PageRange | null;
  /** Pages of `backedInAddedChunks` to online at once (their block is already online). */
  onlineNow: PageRange[];
  /** Linux handle_pg_range, second part: chunks still to add. */
  chunksLeft: number;
  /** Backed pages still to spread over those chunks (Linux total_pfn). */
  pagesLeft: number;
  /** The chunk being added, so a failure can be undone. */
  current: { block: PageRange; processed: number } | null;
}

/** Linux hot_add_req: result 1 if pages were added or hot-add is disabled (permanent), else 0 (transient). */
export function hotAddResult(pageCount: number, hotAddDisabled: boolean): 0 | 1 {
  return pageCount > 0 || hotAddDisabled ? 1 : 0;
}

/** Round `n` up to whole chunks. */
export function roundUpToChunks(n: number, chunkPages: number): number {
  return Math.ceil(n / chunkPages) * chunkPages;
}

function end(r: PageRange): number {
  return r.startPage + r.pageCount;
}

/** The parts of `ranges` inside [start, stop). */
function clip(ranges: PageRange[], start: number, stop: number): PageRange[] {
  const out: PageRange[] = [];
  for (const r of ranges) {
    const s = Math.max(r.startPage, start);
    const e = Math.min(end(r), stop);
    if (e > s) out.push({ startPage: s, pageCount: e - s });
  }
  return out;
}

/** The parts of `ranges` outside [start, stop). */
function cut(ranges: PageRange[], start: number, stop: number): PageRange[] {
  const out: PageRange[] = [];
  for (const r of ranges) {
    if (end(r) <= start || r.startPage >= stop) {
      out.push(r);
      continue;
    }
    if (r.startPage < start) out.push({ startPage: r.startPage, pageCount: start - r.startPage });
    if (end(r) > stop) out.push({ startPage: stop, pageCount: end(r) - stop });
  }
  return out;
}

export class HotAddRegions {
  /** In insertion order: Linux searches the list front to back and takes the first match. */
  readonly regions: HotAddRegion[] = [];
  /** num_pages_added: the sum of the hot-add responses' page counts. */
  addedPages = 0;
  /** num_pages_onlined: backed pages handed to the allocator. */
  onlinedPages = 0;
  /** The request in progress, if any. */
  operation: HotAddOperation | null = null;
  /** Memory blocks (startPage / chunkPages) that have been onlined. */
  private readonly onlineBlocks = new Set<number>();

  /** @param chunkPages the memory block size in pages (32,768 for 128 MiB). */
  constructor(readonly chunkPages: number) {
    if (!Number.isSafeInteger(chunkPages) || chunkPages <= 0) {
      throw new RangeError(`HotAddRegions: chunkPages must be a positive integer, got ${String(chunkPages)}`);
    }
  }

  /** The first region whose [start, end) holds `page` (Linux list order), or -1. */
  regionIndexOf(page: number): number {
    return this.regions.findIndex((r) => page >= r.startPage && page < r.endPage);
  }

  /** Whether the memory block holding `page` has been onlined. */
  isBlockOnline(page: number): boolean {
    return this.onlineBlocks.has(Math.floor(page / this.chunkPages));
  }

  /** Number of onlined memory blocks. */
  get onlineBlockCount(): number {
    return this.onlineBlocks.size;
  }

  /** The backed parts of `range` as region `index` sees them: covered and outside every gap. */
  backedIn(index: number, range: PageRange): PageRange[] {
    const r = this.regions[index];
    if (r === undefined) return [];
    let parts = clip([range], r.coveredStartPage, r.coveredEndPage);
    for (const g of r.gaps) if (g.endPage > g.startPage) parts = cut(parts, g.startPage, g.endPage);
    return parts;
  }

  /**
   * Linux process_hot_add and the first part of handle_pg_range for one request: region
   * bookkeeping, backing pages inside already-added chunks, and the plan for adding chunks (how
   * many). Mutates the regions; the chunks are then added one by one with takeChunk / undoChunk
   * and the request ends with finish().
   */
  begin(request: HotAddRequestRanges): HotAddOperation {
    const chunk = this.chunkPages;
    const pgStart = request.range.startPage;
    let count = request.range.pageCount;
    const none: HotAddOperation = {
      regionIndex: -1,
      oldCoveredEnd: 0,
      backedInAddedChunks: null,
      onlineNow: [],
      chunksLeft: 0,
      pagesLeft: 0,
      current: null,
    };
    this.operation = none;
    // Step 1: nothing asked, nothing added.
    if (count === 0) return none;

    // Step 2: the 16-byte form derives its region from the request, in whole chunks.
    const hostRegion = request.region !== undefined;
    const region: PageRange = hostRegion
      ? request.region!
      : { startPage: Math.floor(pgStart / chunk) * chunk, pageCount: roundUpToChunks(count, chunk) };

    // Step 3 (16-byte form only): a region already holding pg_start is reused.
    let found = false;
    if (!hostRegion) {
      const index = this.regionIndexOf(pgStart);
      if (index >= 0) {
        const r = this.regions[index]!;
        if (pgStart !== r.coveredEndPage) {
          // Linux pfn_covered: the pages skipped over stay unbacked.
          if (pgStart > r.coveredEndPage) r.gaps.push({ startPage: r.coveredEndPage, endPage: pgStart });
          r.coveredEndPage = pgStart;
        }
        if (pgStart + count > r.endPage) r.endPage += roundUpToChunks(pgStart + count - r.endPage, chunk);
        found = true;
      }
    }
    // Step 4: otherwise (and always for the 24-byte form) append a new region.
    if (!found && region.pageCount !== 0) {
      this.regions.push({
        startPage: region.startPage,
        endPage: region.startPage + region.pageCount,
        haEndPage: region.startPage,
        coveredStartPage: pgStart,
        coveredEndPage: pgStart,
        gaps: [],
      });
    }

    // Step 5: handle_pg_range on the first region holding pg_start.
    const regionIndex = this.regionIndexOf(pgStart);
    if (regionIndex < 0) return none;
    const r = this.regions[regionIndex]!;
    const op: HotAddOperation = { ...none, regionIndex, oldCoveredEnd: r.coveredEndPage };

    // 5a: pages inside chunks already added were unbacked; now they are backed.
    if (pgStart < r.haEndPage) {
      const n = Math.min(r.haEndPage - pgStart, count);
      r.coveredEndPage += n;
      count -= n;
      op.backedInAddedChunks = { startPage: pgStart, pageCount: n };
      // Linux checks the section of pg_start: if it is online, the pages go online now.
      if (pgStart > r.startPage && this.isBlockOnline(pgStart)) {
        op.onlineNow = this.backedIn(regionIndex, op.backedInAddedChunks);
      }
    }
    // 5b: add whole chunks that cover the rest, clipped to the region.
    if (r.haEndPage < r.endPage && count > 0) {
      let size = r.endPage - r.haEndPage;
      if (count <= size) size = roundUpToChunks(count, chunk);
      else count = size;
      op.chunksLeft = Math.floor(size / chunk);
      op.pagesLeft = count;
    }
    this.operation = op;
    return op;
  }

  /** Start adding the next chunk (Linux hv_mem_hot_add loop body): returns the memory block. */
  takeChunk(): PageRange {
    const op = this.requireOperation('takeChunk');
    if (op.chunksLeft <= 0) throw new Error('HotAddRegions.takeChunk: no chunk left to add');
    const r = this.regions[op.regionIndex]!;
    const block = { startPage: r.haEndPage, pageCount: this.chunkPages };
    const processed = Math.min(op.pagesLeft, this.chunkPages);
    r.haEndPage += this.chunkPages;
    r.coveredEndPage += processed;
    op.pagesLeft -= processed;
    op.chunksLeft -= 1;
    op.current = { block, processed };
    return block;
  }

  /** The chunk was added: forget the undo record. */
  chunkAdded(): void {
    this.requireOperation('chunkAdded').current = null;
  }

  /** add_memory failed: undo this chunk and add no more (Linux breaks out of the loop). */
  undoChunk(): void {
    const op = this.requireOperation('undoChunk');
    if (op.current === null) return;
    const r = this.regions[op.regionIndex]!;
    r.haEndPage -= this.chunkPages;
    r.coveredEndPage -= op.current.processed;
    op.current = null;
    op.chunksLeft = 0;
    op.pagesLeft = 0;
  }

  /**
   * The response's page_count: how much covered_end grew (Linux handle_pg_range's result);
   * counted as added.
   */
  finish(): number {
    const op = this.operation;
    this.operation = null;
    if (op === null || op.regionIndex < 0) return 0;
    const pageCount = this.regions[op.regionIndex]!.coveredEndPage - op.oldCoveredEnd;
    this.addedPages += pageCount;
    return pageCount;
  }

  /**
   * A memory block was onlined (Linux memory notifier + hv_online_page): record it, and return
   * the pages to hand to the allocator. In a region only its backed pages go online (first region
   * in list order wins for each page); they count in num_pages_onlined. Pages outside every region
   * go online as they are (generic_online_page) and are not counted.
   */
  onlineBlock(block: PageRange): { backed: PageRange[]; outside: PageRange[] } {
    const first = Math.floor(block.startPage / this.chunkPages);
    const last = Math.floor((end(block) - 1) / this.chunkPages);
    for (let b = first; b <= last; b++) this.onlineBlocks.add(b);
    let rest: PageRange[] = [block];
    const backed: PageRange[] = [];
    for (let i = 0; i < this.regions.length && rest.length > 0; i++) {
      const r = this.regions[i]!;
      for (const part of clip(rest, r.startPage, r.endPage)) backed.push(...this.backedIn(i, part));
      rest = cut(rest, r.startPage, r.endPage);
    }
    return { backed, outside: rest };
  }

  /** Pages were onlined (counted in num_pages_onlined). */
  countOnlined(pages: number): void {
    this.onlinedPages += pages;
  }

  private requireOperation(method: string): HotAddOperation {
    if (this.operation === null || this.operation.regionIndex < 0) {
      throw new Error(`HotAddRegions.${method}: no hot-add request in progress`);
    }
    return this.operation;
  }
}
