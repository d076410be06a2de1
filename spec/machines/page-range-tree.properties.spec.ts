/**
 * Property tests: the tree against a naive model (a Set of page numbers over a small universe).
 * Whatever the sequence of operations, the tree must hold exactly the model's pages as maximal
 * runs, and every return value must agree with the model.
 */
import fc from 'fast-check';
import { PageRangeTree } from '../../machines/page-range-tree';
import type { PageRange } from '../../protocol/messages';

const UNIVERSE = 300;

type Op =
  | { kind: 'insert'; start: number; count: number }
  | { kind: 'subtract'; start: number; count: number }
  | { kind: 'pop'; max: number }
  | { kind: 'query'; start: number; count: number };

const windowArb = fc.integer({ min: 0, max: UNIVERSE }).chain((start) =>
  fc.record({ start: fc.constant(start), count: fc.integer({ min: 0, max: Math.min(60, UNIVERSE - start) }) }),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: windowArb.map(({ start, count }) => ({ kind: 'insert' as const, start, count })) },
  { weight: 2, arbitrary: windowArb.map(({ start, count }) => ({ kind: 'subtract' as const, start, count })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 80 }).map((max) => ({ kind: 'pop' as const, max })) },
  { weight: 2, arbitrary: windowArb.map(({ start, count }) => ({ kind: 'query' as const, start, count })) },
);

function countIn(model: Set<number>, start: number, count: number): number {
  let n = 0;
  for (let p = start; p < start + count; p++) if (model.has(p)) n++;
  return n;
}

/** The model's maximal runs, ascending. */
function runsOf(model: Set<number>, from = 0, to = UNIVERSE + 1): PageRange[] {
  const out: PageRange[] = [];
  let p = from;
  while (p < to) {
    if (!model.has(p)) {
      p++;
      continue;
    }
    const start = p;
    while (p < to && model.has(p)) p++;
    out.push({ startPage: start, pageCount: p - start });
  }
  return out;
}

function expectWellFormed(tree: PageRangeTree, model: Set<number>): void {
  const ranges = tree.toArray();
  expect(ranges).toEqual(runsOf(model));
  for (let i = 1; i < ranges.length; i++) {
    // Disjoint and not adjacent: a gap of at least one page between neighbours.
    expect(ranges[i].startPage).toBeGreaterThan(ranges[i - 1].startPage + ranges[i - 1].pageCount);
  }
  for (const range of ranges) expect(range.pageCount).toBeGreaterThan(0);
  expect(tree.totalPages).toBe(model.size);
  expect(tree.rangeCount).toBe(ranges.length);
  expect(tree.isEmpty).toBe(model.size === 0);
  expect(Array.from(tree.ranges({ reverse: true }))).toEqual([...ranges].reverse());
}

function apply(tree: PageRangeTree, model: Set<number>, op: Op): void {
  switch (op.kind) {
    case 'insert': {
      const already = countIn(model, op.start, op.count);
      expect(tree.insert(op.start, op.count)).toBe(already);
      for (let p = op.start; p < op.start + op.count; p++) model.add(p);
      break;
    }
    case 'subtract': {
      const present = countIn(model, op.start, op.count);
      expect(tree.subtract(op.start, op.count)).toBe(present);
      for (let p = op.start; p < op.start + op.count; p++) model.delete(p);
      break;
    }
    case 'pop': {
      const popped = tree.pop(op.max);
      if (model.size === 0) {
        expect(popped).toBeUndefined();
        break;
      }
      // The top pages of the highest run: up to `max` of them, never crossing a gap.
      const top = Math.max(...model);
      let low = top;
      while (top - low + 1 < op.max && model.has(low - 1)) low--;
      expect(popped).toEqual({ startPage: low, pageCount: top - low + 1 });
      for (let p = low; p <= top; p++) model.delete(p);
      break;
    }
    case 'query': {
      const present = countIn(model, op.start, op.count);
      expect(tree.intersectsAny(op.start, op.count)).toBe(present > 0);
      expect(tree.containsAll(op.start, op.count)).toBe(present === op.count);
      expect(tree.intersection(op.start, op.count)).toEqual(runsOf(model, op.start, op.start + op.count));
      break;
    }
  }
}

describe('PageRangeTree against a page-set model', () => {
  it('holds exactly the model pages as disjoint, non-adjacent maximal runs after any operation sequence', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const tree = new PageRangeTree();
        const model = new Set<number>();
        for (const op of ops) {
          apply(tree, model, op);
          expectWellFormed(tree, model);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('neighbour lookups agree with the model at every page', () => {
    fc.assert(
      fc.property(fc.array(windowArb, { maxLength: 15 }), (inserts) => {
        const tree = new PageRangeTree();
        const model = new Set<number>();
        for (const { start, count } of inserts) apply(tree, model, { kind: 'insert', start, count });
        const runs = runsOf(model);
        const expected: Array<[PageRange | undefined, PageRange | undefined]> = [];
        const actual: Array<[PageRange | undefined, PageRange | undefined]> = [];
        for (let page = 0; page <= UNIVERSE + 1; page++) {
          const below = runs.filter((run) => run.startPage <= page).pop();
          const atOrAbove = runs.find((run) => run.startPage + run.pageCount > page);
          expected.push([below, atOrAbove]);
          actual.push([tree.rangeBelow(page), tree.rangeAtOrAbove(page)]);
        }
        expect(actual).toEqual(expected);
        expect(tree.first()).toEqual(runs[0]);
        expect(tree.last()).toEqual(runs[runs.length - 1]);
      }),
      { numRuns: 200 },
    );
  });

  it('a clone evolves independently of its source', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), fc.array(opArb, { maxLength: 20 }), fc.array(opArb, { maxLength: 20 }), (before, onSource, onClone) => {
        const tree = new PageRangeTree();
        const model = new Set<number>();
        for (const op of before) apply(tree, model, op);
        const copy = tree.clone();
        const copyModel = new Set(model);
        for (const op of onSource) apply(tree, model, op);
        for (const op of onClone) apply(copy, copyModel, op);
        expectWellFormed(tree, model);
        expectWellFormed(copy, copyModel);
      }),
      { numRuns: 200 },
    );
  });
});
