/**
 * Property: whatever a guest sends (valid and invalid messages, ranges in RAM, ROM, MMIO, holes,
 * the memdev window and beyond, duplicates, overlaps, messages in the wrong state, raw garbage) and
 * whatever the user does (targets, closes, resets, time), the device keeps its accounting straight
 * and keeps answering: trees disjoint and non-adjacent, counters equal to the trees, `removed`
 * clamped to ram_total, the hot-add range within its window, no error escaping the actor.
 */
import fc from 'fast-check';
import {
  deviceCounters,
  hmpInfoBalloon,
  hmpInfoMemoryDevices,
  queryBalloon,
  queryHvBalloonStatusReport,
  queryMemoryDevices,
} from '../../../machines/hv-balloon-device/queries';
import { leafStateName } from '../../../machines/hv-balloon-device/states';
import { ramTotalPages, totalRemovedPages } from '../../../machines/hv-balloon-device/target';
import type { PageRangeTree } from '../../../machines/page-range-tree';
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';
import { applyCommand, arbCaps, arbCommand, installResponder, WINDOW } from './random-guest';

function assertTreeShape(tree: PageRangeTree): void {
  let prevEnd = -1;
  let total = 0;
  for (const r of tree.ranges()) {
    expect(r.pageCount).toBeGreaterThan(0);
    // disjoint and not adjacent: a gap of at least one page between ranges
    expect(r.startPage).toBeGreaterThan(prevEnd);
    prevEnd = r.startPage + r.pageCount;
    total += r.pageCount;
  }
  expect(total).toBe(tree.totalPages);
}

function checkInvariants(h: DeviceHarness): void {
  const snap = h.device.getSnapshot();
  expect(snap.status).not.toBe('error');
  const c = snap.context;
  const t = c.model.trees;
  for (const tree of [t.globalGuest, t.globalBoth, t.ourGuest, t.ourBoth]) assertTreeShape(tree);
  expect(c.removedGuestCtr).toBe(t.globalGuest.totalPages + t.ourGuest.totalPages);
  expect(c.removedBothCtr).toBe(t.globalBoth.totalPages + t.ourBoth.totalPages);

  const ramTotal = ramTotalPages(BOOT_RAM_PAGES, 0, c.ourRange?.added ?? 0);
  const removed = totalRemovedPages(c.removedGuestCtr, c.removedBothCtr, ramTotal);
  expect(removed).toBeLessThanOrEqual(ramTotal);
  expect(ramTotal - removed).toBeGreaterThanOrEqual(0);

  if (c.ourRange) {
    expect(c.ourRange.added + c.ourRange.unusableTail).toBeLessThanOrEqual(c.ourRange.pageCount);
    // Pages inside the window go to the range's own trees; the global trees never hold any then.
    expect(t.globalGuest.intersectsAny(WINDOW.startPage, WINDOW.pageCount)).toBe(false);
    expect(t.globalBoth.intersectsAny(WINDOW.startPage, WINDOW.pageCount)).toBe(false);
    for (const tree of [t.ourGuest, t.ourBoth]) {
      const first = tree.first();
      const last = tree.last();
      if (first) expect(first.startPage).toBeGreaterThanOrEqual(WINDOW.startPage);
      if (last) expect(last.startPage + last.pageCount).toBeLessThanOrEqual(WINDOW.startPage + WINDOW.pageCount);
    }
  } else {
    expect(t.ourGuest.totalPages + t.ourBoth.totalPages).toBe(0);
  }
  expect(Number.isInteger(c.transId) && c.transId >= 0 && c.transId <= 0xffffffff).toBe(true);
  expect(leafStateName(snap.value)).toBe(c.state);

  // The device still answers every query.
  expect(Number.isFinite(queryBalloon(snap).actual)).toBe(true);
  expect(hmpInfoBalloon(snap)).toMatch(/^balloon: actual=-?\d+\n$/);
  expect(queryHvBalloonStatusReport(snap)).toBeDefined();
  expect(queryMemoryDevices(snap).type).toBe('hv-balloon');
  expect(hmpInfoMemoryDevices(snap)).toContain('Memory device [hv-balloon]');
  expect(deviceCounters(snap).state).toBe(c.state);
}

describe('hv-balloon device: any guest behaviour (property)', () => {
  it('keeps the trees, counters and queries consistent and never fails', () => {
    fc.assert(
      fc.property(
        fc.record({
          ringBytes: fc.constantFrom(64, 128, 16_384),
          statusReport: fc.boolean(),
          respond: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          seed: fc.integer(),
          caps: arbCaps,
          commands: fc.array(arbCommand, { minLength: 1, maxLength: 40 }),
        }),
        ({ ringBytes, statusReport, respond, seed, caps, commands }) => {
          const h = new DeviceHarness({ ringBytes, statusReport });
          h.bootToIdle(caps);
          if (respond) installResponder(h, seed);
          checkInvariants(h);
          for (const cmd of commands) {
            applyCommand(h, cmd);
            h.run();
            checkInvariants(h);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
