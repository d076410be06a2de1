import { PageRangeTree } from '../../machines/page-range-tree';
import type { PageRange } from '../../protocol/messages';

const r = (startPage: number, pageCount: number): PageRange => ({ startPage, pageCount });

function treeOf(...ranges: Array<[number, number]>): PageRangeTree {
  const tree = new PageRangeTree();
  for (const [s, c] of ranges) tree.insert(s, c);
  return tree;
}

describe('PageRangeTree.insert (QEMU hv-balloon-page_range_tree.c semantics)', () => {
  it('adds a range to an empty tree with no duplicates', () => {
    const tree = new PageRangeTree();
    expect(tree.insert(100, 10)).toBe(0);
    expect(tree.toArray()).toEqual([r(100, 10)]);
    expect(tree.totalPages).toBe(10);
    expect(tree.rangeCount).toBe(1);
    expect(tree.isEmpty).toBe(false);
  });

  it('does nothing for a count of 0', () => {
    const tree = treeOf([10, 5]);
    expect(tree.insert(15, 0)).toBe(0);
    expect(tree.insert(50, 0)).toBe(0);
    expect(tree.toArray()).toEqual([r(10, 5)]);
    expect(tree.totalPages).toBe(5);
  });

  it('merges a range that ends exactly where an existing one starts (joinable left)', () => {
    const tree = treeOf([20, 10]);
    expect(tree.insert(10, 10)).toBe(0);
    expect(tree.toArray()).toEqual([r(10, 20)]);
  });

  it('merges a range that starts exactly where an existing one ends (joinable right)', () => {
    const tree = treeOf([10, 10]);
    expect(tree.insert(20, 5)).toBe(0);
    expect(tree.toArray()).toEqual([r(10, 15)]);
  });

  it('merges with neighbours on both sides when it fills the gap exactly', () => {
    const tree = treeOf([0, 10], [20, 10]);
    expect(tree.insert(10, 10)).toBe(0);
    expect(tree.toArray()).toEqual([r(0, 30)]);
    expect(tree.totalPages).toBe(30);
    expect(tree.rangeCount).toBe(1);
  });

  it('keeps ranges separate when a gap of one page remains', () => {
    const tree = treeOf([0, 10], [11, 10]);
    expect(tree.toArray()).toEqual([r(0, 10), r(11, 10)]);
  });

  it('counts the pages already present as dup, and adds only the new ones to the total', () => {
    const tree = treeOf([10, 10]); // 10..19
    expect(tree.insert(15, 10)).toBe(5); // 15..24, 15..19 present
    expect(tree.toArray()).toEqual([r(10, 15)]);
    expect(tree.totalPages).toBe(15);
  });

  it('counts a range reported twice entirely as dup (QEMU de-duplicates silently)', () => {
    const tree = treeOf([10, 10]);
    expect(tree.insert(10, 10)).toBe(10);
    expect(tree.insert(12, 3)).toBe(3);
    expect(tree.toArray()).toEqual([r(10, 10)]);
    expect(tree.totalPages).toBe(10);
  });

  it('swallows several ranges and counts each overlap once', () => {
    const tree = treeOf([0, 5], [10, 5], [20, 5], [40, 5]); // 20 pages
    // 3..29 covers 3..4 (2 present), 10..14 (5), 20..24 (5) and touches nothing else.
    expect(tree.insert(3, 27)).toBe(12);
    expect(tree.toArray()).toEqual([r(0, 30), r(40, 5)]);
    expect(tree.totalPages).toBe(35);
  });

  it('merges a range that ends exactly at the start of a later range after overlapping an earlier one', () => {
    const tree = treeOf([0, 10], [30, 10]);
    expect(tree.insert(5, 25)).toBe(5);
    expect(tree.toArray()).toEqual([r(0, 40)]);
  });
});

describe('PageRangeTree.pop', () => {
  it('returns undefined on an empty tree', () => {
    expect(new PageRangeTree().pop(10)).toBeUndefined();
  });

  it('takes pages from the high end of the highest range and shrinks it in place', () => {
    const tree = treeOf([0, 10], [100, 50]);
    expect(tree.pop(20)).toEqual(r(130, 20));
    expect(tree.toArray()).toEqual([r(0, 10), r(100, 30)]);
    expect(tree.totalPages).toBe(40);
  });

  it('removes the highest range whole when it fits, then moves to the next one', () => {
    const tree = treeOf([0, 10], [100, 50]);
    expect(tree.pop(50)).toEqual(r(100, 50));
    expect(tree.pop(1000)).toEqual(r(0, 10));
    expect(tree.pop(1)).toBeUndefined();
    expect(tree.isEmpty).toBe(true);
    expect(tree.totalPages).toBe(0);
  });

  it('rejects a maxCount of 0 or below, naming the field', () => {
    const tree = treeOf([0, 10]);
    expect(() => tree.pop(0)).toThrow(/maxCount/);
    expect(() => tree.pop(-3)).toThrow(/maxCount.*-3/);
  });
});

describe('PageRangeTree.subtract', () => {
  it('splits a range when the middle is removed', () => {
    const tree = treeOf([0, 100]);
    expect(tree.subtract(40, 20)).toBe(20);
    expect(tree.toArray()).toEqual([r(0, 40), r(60, 40)]);
    expect(tree.totalPages).toBe(80);
  });

  it('trims both ends and removes whole ranges in between, counting only present pages', () => {
    const tree = treeOf([0, 10], [20, 10], [40, 10], [60, 10]);
    // 5..44: 5 of the first, all 10 of the second, 5 of the third.
    expect(tree.subtract(5, 40)).toBe(20);
    expect(tree.toArray()).toEqual([r(0, 5), r(45, 5), r(60, 10)]);
    expect(tree.totalPages).toBe(20);
  });

  it('returns 0 and changes nothing for an absent window or a count of 0', () => {
    const tree = treeOf([10, 10]);
    expect(tree.subtract(0, 10)).toBe(0);
    expect(tree.subtract(20, 5)).toBe(0);
    expect(tree.subtract(12, 0)).toBe(0);
    expect(tree.toArray()).toEqual([r(10, 10)]);
  });

  it('removes an exact range entirely', () => {
    const tree = treeOf([10, 10], [30, 5]);
    expect(tree.subtract(10, 10)).toBe(10);
    expect(tree.toArray()).toEqual([r(30, 5)]);
  });
});

describe('PageRangeTree queries', () => {
  const tree = treeOf([10, 10], [30, 10]); // 10..19, 30..39

  it('intersectsAny: true when any page is present, false for gaps and count 0', () => {
    expect(tree.intersectsAny(0, 11)).toBe(true);
    expect(tree.intersectsAny(19, 1)).toBe(true);
    expect(tree.intersectsAny(20, 10)).toBe(false);
    expect(tree.intersectsAny(0, 10)).toBe(false);
    expect(tree.intersectsAny(0, 100)).toBe(true);
    expect(tree.intersectsAny(40, 100)).toBe(false);
    expect(tree.intersectsAny(15, 0)).toBe(false);
  });

  it('containsAll: true only when every page is present', () => {
    expect(tree.containsAll(10, 10)).toBe(true);
    expect(tree.containsAll(12, 3)).toBe(true);
    expect(tree.containsAll(15, 20)).toBe(false);
    expect(tree.containsAll(9, 2)).toBe(false);
    expect(tree.containsAll(25, 0)).toBe(true);
  });

  it('intersection: the present parts of a window, ascending', () => {
    expect(tree.intersection(15, 20)).toEqual([r(15, 5), r(30, 5)]);
    expect(tree.intersection(0, 100)).toEqual([r(10, 10), r(30, 10)]);
    expect(tree.intersection(20, 10)).toEqual([]);
    expect(tree.intersection(35, 1)).toEqual([r(35, 1)]);
  });

  it('first, last, rangeBelow and rangeAtOrAbove find neighbours', () => {
    expect(tree.first()).toEqual(r(10, 10));
    expect(tree.last()).toEqual(r(30, 10));
    expect(tree.rangeBelow(15)).toEqual(r(10, 10));
    expect(tree.rangeBelow(25)).toEqual(r(10, 10));
    expect(tree.rangeBelow(5)).toBeUndefined();
    expect(tree.rangeAtOrAbove(15)).toEqual(r(10, 10));
    expect(tree.rangeAtOrAbove(25)).toEqual(r(30, 10));
    expect(tree.rangeAtOrAbove(40)).toBeUndefined();
    expect(new PageRangeTree().first()).toBeUndefined();
    expect(new PageRangeTree().last()).toBeUndefined();
  });

  it('ranges() iterates ascending or descending, yielding copies', () => {
    expect(Array.from(tree.ranges())).toEqual([r(10, 10), r(30, 10)]);
    expect(Array.from(tree.ranges({ reverse: true }))).toEqual([r(30, 10), r(10, 10)]);
    const copy = tree.toArray();
    copy[0].pageCount = 999;
    expect(tree.first()).toEqual(r(10, 10));
  });
});

describe('PageRangeTree bookkeeping', () => {
  it('clone is independent of its source in both directions', () => {
    const a = treeOf([0, 10]);
    const b = a.clone();
    b.insert(10, 5);
    a.subtract(0, 5);
    expect(a.toArray()).toEqual([r(5, 5)]);
    expect(a.totalPages).toBe(5);
    expect(b.toArray()).toEqual([r(0, 15)]);
    expect(b.totalPages).toBe(15);
  });

  it('clear empties the tree and resets the counters', () => {
    const tree = treeOf([0, 10], [20, 10]);
    tree.clear();
    expect(tree.isEmpty).toBe(true);
    expect(tree.totalPages).toBe(0);
    expect(tree.rangeCount).toBe(0);
    expect(tree.toArray()).toEqual([]);
  });

  it('metadata grows with ranges, not pages: a 1 TiB range built from 2 MiB chunks costs at most 256 bytes', () => {
    const tree = new PageRangeTree();
    const pagesPer1TiB = 2 ** 40 / 4096;
    // 1 TiB is 524,288 chunks; a stride of 64 chunks per range keeps this quick while still
    // proving the page count does not matter: the chunks merge into one range.
    const chunk = 512 * 64;
    for (let start = 0; start < pagesPer1TiB; start += chunk) tree.insert(start, chunk);
    expect(tree.rangeCount).toBe(1);
    expect(tree.totalPages).toBe(pagesPer1TiB);
    expect(tree.metadataBytes()).toBeLessThanOrEqual(256);
    const many = new PageRangeTree();
    for (let i = 0; i < 100; i++) many.insert(i * 2, 1);
    expect(many.metadataBytes()).toBeGreaterThan(tree.metadataBytes());
  });

  it('handles page numbers far beyond 32 bits', () => {
    const top = 2 ** 52;
    const tree = treeOf([top, 10], [top + 10, 10]);
    expect(tree.toArray()).toEqual([r(top, 20)]);
    expect(tree.pop(5)).toEqual(r(top + 15, 5));
  });
});

describe('PageRangeTree input checks', () => {
  const tree = new PageRangeTree();

  it.each([
    ['startPage', -1, 1],
    ['startPage', 1.5, 1],
    ['startPage', Number.NaN, 1],
    ['pageCount', 0, -2],
    ['pageCount', 0, 0.25],
    ['pageCount', 0, Number.POSITIVE_INFINITY],
  ])('insert rejects a bad %s (%p, %p) with a RangeError naming it', (field, start, count) => {
    expect(() => tree.insert(start, count)).toThrow(RangeError);
    expect(() => tree.insert(start, count)).toThrow(new RegExp(`insert: ${field}`));
  });

  it('rejects a range ending beyond Number.MAX_SAFE_INTEGER', () => {
    expect(() => tree.insert(Number.MAX_SAFE_INTEGER - 5, 10)).toThrow(/MAX_SAFE_INTEGER/);
    expect(() => tree.subtract(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
    expect(tree.insert(Number.MAX_SAFE_INTEGER - 5, 5)).toBe(0);
  });

  it('query methods check their arguments too', () => {
    expect(() => tree.intersectsAny(-1, 1)).toThrow(/intersectsAny: startPage/);
    expect(() => tree.containsAll(0, -1)).toThrow(/containsAll: pageCount/);
    expect(() => tree.intersection(0.5, 1)).toThrow(/intersection: startPage/);
    expect(() => tree.rangeBelow(-1)).toThrow(/rangeBelow: page/);
    expect(() => tree.rangeAtOrAbove(Number.NaN)).toThrow(/rangeAtOrAbove: page/);
  });
});
