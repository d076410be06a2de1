/**
 * A set of guest pages kept as maximal runs: an ordered map from start page to page count.
 *
 * Semantics follow QEMU hw/hyperv/hv-balloon-page_range_tree.c (see docs/page-range-tree.md):
 * after every operation the ranges are pairwise disjoint and never adjacent (touching ranges are
 * merged), so the tree holds exactly the maximal runs of its page set. Every operation costs O(log n) in the
 * number of ranges n (plus O(k log n) for the k ranges an insert or subtract swallows, each of
 * which was paid for by the insert that created it); nothing costs anything per page.
 *
 * Backed by sorted-btree's B+ tree (BTree<start, count>), created only once the set has two
 * ranges; an empty set or a single range is kept in two fields instead, so the common "one big
 * range" case costs one small object (~56 bytes measured on Node 20 x64).
 */
import BTree from 'sorted-btree';
import type { PageRange } from '../protocol/messages';

// metadataBytes() = FIXED (0 or 1 range) or FIXED + BTREE_BASE + PER_RANGE * n (n >= 2).
// Measured on Node 20 x64 with forced GCs and process.memoryUsage().heapUsed, averaged over many
// trees (bench/range-tree.bench.ts `range-tree-metadata` re-measures them on every run):
//  - an empty or one-range tree: ~56 B since the B-tree object is created lazily (~144 B before,
//    this object and the BTree object); the constant stays 160 (an over-estimate) so that the
//    figures reports print did not change.
//  - the B-tree's first leaf, allocated at the second range: ~417 B, because V8 gives each of
//    its two arrays (starts, counts) a capacity of 17 on the first push; rounded up to 420.
//  - each further range: two 8-byte slots in a leaf that is 50-100% full, plus internal nodes:
//    12-18 B at 200,000 ranges, 19-27 B from 100 to 10,000 ranges, ~40 B just after a leaf
//    split (65 ranges); 32 B chosen.
// Measured / estimate stays between ~0.3 (ascending inserts pack leaves full) and ~1.2 (just
// after a split): the estimate leans towards over-reporting. Page numbers above 2^31 cost
// nothing extra (V8 keeps the leaf arrays as unboxed doubles).
export const METADATA_FIXED_BYTES = 160;
export const METADATA_BTREE_BASE_BYTES = 420;
export const METADATA_BYTES_PER_RANGE = 32;

export interface PageRangeIterationOptions {
  /** Iterate from the highest range down. */
  reverse?: boolean;
}

const ascending = (a: number, b: number): number => a - b;

// B-tree fan-out. 128 rather than sorted-btree's default 32: two levels fewer at 10^5-10^6 ranges,
// where each lookup is a chain of cache misses (bench range-tree-merge-1M: ~25% faster than 64), and
// fuller leaves (fewer bytes per range).
const NODE_SIZE = 128;

function checkPage(method: string, field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`PageRangeTree.${method}: ${field} must be a non-negative safe integer, got ${String(value)}`);
  }
}

function checkRange(method: string, startPage: number, pageCount: number): void {
  checkPage(method, 'startPage', startPage);
  checkPage(method, 'pageCount', pageCount);
  if (startPage + pageCount > Number.MAX_SAFE_INTEGER) {
    // QEMU asserts start + count does not overflow u64; here the ceiling is 2^53 - 1.
    throw new RangeError(
      `PageRangeTree.${method}: startPage + pageCount must not exceed Number.MAX_SAFE_INTEGER, got ${startPage} + ${pageCount}`,
    );
  }
}

// Scratch pair filled by lookups so hot paths allocate nothing; callers copy it out at once.
const scratch: [number, number] = [0, 0];

export class PageRangeTree {
  // Created at the second range, dropped when one range is left (settle) or at clear().
  private tree: BTree<number, number> | undefined = undefined;
  // A set that is exactly one range lives here instead of in the B-tree: the tree's first leaf
  // preallocates ~400 bytes of array capacity, which would dominate the common one-range case.
  // soloCount > 0 iff the solo range is in use (and then the B-tree is empty or absent).
  private soloStart = 0;
  private soloCount = 0;
  private total = 0;

  /** Pages in the tree: a running counter, O(1). */
  get totalPages(): number {
    return this.total;
  }

  /** Number of (maximal) ranges, O(1). */
  get rangeCount(): number {
    return this.soloCount > 0 ? 1 : (this.tree?.size ?? 0);
  }

  get isEmpty(): boolean {
    return this.soloCount === 0 && (this.tree === undefined || this.tree.size === 0);
  }

  /**
   * Add [startPage, startPage + pageCount), merging with overlapping and adjacent ranges.
   * Returns `dup`: how many of those pages were already present (QEMU counts only count - dup
   * as newly removed). A count of 0 does nothing.
   */
  insert(startPage: number, pageCount: number): number {
    checkRange('insert', startPage, pageCount);
    if (pageCount === 0) return 0;
    const end = startPage + pageCount;

    if (this.soloCount > 0) {
      const soloEnd = this.soloStart + this.soloCount;
      if (startPage <= soloEnd && end >= this.soloStart) {
        // Overlaps or touches the only range: it stays the only range.
        const dup = Math.max(0, Math.min(soloEnd, end) - Math.max(this.soloStart, startPage));
        this.soloStart = Math.min(this.soloStart, startPage);
        this.soloCount = Math.max(soloEnd, end) - this.soloStart;
        this.total += pageCount - dup;
        return dup;
      }
      this.unsolo();
    } else if (this.tree === undefined || this.tree.size === 0) {
      this.soloStart = startPage;
      this.soloCount = pageCount;
      this.total = pageCount;
      return 0;
    }

    const tree = this.tree!;
    let dup = 0;
    let mergedStart = startPage;
    let mergedEnd = end;
    let swallowed = 0;
    // Walk down from the last range starting at or below `end`: first the ranges starting in
    // (startPage, end], which overlap or touch the new range and are swallowed; then the
    // predecessor, which absorbs the new range if it overlaps it or ends exactly at startPage
    // (QEMU: "joinable right"). No range starting after `end` can touch the merged range: it would
    // overlap or touch a range already in the tree. Direct lookups, not an iterator: this is the
    // hot path of every balloon response.
    let pair = tree.getPairOrNextLower(end, scratch);
    let swallowedKey = 0;
    while (pair !== undefined) {
      const rangeStart = pair[0];
      const rangeEnd = rangeStart + pair[1];
      if (rangeStart > startPage) {
        dup += Math.min(rangeEnd, end) - rangeStart;
        if (rangeEnd > mergedEnd) mergedEnd = rangeEnd;
        swallowed++;
        swallowedKey = rangeStart;
        pair = tree.nextLowerPair(rangeStart, scratch);
        continue;
      }
      if (rangeEnd >= startPage) {
        dup += Math.max(0, Math.min(rangeEnd, end) - startPage);
        // Already wholly present (QEMU: a page reported twice): nothing to change.
        if (swallowed === 0 && rangeEnd >= end) return dup;
        mergedStart = rangeStart;
        if (rangeEnd > mergedEnd) mergedEnd = rangeEnd;
      }
      break;
    }
    if (swallowed === 1) tree.delete(swallowedKey);
    else if (swallowed > 1) tree.deleteRange(startPage + 1, end, true);
    tree.set(mergedStart, mergedEnd - mergedStart);
    this.total += pageCount - dup;
    this.settle();
    return dup;
  }

  /**
   * Take up to `maxCount` pages from the highest range, from its high end (QEMU
   * hv_balloon_page_range_tree_pop): a larger range is shrunk and keeps its start; a range that
   * fits is removed whole. Undefined when the tree is empty.
   */
  pop(maxCount: number): PageRange | undefined {
    checkPage('pop', 'maxCount', maxCount);
    if (maxCount === 0) throw new RangeError('PageRangeTree.pop: maxCount must be at least 1, got 0');
    if (this.soloCount > 0) {
      const start = this.soloStart;
      const count = this.soloCount;
      const taken = Math.min(count, maxCount);
      this.soloCount = count - taken;
      this.total -= taken;
      return { startPage: start + count - taken, pageCount: taken };
    }
    const tree = this.tree;
    const last = tree?.nextLowerPair(undefined, scratch);
    if (tree === undefined || last === undefined) return undefined;
    const start = last[0];
    const count = last[1];
    let popped: PageRange;
    if (count > maxCount) {
      tree.set(start, count - maxCount);
      popped = { startPage: start + count - maxCount, pageCount: maxCount };
    } else {
      tree.delete(start);
      popped = { startPage: start, pageCount: count };
    }
    this.total -= popped.pageCount;
    this.settle();
    return popped;
  }

  /** True if any page of [startPage, startPage + pageCount) is present; false for count 0. */
  intersectsAny(startPage: number, pageCount: number): boolean {
    checkRange('intersectsAny', startPage, pageCount);
    if (pageCount === 0) return false;
    // The last range starting inside or before the window intersects it iff it ends past its start.
    const cand = this.atOrBelow(startPage + pageCount - 1);
    return cand !== undefined && cand[0] + cand[1] > startPage;
  }

  /** True if every page of the window is present (true for count 0). */
  containsAll(startPage: number, pageCount: number): boolean {
    checkRange('containsAll', startPage, pageCount);
    if (pageCount === 0) return true;
    // Ranges are maximal, so a fully present window lies inside a single range.
    const cand = this.atOrBelow(startPage);
    return cand !== undefined && cand[0] + cand[1] >= startPage + pageCount;
  }

  /** Remove the pages of the window, splitting ranges as needed; returns how many were present. */
  subtract(startPage: number, pageCount: number): number {
    checkRange('subtract', startPage, pageCount);
    if (pageCount === 0 || !this.intersectsAny(startPage, pageCount)) return 0;
    this.unsolo();
    // Present pages mean a solo range (now in the tree) or a tree with ranges.
    const tree = this.tree!;
    const end = startPage + pageCount;
    let removed = 0;

    const pred = tree.getPairOrNextLower(startPage, scratch);
    if (pred !== undefined && pred[0] + pred[1] > startPage) {
      const predStart = pred[0];
      const predEnd = predStart + pred[1];
      if (predStart < startPage) tree.set(predStart, startPage - predStart);
      else tree.delete(predStart);
      if (predEnd > end) tree.set(end, predEnd - end);
      removed += Math.min(predEnd, end) - startPage;
    }

    // Ranges starting inside the window (a tail piece re-added at `end` is outside it).
    for (;;) {
      const next = tree.nextHigherPair(startPage, scratch);
      if (next === undefined || next[0] >= end) break;
      const nextStart = next[0];
      const nextEnd = nextStart + next[1];
      tree.delete(nextStart);
      if (nextEnd > end) {
        tree.set(end, nextEnd - end);
        removed += end - nextStart;
        break;
      }
      removed += nextEnd - nextStart;
    }

    this.total -= removed;
    this.settle();
    return removed;
  }

  /** The present parts of the window, ascending. */
  intersection(startPage: number, pageCount: number): PageRange[] {
    checkRange('intersection', startPage, pageCount);
    const out: PageRange[] = [];
    if (pageCount === 0) return out;
    const end = startPage + pageCount;
    const pred = this.atOrBelow(startPage);
    if (pred !== undefined && pred[0] + pred[1] > startPage) {
      out.push({ startPage, pageCount: Math.min(pred[0] + pred[1], end) - startPage });
    }
    let key = startPage;
    for (;;) {
      const next = this.above(key);
      if (next === undefined || next[0] >= end) break;
      key = next[0];
      out.push({ startPage: key, pageCount: Math.min(key + next[1], end) - key });
    }
    return out;
  }

  /**
   * The ranges in ascending order (descending with `reverse`), each yielded as a fresh object.
   * The iteration is lazy: do not mutate the tree while iterating (take `toArray()` first).
   */
  *ranges(options?: PageRangeIterationOptions): IterableIterator<PageRange> {
    if (this.soloCount > 0) {
      yield { startPage: this.soloStart, pageCount: this.soloCount };
      return;
    }
    if (this.tree === undefined) return;
    const it = options?.reverse === true ? this.tree.entriesReversed() : this.tree.entries();
    for (const [startPage, pageCount] of it) yield { startPage, pageCount };
  }

  /** A snapshot of the ranges, ascending. O(n). */
  toArray(): PageRange[] {
    return Array.from(this.ranges());
  }

  first(): PageRange | undefined {
    return toRange(this.above(undefined));
  }

  last(): PageRange | undefined {
    return toRange(this.soloCount > 0 ? this.solo() : this.tree?.nextLowerPair(undefined, scratch));
  }

  /** The range containing `page`, or else the nearest range below it. */
  rangeBelow(page: number): PageRange | undefined {
    checkPage('rangeBelow', 'page', page);
    return toRange(this.atOrBelow(page));
  }

  /** The range containing `page`, or else the nearest range above it. */
  rangeAtOrAbove(page: number): PageRange | undefined {
    checkPage('rangeAtOrAbove', 'page', page);
    const below = this.atOrBelow(page);
    if (below !== undefined && below[0] + below[1] > page) return toRange(below);
    return toRange(this.above(page));
  }

  /**
   * Estimated heap bytes this tree holds (measured constants, see their comments): the fixed
   * part, plus for two or more ranges the B-tree's first leaf and a share per range. Independent
   * of the number of pages. A clone shares nodes with its source until either is written; each
   * reports the full figure.
   */
  metadataBytes(): number {
    const n = this.tree?.size ?? 0;
    if (n === 0) return METADATA_FIXED_BYTES;
    return METADATA_FIXED_BYTES + METADATA_BTREE_BASE_BYTES + METADATA_BYTES_PER_RANGE * n;
  }

  clear(): void {
    this.tree = undefined;
    this.soloCount = 0;
    this.total = 0;
  }

  /** An independent copy in O(1): sorted-btree clones copy-on-write. */
  clone(): PageRangeTree {
    const copy = new PageRangeTree();
    copy.tree = this.tree?.clone();
    copy.soloStart = this.soloStart;
    copy.soloCount = this.soloCount;
    copy.total = this.total;
    return copy;
  }

  private solo(): [number, number] {
    scratch[0] = this.soloStart;
    scratch[1] = this.soloCount;
    return scratch;
  }

  /** The range starting at or below `key` (B-tree getPairOrNextLower), solo-aware. */
  private atOrBelow(key: number): [number, number] | undefined {
    if (this.soloCount > 0) return this.soloStart <= key ? this.solo() : undefined;
    return this.tree?.getPairOrNextLower(key, scratch);
  }

  /** The first range starting above `key` (the lowest range for undefined), solo-aware. */
  private above(key: number | undefined): [number, number] | undefined {
    if (this.soloCount > 0) return key === undefined || this.soloStart > key ? this.solo() : undefined;
    return this.tree?.nextHigherPair(key, scratch);
  }

  /** Move the solo range into the B-tree before a general-case mutation. */
  private unsolo(): void {
    if (this.soloCount > 0) {
      this.tree ??= new BTree<number, number>(undefined, ascending, NODE_SIZE);
      this.tree.set(this.soloStart, this.soloCount);
      this.soloCount = 0;
    }
  }

  /** After a mutation: a single remaining range moves out of the B-tree, freeing its leaf. */
  private settle(): void {
    if (this.tree === undefined || this.tree.size > 1) return;
    const only = this.tree.nextHigherPair(undefined, scratch);
    if (only !== undefined) {
      this.soloStart = only[0];
      this.soloCount = only[1];
    }
    this.tree = undefined;
  }
}

function toRange(pair: [number, number] | undefined): PageRange | undefined {
  return pair === undefined ? undefined : { startPage: pair[0], pageCount: pair[1] };
}
