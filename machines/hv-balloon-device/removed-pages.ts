/**
 * The pages the guest gave back, as QEMU's hv-balloon accounts them (hw/hyperv/hv-balloon.c
 * hv_balloon_handle_remove_ranges, hv-balloon-page_range_tree.c): four page-range trees, the
 * classification of every reported page (ordinary RAM -> "both", with a host discard; anything
 * else -> "guest") and the flush of each run against the WHOLE memdev window. Work is per section
 * and per run, never per page: an unmapped hole is one step that stands for QEMU's page-by-page
 * walk (same accounting, one warning record with the page count).
 */
import { PAGE_SIZE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import { rangeListOf, type RangeList } from '../../protocol/range-list';
import type { HostMemoryView } from '../memory-views';
import { PageRangeTree } from '../page-range-tree';
import type { DeviceOutput } from './output';
import { warnings } from './warnings';

export type Bucket = 'guest' | 'both';

/** What an absent tree reads as in the device's own reads: empty, frozen so nothing writes into it. */
const NO_PAGES = Object.freeze(new PageRangeTree()) as PageRangeTree;

export type RemovedTreeName = 'globalGuest' | 'globalBoth' | 'ourGuest' | 'ourBoth';

/**
 * QEMU's removed_guest / removed_both (outside the hot-add range) and our_range's two trees.
 * A tree is created only once something asks for it to write (most devices only ever fill one,
 * often with a single range) and dropped when cleared; the device's own reads (`peek`) leave an
 * absent tree absent. The named getters create it, so any caller may use it as a tree.
 */
export class RemovedPageTrees {
  private gGuest: PageRangeTree | undefined = undefined;
  private gBoth: PageRangeTree | undefined = undefined;
  private oGuest: PageRangeTree | undefined = undefined;
  private oBoth: PageRangeTree | undefined = undefined;

  get globalGuest(): PageRangeTree {
    return (this.gGuest ??= new PageRangeTree());
  }
  get globalBoth(): PageRangeTree {
    return (this.gBoth ??= new PageRangeTree());
  }
  get ourGuest(): PageRangeTree {
    return (this.oGuest ??= new PageRangeTree());
  }
  get ourBoth(): PageRangeTree {
    return (this.oBoth ??= new PageRangeTree());
  }

  /** A tree to read (an absent one reads as empty and stays absent). Do not write into it. */
  peek(name: RemovedTreeName): PageRangeTree {
    switch (name) {
      case 'globalGuest':
        return this.gGuest ?? NO_PAGES;
      case 'globalBoth':
        return this.gBoth ?? NO_PAGES;
      case 'ourGuest':
        return this.oGuest ?? NO_PAGES;
      case 'ourBoth':
        return this.oBoth ?? NO_PAGES;
    }
  }

  /** The global tree of `bucket`, to record pages in. */
  global(bucket: Bucket): PageRangeTree {
    return bucket === 'both' ? this.globalBoth : this.globalGuest;
  }

  /** The hot-add range's tree of `bucket`, to record pages in. */
  ours(bucket: Bucket): PageRangeTree {
    return bucket === 'both' ? this.ourBoth : this.ourGuest;
  }

  /** QEMU vmdev_reset: every tree emptied (the hot-add range's ones too). */
  clearAll(): void {
    this.gGuest = undefined;
    this.gBoth = undefined;
    this.clearOurs();
  }

  clearOurs(): void {
    this.oGuest = undefined;
    this.oBoth = undefined;
  }

  /** QEMU hv_balloon_unballoon_get_source order: global guest, global both, ours guest, ours both. */
  unballoonSource(ourRangeExists: boolean): { tree: PageRangeTree; bucket: Bucket; ours: boolean } | undefined {
    if (this.gGuest && !this.gGuest.isEmpty) return { tree: this.gGuest, bucket: 'guest', ours: false };
    if (this.gBoth && !this.gBoth.isEmpty) return { tree: this.gBoth, bucket: 'both', ours: false };
    if (!ourRangeExists) return undefined;
    if (this.oGuest && !this.oGuest.isEmpty) return { tree: this.oGuest, bucket: 'guest', ours: true };
    if (this.oBoth && !this.oBoth.isEmpty) return { tree: this.oBoth, bucket: 'both', ours: true };
    return undefined;
  }

  /** True if either global tree holds a page of `window` (QEMU hv_balloon_our_range_ensure's clash check). */
  globalIntersects(window: PageRange): boolean {
    return (
      this.peek('globalGuest').intersectsAny(window.startPage, window.pageCount) ||
      this.peek('globalBoth').intersectsAny(window.startPage, window.pageCount)
    );
  }
}

export interface RecordRangesDeps {
  trees: RemovedPageTrees;
  memory: HostMemoryView;
  /** The whole memdev window when the hot-add range exists (not-yet-added part and unusable tail included). */
  ourWindow: PageRange | undefined;
  out: DeviceOutput;
}

/** Pages newly recorded per bucket (the grand-total counters grow by these). */
export interface RecordedPages {
  guest: number;
  both: number;
}

interface Run {
  start: number;
  count: number;
}

const end = (r: PageRange | Run): number => ('startPage' in r ? r.startPage + r.pageCount : r.start + r.count);

/**
 * QEMU hv_balloon_handle_remove_ranges minus the balloon_diff update: classify every page of
 * `ranges`, record the runs in the trees, discard host memory of the "both" pages. `ranges` is an
 * array, or a RangeList (a balloon response's ranges read in place from its bytes).
 */
export function recordRemovedRanges(ranges: readonly PageRange[] | RangeList, deps: RecordRangesDeps): RecordedPages {
  const list: RangeList = isRangeArray(ranges) ? rangeListOf(ranges) : ranges;
  const { memory, out } = deps;
  const recorded: RecordedPages = { guest: 0, both: 0 };
  const acc: Record<Bucket, Run> = { guest: { start: 0, count: 0 }, both: { start: 0, count: 0 } };
  // Host pages to discard, by host page size (QEMU's removed_host_addr tree, here in guest pages).
  const toDiscard = new Map<number, PageRangeTree>();

  const addStep = (bucket: Bucket, start: number, count: number): void => {
    const run = acc[bucket];
    // QEMU hv_balloon_remove_response_handle_pages: a step that cannot join the run flushes it.
    if (run.count > 0 && start + count !== run.start && run.start + run.count !== start) {
      flushRun(bucket, run, deps, recorded);
      run.count = 0;
    }
    if (run.count === 0) {
      run.start = start;
      run.count = count;
    } else if (start + count === run.start) {
      run.start = start;
      run.count += count;
    } else {
      run.count += count;
    }
  };

  const classify = (startPage: number, pageCount: number): void => {
    for (let offset = 0; offset < pageCount; ) {
      const page = startPage + offset;
      const section = memory.findSection(page, pageCount - offset);
      let step: number;
      let bucket: Bucket = 'guest';
      if (section.kind === 'unmapped') {
        // QEMU: "not found in RAM", one page (and one warning) at a time; here the hole in one step.
        step = Math.max(1, Math.min(section.pageCount, pageCount - offset));
        out.warn(warnings.removedPageNotFound(page, step));
      } else if (section.pageCount <= 0) {
        step = 1;
        out.warn(warnings.removedPageSmallSection(page));
      } else if (section.kind !== 'ram') {
        // QEMU: ROM, ROMD and non-RAM (MMIO) sections are skipped whole, into the guest bucket.
        step = Math.min(section.pageCount, pageCount - offset);
        out.warn(warnings.removedPageNotRam(page));
      } else {
        step = Math.min(section.pageCount, pageCount - offset);
        if (!section.hostAligned) {
          out.warn(warnings.removedPagesUnalignedHostAddr(page * PAGE_SIZE));
        } else {
          bucket = 'both';
          let tree = toDiscard.get(section.hostPageSize);
          if (!tree) toDiscard.set(section.hostPageSize, (tree = new PageRangeTree()));
          tree.insert(page, step);
        }
      }
      addStep(bucket, page, step);
      offset += step;
    }
  };

  const n = list.length;
  for (let i = 0; i < n; ) {
    // A group of ascending adjacent ranges (a Linux guest reports its 2 MiB units in order) that
    // lies in one aligned RAM section classifies exactly like its ranges one by one: every range is
    // one "both" step joining the same run. So one section lookup and one step for the group.
    const firstStart = list.startPage(i);
    const firstCount = list.pageCount(i);
    const firstEnd = firstStart + firstCount;
    let j = i + 1;
    let groupEnd = firstEnd;
    if (firstCount > 0) {
      while (j < n && list.startPage(j) === groupEnd) {
        const count = list.pageCount(j);
        if (count <= 0) break;
        groupEnd += count;
        j++;
      }
    }
    if (j - i > 1 && joinsLikeItsRanges(acc.both, firstStart, firstEnd, groupEnd)) {
      const count = groupEnd - firstStart;
      const section = memory.findSection(firstStart, count);
      if (section.kind === 'ram' && section.pageCount === count && section.hostAligned) {
        let tree = toDiscard.get(section.hostPageSize);
        if (!tree) toDiscard.set(section.hostPageSize, (tree = new PageRangeTree()));
        tree.insert(firstStart, count);
        addStep('both', firstStart, count);
        i = j;
        continue;
      }
    }
    for (; i < j; i++) classify(list.startPage(i), list.pageCount(i));
  }
  // QEMU flushes the "both" run first, then the "guest" run.
  if (acc.both.count > 0) flushRun('both', acc.both, deps, recorded);
  if (acc.guest.count > 0) flushRun('guest', acc.guest, deps, recorded);

  // QEMU hv_balloon_handle_remove_host_addr_tree: discard, unless the block uses hugepages.
  for (const [pageSize, tree] of toDiscard) {
    for (const run of tree.ranges()) {
      if (pageSize !== PAGE_SIZE) {
        // QEMU warns once per page and leaves the page counted as "both" (a TODO upstream).
        out.warn(warnings.removedPageUnsupportedPageSize(pageSize, run.pageCount));
      } else if (!memory.discard(run)) {
        out.warn(warnings.removedPageFailedDiscard());
      }
    }
  }
  return recorded;
}

/**
 * Whether the run `run` treats a group [firstStart, groupEnd), whose first range ends at firstEnd,
 * as it treats the group's ranges one at a time: the run is empty or ends where the group starts
 * (every range appends), or joins
 * neither the first range nor the group (it is flushed either way). A run that starts where the
 * first range ends would take that range in front and then be flushed by the second one.
 */
function joinsLikeItsRanges(run: Run, firstStart: number, firstEnd: number, groupEnd: number): boolean {
  if (run.count === 0 || run.start + run.count === firstStart) return true;
  return firstEnd !== run.start && groupEnd !== run.start;
}

function isRangeArray(ranges: readonly PageRange[] | RangeList): ranges is readonly PageRange[] {
  return Array.isArray(ranges);
}

/** QEMU hv_balloon_remove_response_handle_range: split a run against the whole memdev window. */
function flushRun(bucket: Bucket, run: Run, deps: RecordRangesDeps, recorded: RecordedPages): void {
  const { trees, ourWindow, out } = deps;
  const both = bucket === 'both';
  out.trace('hv_balloon_remove_response', { count: run.count, start: run.start, both });
  const insert = (tree: PageRangeTree, start: number, count: number): number => {
    if (count <= 0) return 0;
    const added = count - tree.insert(start, count);
    recorded[bucket] += added;
    return added;
  };
  let rest: Run = { start: run.start, count: run.count };
  if (ourWindow && rest.start < end(ourWindow) && ourWindow.startPage < end(rest)) {
    const holeCount = Math.max(0, Math.min(end(rest), ourWindow.startPage) - rest.start);
    insert(trees.global(bucket), rest.start, holeCount);
    if (holeCount > 0) {
      out.trace('hv_balloon_remove_response_hole', {
        count: holeCount,
        start: rest.start,
        rangeCount: run.count,
        rangeStart: run.start,
        ourStart: ourWindow.startPage,
        both,
      });
    }
    const commonStart = Math.max(rest.start, ourWindow.startPage);
    const commonCount = Math.min(end(rest), end(ourWindow)) - commonStart;
    const ourRemoved = insert(trees.ours(bucket), commonStart, commonCount);
    out.trace('hv_balloon_remove_response_common', {
      count: commonCount,
      start: commonStart,
      rangeCount: run.count,
      rangeStart: run.start,
      ourCount: ourWindow.pageCount,
      ourStart: ourWindow.startPage,
      ourRemoved,
      both,
    });
    const afterStart = Math.max(rest.start, end(ourWindow));
    rest = { start: afterStart, count: Math.max(0, end(rest) - afterStart) };
  }
  if (rest.count > 0) {
    insert(trees.global(bucket), rest.start, rest.count);
    out.trace('hv_balloon_remove_response_remainder', { count: rest.count, start: rest.start, both });
  }
}

/**
 * QEMU's balloon_diff update after a response: lowered by the newly removed pages, or set to 0
 * with a warning when the guest reported more than was pending.
 */
export function lowerBalloonDiff(balloonDiff: number, removed: number, out: DeviceOutput): number {
  if (removed > balloonDiff) {
    out.warn(warnings.moreRemovedThanPending(removed, balloonDiff));
    return 0;
  }
  return balloonDiff - removed;
}
