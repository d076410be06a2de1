/**
 * The device's pure helpers: target maths, memslot plan and hot-add sizing, and the classification
 * of reported pages against the memdev window (QEMU hv-balloon.c
 * hv_balloon_idle_state_process_target, hv_balloon_decide_memslots, hv_balloon_hot_add_setup,
 * hv_balloon_handle_remove_ranges; hv-balloon-our_range_memslots.c).
 */
import { DeviceOutput } from '../../../machines/hv-balloon-device/output';
import { sendResultForMessage, warnings } from '../../../machines/hv-balloon-device/warnings';
import {
  hotAddAlignPages,
  hotAddChunkMax,
  newOurRange,
  planMemslots,
  plannedHotAddCount,
  slotRange,
  slotsToMap,
} from '../../../machines/hv-balloon-device/our-range';
import { lowerBalloonDiff, recordRemovedRanges, RemovedPageTrees } from '../../../machines/hv-balloon-device/removed-pages';
import { planForTarget, totalRemovedPages } from '../../../machines/hv-balloon-device/target';
import { FakeHostMemory, PC_BIOS } from './fake-host-memory';

const base = { ramTotal: 1000, removedGuestCtr: 0, removedBothCtr: 0, canBalloon: true, canHotAdd: true };

describe('target maths (QEMU hv_balloon_idle_state_process_target)', () => {
  it('clamps removed pages to ram_total', () => {
    expect(totalRemovedPages(700, 600, 1000)).toBe(1000);
    expect(totalRemovedPages(100, 200, 1000)).toBe(300);
  });

  it('unballoons before hot-adding, and hot-adds only with the capability', () => {
    expect(planForTarget({ ...base, target: 1500, removedBothCtr: 200 })).toEqual({ kind: 'unballoon', unballoonDiff: 200, hotAddDiff: 500 });
    expect(planForTarget({ ...base, target: 1500, removedBothCtr: 200, canHotAdd: false })).toEqual({
      kind: 'unballoon',
      unballoonDiff: 200,
      hotAddDiff: 0,
    });
    expect(planForTarget({ ...base, target: 1500 })).toEqual({ kind: 'hotAdd', unballoonDiff: 0, hotAddDiff: 500 });
    expect(planForTarget({ ...base, target: 1500, canHotAdd: false })).toEqual({ kind: 'growNothing', unballoonDiff: 0, hotAddDiff: 0 });
  });

  it('balloons only with the capability, and does nothing at the target', () => {
    expect(planForTarget({ ...base, target: 400 })).toEqual({ kind: 'balloon', balloonDiff: 600 });
    expect(planForTarget({ ...base, target: 400, canBalloon: false })).toEqual({ kind: 'none' });
    expect(planForTarget({ ...base, target: 1000 })).toEqual({ kind: 'none' });
  });

  it('with more removed than RAM, the guest counts as size 0', () => {
    expect(planForTarget({ ...base, target: 300, removedGuestCtr: 5000 })).toEqual({ kind: 'unballoon', unballoonDiff: 300, hotAddDiff: 0 });
  });
});

describe('hot-add range and memslots', () => {
  it('plans memslots as QEMU: align_up(size / limit, 128 MiB), one slot covers everything', () => {
    const GiBp = 262_144;
    expect(planMemslots(32 * GiBp, 256)).toEqual({ count: 256, slotPages: 32_768 });
    expect(planMemslots(4 * GiBp, 256)).toEqual({ count: 32, slotPages: 32_768 });
    expect(planMemslots(4 * GiBp, 1)).toEqual({ count: 1, slotPages: 4 * GiBp });
    // (3 GiB + 100 pages) / 2 = 1.5 GiB + 50 pages, aligned up to 13 x 128 MiB
    expect(planMemslots(3 * GiBp + 100, 2)).toEqual({ count: 2, slotPages: 13 * 32_768 });
  });

  it('the last slot ends at the window end', () => {
    const plan = planMemslots(100_000, 256);
    const range = newOurRange({ startPage: 1_000_000, pageCount: 100_000 });
    expect(plan).toEqual({ count: 4, slotPages: 32_768 });
    expect(slotRange(plan, range, 3)).toEqual({ startPage: 1_000_000 + 3 * 32_768, pageCount: 100_000 - 3 * 32_768 });
  });

  it('maps from the first unmapped slot every slot starting below added + additional', () => {
    const plan = { count: 8, slotPages: 100 };
    const range = { ...newOurRange({ startPage: 0, pageCount: 800 }), added: 150, mappedSlots: 2 };
    expect(slotsToMap(plan, range, 200)).toEqual([2, 3]);
    expect(slotsToMap(plan, range, 0)).toEqual([]);
  });

  it('aligns the planned count down and chooses the chunk size', () => {
    const range = newOurRange({ startPage: 0, pageCount: 1_000_000 });
    expect(hotAddAlignPages(7)).toBe(32_768);
    expect(plannedHotAddCount(range, 40_000, 32_768)).toBe(32_768);
    expect(plannedHotAddCount({ ...range, added: 900_000, unusableTail: 50_000 }, 999_999, 256)).toBe(49_920);
    expect(hotAddChunkMax(hotAddAlignPages(7))).toBe(524_288);
    expect(hotAddChunkMax(hotAddAlignPages(12))).toBe(1_048_576);
  });
});

describe('classification of reported pages', () => {
  it('splits a run against the WHOLE memdev window: below and above go to the global tree', () => {
    const trees = new RemovedPageTrees();
    const out = new DeviceOutput();
    const window = { startPage: 0x200000, pageCount: 0x1000 };
    // All of it is a hole in the fake map: one "guest" run crossing the window.
    const recorded = recordRemovedRanges([{ startPage: 0x1ff000, pageCount: 0x3000 }], {
      trees,
      memory: new FakeHostMemory(),
      ourWindow: window,
      out,
    });
    expect(recorded).toEqual({ guest: 0x3000, both: 0 });
    expect(trees.globalGuest.toArray()).toEqual([
      { startPage: 0x1ff000, pageCount: 0x1000 },
      { startPage: 0x201000, pageCount: 0x1000 },
    ]);
    expect(trees.ourGuest.toArray()).toEqual([window]);
    expect(out.emitted.filter((e) => e.type === 'trace').map((e) => e.type === 'trace' && e.name)).toEqual([
      'hv_balloon_remove_response',
      'hv_balloon_remove_response_hole',
      'hv_balloon_remove_response_common',
      'hv_balloon_remove_response_remainder',
    ]);
  });

  it('flushes a bucket\'s run when the next step cannot join it, and the "both" run before the "guest" run', () => {
    const trees = new RemovedPageTrees();
    const out = new DeviceOutput();
    recordRemovedRanges(
      [
        { startPage: 0x1000, pageCount: 4 },
        PC_BIOS,
        { startPage: 0x1004, pageCount: 4 }, // joins the first "both" run
        { startPage: 0x3000, pageCount: 2 }, // cannot join: flushes [0x1000, 8)
      ],
      { trees, memory: new FakeHostMemory(), ourWindow: undefined, out },
    );
    const flushed = out.emitted.filter((e) => e.type === 'trace' && e.name === 'hv_balloon_remove_response');
    expect(flushed.map((e) => e.type === 'trace' && e.args)).toEqual([
      { count: 8, start: 0x1000, both: true },
      { count: 2, start: 0x3000, both: true },
      { count: PC_BIOS.pageCount, start: PC_BIOS.startPage, both: false },
    ]);
    expect(trees.globalBoth.totalPages).toBe(10);
  });

  it('discards merged "both" runs once, after recording', () => {
    const memory = new FakeHostMemory();
    recordRemovedRanges(
      [
        { startPage: 0x1000, pageCount: 4 },
        { startPage: 0x1004, pageCount: 4 },
        { startPage: 0x1002, pageCount: 4 },
      ],
      { trees: new RemovedPageTrees(), memory, ourWindow: undefined, out: new DeviceOutput() },
    );
    expect(memory.discards).toEqual([{ startPage: 0x1000, pageCount: 8 }]);
  });

  it('lowers balloon_diff, or zeroes it with a warning on an over-report', () => {
    const out = new DeviceOutput();
    expect(lowerBalloonDiff(100, 40, out)).toBe(60);
    expect(lowerBalloonDiff(10, 40, out)).toBe(0);
    expect(out.warnings.map((w) => w.text)).toEqual(['guest reported more pages removed than currently pending (40 vs 10)']);
  });
});

describe('the errno in "error %zd when posting ... msg"', () => {
  it('is -28 (ENOSPC) for a full ring and -22 (EINVAL) for a closed channel, never 0', () => {
    expect(sendResultForMessage(-1)).toBe(-28);
    expect(sendResultForMessage(0)).toBe(-22);
    expect(warnings.postingFailed('balloon', sendResultForMessage(0)).text).toBe('error -22 when posting balloon msg, expect problems');
  });
});
