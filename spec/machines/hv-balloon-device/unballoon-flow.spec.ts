/**
 * Growing the guest back: unballoon requests, tree priority, the high-end pop and the single
 * response (QEMU hv-balloon.c hv_balloon_idle_state_process_target, hv_balloon_unballoon_posting,
 * hv_balloon_handle_unballoon_response).
 */
import { HOT_ADD_CHUNK_PAGES } from '../../../protocol/constants';
import type { PageRange } from '../../../protocol/messages';
import { BOOT_RAM_PAGES, PC_BIOS, PCI_HOLE_START } from './fake-host-memory';
import { DeviceHarness, GiB } from './harness';

const WINDOW_START = (32 * GiB) / 4096;

/** Balloon `ranges` out of an IDLE device (the target asks for exactly their size). */
function balloonOut(h: DeviceHarness, ranges: PageRange[]): void {
  const pages = ranges.reduce((n, r) => n + r.pageCount, 0);
  const current = BOOT_RAM_PAGES + (h.context.ourRange?.added ?? 0) - h.context.removedBothCtr - h.context.removedGuestCtr;
  h.setTarget(current - pages);
  h.balloonResponse(ranges);
  expect(h.state).toBe('S_IDLE');
}

/** Hot-add `pages` (aligned) and let the guest accept every request. */
function hotAdd(h: DeviceHarness, pages: number): void {
  h.guest.onMessage = (m) => {
    if (m.type === 'DM_MEM_HOT_ADD_REQUEST') {
      h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: m.transId, pageCount: m.range.pageCount, result: 1 });
    }
  };
  h.setTarget(BOOT_RAM_PAGES + (h.context.ourRange?.added ?? 0) + pages);
  h.run(10);
  h.guest.onMessage = undefined;
  expect(h.state).toBe('S_IDLE');
}

function unballoonRequests(h: DeviceHarness) {
  return h.guest.messages('DM_UNBALLOON_REQUEST').map((m) => ({ transId: m.transId, more: m.morePages, ranges: m.ranges }));
}

describe('hv-balloon device: unballoon flow', () => {
  it('returns one range per request, global guest tree first, then global both; one trans_id; one response', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    // 100 RAM pages (both), the 64-page BIOS ROM and 36 pages of the PCI hole (guest).
    balloonOut(h, [
      { startPage: 0x1000, pageCount: 100 },
      { startPage: 0x5000, pageCount: 50 },
      PC_BIOS,
      { startPage: PCI_HOLE_START, pageCount: 36 },
    ]);
    expect(h.context.removedGuestCtr).toBe(100);
    expect(h.context.removedBothCtr).toBe(150);
    expect(h.context.transId).toBe(1);

    h.setTarget(BOOT_RAM_PAGES);
    expect(unballoonRequests(h)).toEqual([
      { transId: 1, more: true, ranges: [PC_BIOS] },
      { transId: 1, more: true, ranges: [{ startPage: PCI_HOLE_START, pageCount: 36 }] },
      { transId: 1, more: true, ranges: [{ startPage: 0x5000, pageCount: 50 }] },
      { transId: 1, more: false, ranges: [{ startPage: 0x1000, pageCount: 100 }] },
    ]);
    expect(h.state).toBe('S_UNBALLOON_REPLY_WAIT');
    expect(h.context.removedGuestCtr).toBe(0);
    expect(h.context.removedBothCtr).toBe(0);

    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 1 });
    h.run();
    expect(h.state).toBe('S_IDLE');
    expect(h.context.transId).toBe(2);
  });

  it('pops from the highest range at its high end when less is needed', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    balloonOut(h, [
      { startPage: 0x1000, pageCount: 100 },
      { startPage: 0x5000, pageCount: 50 },
    ]);
    h.setTarget(BOOT_RAM_PAGES - 150 + 30);
    expect(unballoonRequests(h)).toEqual([{ transId: 1, more: false, ranges: [{ startPage: 0x5000 + 20, pageCount: 30 }] }]);
    expect(h.context.model.trees.globalBoth.toArray()).toEqual([
      { startPage: 0x1000, pageCount: 100 },
      { startPage: 0x5000, pageCount: 20 },
    ]);
    expect(h.context.removedBothCtr).toBe(120);
  });

  it('returns at most 524 288 pages per range', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    const big = { startPage: 0x100, pageCount: 600_000 };
    h.setTarget(BOOT_RAM_PAGES - 600_000);
    h.balloonResponse([{ startPage: 0x100, pageCount: 585_728 }]);
    h.balloonResponse([{ startPage: 0x100 + 585_728, pageCount: 600_000 - 585_728 }]);
    expect(h.context.model.trees.globalBoth.toArray()).toEqual([big]);
    h.setTarget(BOOT_RAM_PAGES);
    expect(unballoonRequests(h)).toEqual([
      { transId: 2, more: true, ranges: [{ startPage: 0x100 + 600_000 - HOT_ADD_CHUNK_PAGES, pageCount: HOT_ADD_CHUNK_PAGES }] },
      { transId: 2, more: false, ranges: [{ startPage: 0x100, pageCount: 600_000 - HOT_ADD_CHUNK_PAGES }] },
    ]);
  });

  it('returns boot memory before hot-added memory: our guest tree, then our both tree, come last', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    hotAdd(h, 65_536); // 256 MiB: slots 0 and 1 mapped
    expect(h.context.ourRange?.added).toBe(65_536);
    // Inside the window: 10 mapped RAM pages (ours both) and 10 pages beyond the mapped slots (ours guest).
    balloonOut(h, [
      { startPage: WINDOW_START + 100, pageCount: 10 },
      { startPage: WINDOW_START + 3 * 32_768, pageCount: 10 },
      { startPage: 0x2000, pageCount: 5 },
    ]);
    expect(h.context.model.trees.ourBoth.totalPages).toBe(10);
    expect(h.context.model.trees.ourGuest.totalPages).toBe(10);
    expect(h.context.model.trees.globalBoth.totalPages).toBe(5);
    h.setTarget(BOOT_RAM_PAGES + 65_536);
    expect(unballoonRequests(h).map((r) => r.ranges[0])).toEqual([
      { startPage: 0x2000, pageCount: 5 },
      { startPage: WINDOW_START + 3 * 32_768, pageCount: 10 },
      { startPage: WINDOW_START + 100, pageCount: 10 },
    ]);
  });

  it('unballoons first and hot-adds the rest after the unballoon response', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    balloonOut(h, [{ startPage: 0x1000, pageCount: 1000 }]);
    h.setTarget(BOOT_RAM_PAGES + 32_768);
    expect(h.context.unballoonDiff).toBe(0);
    expect(h.context.hotAddDiff).toBe(32_768);
    expect(unballoonRequests(h)).toHaveLength(1);
    expect(h.guest.messages('DM_MEM_HOT_ADD_REQUEST')).toEqual([]);
    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 1 });
    h.run();
    expect(h.guest.messages('DM_MEM_HOT_ADD_REQUEST')).toHaveLength(1);
    expect(h.state).toBe('S_HOT_ADD_REPLY_WAIT');
  });

  it('warns about an unballoon response while requests are still going out, and waits for the real one', () => {
    const h = new DeviceHarness({ ringBytes: 128 });
    h.bootToIdle();
    balloonOut(h, [
      { startPage: 0x1000, pageCount: 10 },
      { startPage: 0x2000, pageCount: 10 },
      { startPage: 0x3000, pageCount: 10 },
    ]);
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES);
    // Two 48-byte requests fill the 128-byte ring; the device waits for room.
    expect(h.state).toBe('S_UNBALLOON_RB_WAIT');
    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 1 });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['unexpected DM_UNBALLOON_RESPONSE in 11 state']);
    h.guest.autoDrain = true;
    h.guest.drain();
    h.run();
    expect(h.state).toBe('S_UNBALLOON_REPLY_WAIT');
    expect(h.guest.messages('DM_UNBALLOON_REQUEST').map((m) => m.morePages)).toEqual([true, true, false]);
    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 1 });
    h.run();
    expect(h.state).toBe('S_IDLE');
  });

  it('stays IDLE when the guest should grow but nothing is ballooned and it cannot hot-add', () => {
    const h = new DeviceHarness();
    h.bootToIdle({ balloon: true, hotAdd: false, hotAddAlignment: 7, hotRemove: false });
    h.setTarget(BOOT_RAM_PAGES + 1000);
    expect(h.state).toBe('S_IDLE');
    expect(h.warnings()).toEqual([]);
    expect(h.context.targetChanged).toBe(false);
  });
});
