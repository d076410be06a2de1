/**
 * recordRemovedRanges classifies a group of ascending adjacent ranges inside one aligned RAM
 * section in one step (a Linux guest reports its 2 MiB units in order). That must be exactly what
 * QEMU's range-by-range walk gives: same trees, same totals, same warnings and trace points in the
 * same order, same discards. The oracle is the same response with an empty range between every two
 * ranges: an empty range does nothing (QEMU walks none of its pages) but no group spans it.
 */
import fc from 'fast-check';
import { DeviceOutput } from '../../../machines/hv-balloon-device/output';
import { recordRemovedRanges, RemovedPageTrees } from '../../../machines/hv-balloon-device/removed-pages';
import type { PageRange } from '../../../protocol/messages';
import { FakeHostMemory, HIGH_RAM, PC_BIOS, VGA } from './fake-host-memory';

interface Outcome {
  recorded: { guest: number; both: number };
  trees: PageRange[][];
  emitted: unknown[];
  discards: PageRange[];
}

function record(ranges: PageRange[], ourWindow: PageRange | undefined, seed: PageRange[]): Outcome {
  const trees = new RemovedPageTrees();
  const memory = new FakeHostMemory({ unalignedRam: { startPage: 0x5000, pageCount: 0x100 } });
  // An earlier response, so that runs can join or clash with what the trees already hold.
  recordRemovedRanges(seed, { trees, memory, ourWindow, out: new DeviceOutput() });
  memory.discards.length = 0;
  const out = new DeviceOutput();
  const recorded = recordRemovedRanges(ranges, { trees, memory, ourWindow, out });
  return {
    recorded,
    trees: [trees.globalGuest, trees.globalBoth, trees.ourGuest, trees.ourBoth].map((t) => t.toArray()),
    emitted: out.emitted,
    discards: memory.discards,
  };
}

// Starts near the interesting edges: low RAM and VGA, an unaligned stretch, the 3 GiB PCI hole,
// the BIOS, RAM above 4 GiB, and a memdev window used as "our range".
const anchors = [0, VGA.startPage - 8, 0x4ff0, 0x5000, 0xbff00, PC_BIOS.startPage - 4, HIGH_RAM.startPage - 8, HIGH_RAM.startPage + 0x1000];
const WINDOW: PageRange = { startPage: HIGH_RAM.startPage + 0x1200, pageCount: 0x400 };

/**
 * Runs of adjacent ranges (ascending), sometimes empty, placed at an anchor, or just below the
 * previous run (the run, or only its first range, ends where the previous one starts), or over it.
 */
const response = fc
  .array(
    fc.record({
      anchor: fc.constantFrom(...anchors),
      offset: fc.integer({ min: 0, max: 0x600 }),
      place: fc.constantFrom('anchor', 'below', 'firstBelow', 'over'),
      sizes: fc.array(fc.integer({ min: 0, max: 0x200 }), { minLength: 1, maxLength: 6 }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((groups) => {
    const out: PageRange[] = [];
    let previous: number | undefined;
    for (const g of groups) {
      const total = g.sizes.reduce((a, b) => a + b, 0);
      let start = g.anchor + g.offset;
      if (previous !== undefined && g.place === 'below') start = Math.max(0, previous - total);
      if (previous !== undefined && g.place === 'firstBelow') start = Math.max(0, previous - g.sizes[0]!);
      if (previous !== undefined && g.place === 'over') start = previous;
      previous = start;
      for (const size of g.sizes) {
        out.push({ startPage: start, pageCount: size });
        start += size;
      }
    }
    return out;
  });

describe('classification of reported pages: groups of adjacent ranges', () => {
  it('gives what the ranges give one by one (trees, totals, warnings, trace points, discards)', () => {
    fc.assert(
      fc.property(response, response, fc.boolean(), (ranges, seed, withWindow) => {
        const window = withWindow ? WINDOW : undefined;
        const ungrouped = ranges.flatMap((r) => [r, { startPage: r.startPage, pageCount: 0 }]);
        expect(record(ranges, window, seed)).toEqual(record(ungrouped, window, seed));
      }),
      { numRuns: 400, seed: 14 },
    );
  });

  it('looks a group of 2 MiB units up once: 510 units, one section lookup', () => {
    const memory = new FakeHostMemory();
    let lookups = 0;
    const findSection = memory.findSection.bind(memory);
    memory.findSection = (page, maxPages) => {
      lookups++;
      return findSection(page, maxPages);
    };
    const units = Array.from({ length: 510 }, (_, i) => ({ startPage: HIGH_RAM.startPage + 512 * i, pageCount: 512 }));
    const trees = new RemovedPageTrees();
    const recorded = recordRemovedRanges(units, { trees, memory, ourWindow: undefined, out: new DeviceOutput() });
    expect(recorded).toEqual({ guest: 0, both: 510 * 512 });
    expect(trees.globalBoth.toArray()).toEqual([{ startPage: HIGH_RAM.startPage, pageCount: 510 * 512 }]);
    expect(lookups).toBe(1);
  });
});
