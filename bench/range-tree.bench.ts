/**
 * PageRangeTree benchmarks: merge throughput, the cost of one huge range, and a check of the
 * metadataBytes() constants against the measured heap.
 */
import { performance } from 'node:perf_hooks';
import { PageRangeTree } from '../machines/page-range-tree';
import type { Benchmark } from './benchmark';
import { heapUsedAfterGc } from './heap';

/** 2 MiB in 4 KiB pages: the Linux driver's balloon unit. */
const UNIT_PAGES = 512;
const PAGES_PER_TIB = 2 ** 40 / 4096;

/** Deterministic Fisher-Yates order of 0..n-1 (a 32-bit LCG; no Math.random). */
function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let state = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Fills one tree with `units` 2 MiB units in a seeded random order (a guest hands back balloon
 * units from all over its memory), so each insert merges left, right, both or neither; checks
 * the result is one range. Only the inserts are timed.
 */
function fillScattered(units: number): { tree: PageRangeTree; peakRanges: number; wallMs: number; cpuMs: number } {
  const order = shuffledOrder(units, 1);
  const tree = new PageRangeTree();
  let peakRanges = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < units; i++) {
    tree.insert(order[i] * UNIT_PAGES, UNIT_PAGES);
    if (tree.rangeCount > peakRanges) peakRanges = tree.rangeCount;
  }
  const wallMs = performance.now() - t0;
  // CPU time of this process (GC threads included): less sensitive than wall time to other
  // processes sharing the machine.
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (tree.rangeCount !== 1 || tree.totalPages !== units * UNIT_PAGES) {
    throw new Error(`range-tree bench: expected one range of ${units * UNIT_PAGES} pages, got ${tree.rangeCount} ranges, ${tree.totalPages} pages`);
  }
  return { tree, peakRanges, wallMs, cpuMs };
}

export const rangeTreeMerge1M: Benchmark = {
  name: 'range-tree-merge-1M',
  description: '1,000,000 inserts of 2 MiB units in random order, merging with whichever neighbours are present, ending as one range',
  target: { figure: 'wallMs', op: '<=', value: 1000, unit: 'ms' },
  run() {
    const units = 1_000_000;
    const { peakRanges, wallMs, cpuMs } = fillScattered(units);
    return { wallMs, nsPerInsert: (wallMs * 1e6) / units, cpuMs, peakRanges, finalRanges: 1 };
  },
};

export const rangeTree1TiB: Benchmark = {
  name: 'range-tree-1TiB',
  description: 'one contiguous 1 TiB range built from 524,288 inserts of 512-page chunks (random order)',
  target: { figure: 'metadataBytes', op: '<=', value: 256, unit: 'B' },
  run() {
    const units = PAGES_PER_TIB / UNIT_PAGES;
    const { tree, peakRanges, wallMs } = fillScattered(units);
    return { metadataBytes: tree.metadataBytes(), ranges: tree.rangeCount, peakRanges, wallMs };
  },
};

/**
 * Measured heap bytes of one tree of `n` disjoint ranges inserted in `order`, averaged over
 * enough copies to rise above allocator noise; and the tree's own estimate.
 */
function measureTrees(n: number, order: 'ascending' | 'shuffled'): { measured: number; estimate: number } {
  const copies = Math.max(1, Math.min(10_000, Math.floor(200_000 / Math.max(n, 1))));
  const indices = order === 'ascending' ? Array.from({ length: n }, (_, i) => i) : shuffledOrder(n, n);
  const trees: PageRangeTree[] = new Array<PageRangeTree>(copies);
  const before = heapUsedAfterGc();
  for (let c = 0; c < copies; c++) {
    const tree = new PageRangeTree();
    // Gaps between ranges keep them from merging; page numbers above 2^31 on purpose.
    for (const i of indices) tree.insert(2 ** 40 + i * 2 * UNIT_PAGES, UNIT_PAGES);
    trees[c] = tree;
  }
  const measured = (heapUsedAfterGc() - before) / copies;
  return { measured, estimate: trees[0].metadataBytes() };
}

export const rangeTreeMetadata: Benchmark = {
  name: 'range-tree-metadata',
  description: 'measured heap of trees of 0 to 200,000 ranges (ascending and random inserts) against metadataBytes(); the target bounds under-reporting',
  target: { figure: 'worstMeasuredToEstimate', op: '<=', value: 1.25, unit: 'x' },
  run() {
    const figures: Record<string, number> = {};
    let worst = 0;
    let best = Number.POSITIVE_INFINITY;
    for (const n of [0, 1, 2, 17, 65, 100, 1000, 10_000, 200_000]) {
      for (const order of ['ascending', 'shuffled'] as const) {
        if (n < 3 && order === 'shuffled') continue;
        const { measured, estimate } = measureTrees(n, order);
        worst = Math.max(worst, measured / estimate);
        best = Math.min(best, measured / estimate);
        if (n === 0) figures.emptyTreeBytes = measured;
        if (n === 1) figures.oneRangeTreeBytes = measured;
        if (n === 1000 && order === 'shuffled') figures.bytesPerRange1k = measured / n;
        if (n === 200_000) figures[order === 'shuffled' ? 'bytesPerRange200kShuffled' : 'bytesPerRange200kAscending'] = measured / n;
      }
    }
    figures.worstMeasuredToEstimate = worst;
    figures.bestMeasuredToEstimate = best;
    return figures;
  },
};
