/**
 * Every malicious-guest case QEMU's hv-balloon.c handles (docs/host-device.md lists them), plus
 * the other classification warnings of hv_balloon_handle_remove_ranges: QEMU's warning text, the
 * counters and the accounting.
 */
import { encode } from '../../../protocol/codec';
import { queryBalloon } from '../../../machines/hv-balloon-device/queries';
import { totalRemovedPages } from '../../../machines/hv-balloon-device/target';
import { BOOT_RAM_PAGES, HIGH_RAM, PC_BIOS, PCI_HOLE_START, VGA } from './fake-host-memory';
import { DeviceHarness, GiB, LINUX_CAPS } from './harness';

const WINDOW_START = (32 * GiB) / 4096;
const WINDOW_PAGES = (4 * GiB) / 4096;
const MiB128 = 32_768;

/** An IDLE device asked to remove `pages`; the guest then answers with `ranges`. */
function balloonWith(h: DeviceHarness, pages: number, ranges: { startPage: number; pageCount: number }[]): void {
  h.setTarget(BOOT_RAM_PAGES + (h.context.ourRange?.added ?? 0) - h.context.removedGuestCtr - h.context.removedBothCtr - pages);
  h.balloonResponse(ranges);
}

function hotAddAll(h: DeviceHarness, pages: number): void {
  h.guest.onMessage = (m) => {
    if (m.type === 'DM_MEM_HOT_ADD_REQUEST') h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: m.range.pageCount, result: 1 });
  };
  h.setTarget(BOOT_RAM_PAGES + (h.context.ourRange?.added ?? 0) + pages);
  h.run(10);
  h.guest.onMessage = undefined;
}

function idle(options?: ConstructorParameters<typeof DeviceHarness>[0]): DeviceHarness {
  const h = new DeviceHarness(options);
  h.bootToIdle();
  return h;
}

describe('hv-balloon device: malicious or buggy guests (QEMU hv-balloon.c malicious-guest cases)', () => {
  it('pages outside any memory region: one warning per page, counted in removed_guest', () => {
    const h = idle();
    balloonWith(h, 100, [{ startPage: PCI_HOLE_START, pageCount: 100 }]);
    const w = h.warnings('removedPageNotFound');
    // Recorded once with the page count: QEMU prints it for pages 786432 .. 786531.
    expect(w).toEqual([
      { type: 'warning', kind: 'removedPageNotFound', level: 'warning', text: `guest reported removed page ${PCI_HOLE_START} not found in RAM`, repeat: 100 },
    ]);
    expect(h.context.counters.removedPageNotFound).toBe(100);
    expect(h.context.removedGuestCtr).toBe(100);
    expect(h.context.removedBothCtr).toBe(0);
    expect(h.context.model.trees.globalGuest.toArray()).toEqual([{ startPage: PCI_HOLE_START, pageCount: 100 }]);
    expect(h.memory.discards).toEqual([]);
    // query-balloon subtracts only "both" pages.
    expect(queryBalloon(h.snapshot).actual).toBe(BOOT_RAM_PAGES * 4096);
  });

  it('pages outside any region but inside the memdev window go to our removed_guest tree', () => {
    const h = idle();
    hotAddAll(h, MiB128);
    balloonWith(h, 50, [{ startPage: WINDOW_START + 2 * MiB128, pageCount: 50 }]);
    expect(h.warnings('removedPageNotFound')[0]?.text).toBe(`guest reported removed page ${WINDOW_START + 2 * MiB128} not found in RAM`);
    expect(h.context.model.trees.ourGuest.toArray()).toEqual([{ startPage: WINDOW_START + 2 * MiB128, pageCount: 50 }]);
    expect(h.context.model.trees.globalGuest.totalPages).toBe(0);
    expect(h.context.removedGuestCtr).toBe(50);
  });

  it('pages in ROM, ROMD or MMIO: one warning per section, counted in the guest bucket', () => {
    const h = idle();
    balloonWith(h, PC_BIOS.pageCount + VGA.pageCount, [PC_BIOS, VGA]);
    expect(h.warnings().map((w) => [w.text, w.repeat])).toEqual([
      [`guest reported removed page ${PC_BIOS.startPage} in a section that is not an ordinary RAM`, 1],
      [`guest reported removed page ${VGA.startPage} in a section that is not an ordinary RAM`, 1],
    ]);
    expect(h.context.counters.removedPageNotRam).toBe(2);
    expect(h.context.removedGuestCtr).toBe(PC_BIOS.pageCount + VGA.pageCount);
    expect(h.memory.discards).toEqual([]);
  });

  it('the same page twice into the same tree: de-duplicated silently, not counted again', () => {
    const h = idle();
    balloonWith(h, 20, [
      { startPage: 0x1000, pageCount: 10 },
      { startPage: 0x1000, pageCount: 10 },
    ]);
    expect(h.warnings()).toEqual([]);
    expect(h.context.removedBothCtr).toBe(10);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT'); // 10 of the 20 pages are still pending
    h.balloonResponse([{ startPage: 0x1000, pageCount: 10 }]); // across responses too
    expect(h.context.removedBothCtr).toBe(10);
  });

  it('the same page once as "guest" and once as "both" (different trees) counts twice', () => {
    const h = idle();
    hotAddAll(h, MiB128); // slot 0 mapped
    // P lies in slot 2, not mapped yet: "not found", our removed_guest. The 5 GiB of holes push
    // guest + both above ram_total, so the next grow unballoons only those (clamp) and leaves P.
    const p = { startPage: WINDOW_START + 2 * MiB128 + 5, pageCount: 1 };
    const holes = { startPage: HIGH_RAM.startPage + HIGH_RAM.pageCount, pageCount: 5 * 262_144 };
    balloonWith(h, 1, [holes, p]);
    expect(h.context.model.trees.ourGuest.toArray()).toEqual([p]);
    h.guest.onMessage = (m) => {
      if (m.type === 'DM_UNBALLOON_REQUEST' && !m.morePages) h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: m.transId });
      if (m.type === 'DM_MEM_HOT_ADD_REQUEST') h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: m.range.pageCount, result: 1 });
    };
    const ramTotal = BOOT_RAM_PAGES + MiB128;
    h.setTarget(ramTotal + 3 * MiB128); // unballoon ram_total pages of holes, then hot-add slots 1-3
    h.run(10);
    expect(h.context.ourRange).toMatchObject({ added: 4 * MiB128, mappedSlots: 4 });
    expect(h.context.model.trees.ourGuest.toArray()).toEqual([p]);
    // Now P is mapped RAM: reported again, it lands in our removed_both as well.
    h.guest.onMessage = undefined;
    balloonWith(h, 1, [p]);
    expect(h.context.model.trees.ourBoth.toArray()).toEqual([p]);
    expect(h.context.model.trees.ourGuest.toArray()).toEqual([p]);
    expect(h.context.removedBothCtr).toBe(1);
    expect(h.context.removedGuestCtr).toBe(5 * 262_144 - ramTotal + 1);
  });

  it('guest + both counters above ram_total (pages outside RAM) are clamped in the target maths', () => {
    const h = idle();
    // 5 GiB of holes above the high RAM: more than the whole 4 GiB guest.
    const hole = { startPage: HIGH_RAM.startPage + HIGH_RAM.pageCount, pageCount: 5 * 262_144 };
    balloonWith(h, 1000, [hole]);
    expect(h.context.removedGuestCtr).toBe(5 * 262_144);
    expect(totalRemovedPages(h.context.removedGuestCtr, h.context.removedBothCtr, BOOT_RAM_PAGES)).toBe(BOOT_RAM_PAGES);
    // current = ram_total - min(removed, ram_total) = 0: a 1 GiB target unballoons 1 GiB, no more.
    h.setTarget(262_144);
    expect(h.guest.messages('DM_UNBALLOON_REQUEST').map((m) => [m.morePages, m.ranges[0]?.pageCount])).toEqual([[false, 262_144]]);
    expect(h.context.hotAddDiff).toBe(0);
    expect(h.context.removedGuestCtr).toBe(4 * 262_144);
  });

  it('overlapping ranges within one response and across responses are merged, the overlap counted once', () => {
    const h = idle();
    balloonWith(h, 300, [
      { startPage: 0x1000, pageCount: 100 },
      { startPage: 0x1032, pageCount: 100 },
    ]);
    expect(h.context.removedBothCtr).toBe(150);
    h.balloonResponse([{ startPage: 0x1080, pageCount: 100 }]);
    expect(h.context.model.trees.globalBoth.toArray()).toEqual([{ startPage: 0x1000, pageCount: 0x80 + 100 }]);
    expect(h.context.removedBothCtr).toBe(0x80 + 100);
    expect(h.warnings()).toEqual([]);
  });

  it('more pages reported than pending: warning, balloon_diff = 0, every page still recorded', () => {
    const h = idle();
    balloonWith(h, 10, [{ startPage: 0x1000, pageCount: 64 }]);
    expect(h.warnings().map((w) => w.text)).toEqual(['guest reported more pages removed than currently pending (64 vs 10)']);
    expect(h.context.balloonDiff).toBe(0);
    expect(h.context.removedBothCtr).toBe(64);
    expect(h.state).toBe('S_IDLE');
  });

  it('a balloon response shorter than its range_count needs: warning, whole message ignored, state unchanged', () => {
    const h = idle();
    h.setTarget(BOOT_RAM_PAGES - 100);
    const bytes = encode({ type: 'DM_BALLOON_RESPONSE', transId: 3, morePages: false, ranges: [{ startPage: 0x1000, pageCount: 100 }] });
    new DataView(bytes.buffer).setUint32(12, 5 << 1, true); // claims 5 ranges, carries 1
    h.guest.write(bytes);
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['DM_BALLOON_RESPONSE too short for the range count']);
    expect(h.traces('hv_balloon_incoming_balloon')[0]?.args).toEqual({ transId: 3, rangeCount: 5, morePages: false });
    expect(h.context.removedBothCtr).toBe(0);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
    expect(h.context.transId).toBe(0);
  });

  it('pages inside the memdev window after the range exists (not yet added, unusable tail) go to our trees', () => {
    const h = idle();
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: 100, result: 1 }); // partial: tail unusable
    h.run();
    expect(h.context.ourRange).toMatchObject({ added: 100, unusableTail: WINDOW_PAGES - 100 });
    const tail = { startPage: WINDOW_START + WINDOW_PAGES - 10, pageCount: 10 };
    balloonWith(h, 10, [tail]);
    expect(h.context.model.trees.ourGuest.toArray()).toEqual([tail]);
    expect(h.context.model.trees.globalGuest.totalPages).toBe(0);
  });

  it('pages reported before the range exists inside the future window: error, back to IDLE, repeated until a reset', () => {
    const h = idle();
    // W lies in the future window; 12 GiB of holes ABOVE the window keep W from being unballooned
    // first (pop takes the highest range) and keep the counters above ram_total (clamp).
    const w = { startPage: WINDOW_START + 7, pageCount: 10 };
    const above = { startPage: (40 * GiB) / 4096, pageCount: 12 * 262_144 };
    balloonWith(h, 10, [w, above]);
    h.guest.onMessage = (m) => {
      if (m.type === 'DM_UNBALLOON_REQUEST' && !m.morePages) h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: m.transId });
    };
    const text =
      'some parts of the memory backend were already returned by the guest. this should not happen, please reboot the guest and try again';
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    h.run(10);
    expect(h.warnings('backendAlreadyReturned')).toEqual([{ type: 'warning', kind: 'backendAlreadyReturned', level: 'error', text, repeat: 1 }]);
    expect(h.context.ourRange).toBeUndefined();
    expect(h.state).toBe('S_IDLE');
    expect(h.guest.messages('DM_MEM_HOT_ADD_REQUEST')).toEqual([]);
    // The next attempt fails the same way: the range is still not created.
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    h.run(10);
    expect(h.context.counters.backendAlreadyReturned).toBe(2);
    expect(h.context.model.trees.globalGuest.intersectsAny(w.startPage, w.pageCount)).toBe(true);
    // A channel close + device reset empties the trees; after re-negotiation the hot-add works.
    h.guest.onMessage = undefined;
    h.guest.close();
    h.run();
    h.guest.open();
    h.run();
    h.negotiate();
    h.run(50_000);
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    expect(h.context.ourRange).toBeDefined();
    expect(h.guest.messages('DM_MEM_HOT_ADD_REQUEST')).toHaveLength(1);
  });

  it('hugepage-backed RAM: warning per page, counted as "both", not discarded', () => {
    const h = idle({ memory: { bootHostPageSize: 2 * 1024 * 1024 } });
    balloonWith(h, 512, [{ startPage: 0x10000, pageCount: 512 }]);
    expect(h.warnings().map((w) => [w.text, w.repeat])).toEqual([
      ['guest reported removed page backed by unsupported page size 2097152', 512],
    ]);
    expect(h.context.counters.removedPageUnsupportedPageSize).toBe(512);
    expect(h.context.removedBothCtr).toBe(512);
    expect(h.memory.discards).toEqual([]);
  });

  it('unaligned host address: warning, counted as "guest", not discarded', () => {
    const h = idle({ memory: { unalignedRam: { startPage: 0x8000, pageCount: 64 } } });
    balloonWith(h, 64, [{ startPage: 0x8000, pageCount: 64 }]);
    expect(h.warnings().map((w) => w.text)).toEqual([`guest reported removed pages at an unaligned host addr 0x${(0x8000 * 4096).toString(16)}`]);
    expect(h.context.removedGuestCtr).toBe(64);
    expect(h.memory.discards).toEqual([]);
  });

  it('a failed host discard: warning, the pages still count as "both"', () => {
    const h = idle({ memory: { failDiscard: { startPage: 0x9000, pageCount: 1 } } });
    balloonWith(h, 8, [{ startPage: 0x9000, pageCount: 8 }]);
    expect(h.warnings().map((w) => w.text)).toEqual(['guest reported removed page failed discard']);
    expect(h.context.removedBothCtr).toBe(8);
  });

  it('hot-add page_count larger than requested: warning, clamped', () => {
    const h = idle();
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: 0xffffffff, result: 1 });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual([`DM_HOT_ADD_RESPONSE page count higher than requested (4294967295 vs ${MiB128})`]);
    expect(h.context.ourRange?.added).toBe(MiB128);
  });

  it('pages running past the 40-bit PFN limit: handed back with the start truncated to 40 bits, the device keeps running', () => {
    const h = idle();
    const bogus = { startPage: 2 ** 40 - 1, pageCount: 2 ** 24 - 1 }; // ends 2^24 - 2 pages above 2^40
    balloonWith(h, 1000, [bogus]);
    expect(h.context.removedGuestCtr).toBe(bogus.pageCount);
    // Everything counts as removed (clamped to ram_total), so growing means unballooning the bogus pages.
    h.setTarget(600_000);
    const top = bogus.startPage + bogus.pageCount;
    // QEMU pops from the high end; start_page is a 40-bit bit-field, so the start wraps modulo 2^40.
    expect(h.guest.messages('DM_UNBALLOON_REQUEST')).toEqual([
      { type: 'DM_UNBALLOON_REQUEST', transId: 1, morePages: true, ranges: [{ startPage: top - 524_288 - 2 ** 40, pageCount: 524_288 }] },
      { type: 'DM_UNBALLOON_REQUEST', transId: 1, morePages: false, ranges: [{ startPage: top - 600_000 - 2 ** 40, pageCount: 75_712 }] },
    ]);
    // The trace shows the full 64-bit start, as QEMU's does.
    expect(h.traces('hv_balloon_outgoing_unballoon')[0]?.args['start']).toBe(top - 524_288);
    expect(h.snapshot.status).toBe('active');
    expect(h.state).toBe('S_UNBALLOON_REPLY_WAIT');
    expect(h.context.removedGuestCtr).toBe(bogus.pageCount - 600_000);
  });

  it('messages in the wrong state: "unexpected ... in %d state", ignored', () => {
    const h = idle();
    h.guest.write({ type: 'DM_BALLOON_RESPONSE', transId: 0, morePages: false, ranges: [{ startPage: 0x1000, pageCount: 5 }] });
    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 0 });
    h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: 5, result: 1 });
    h.guest.write({ type: 'DM_VERSION_REQUEST', transId: 0, version: { major: 2, minor: 0 }, isLastAttempt: false });
    h.guest.write({ type: 'DM_CAPABILITIES_REPORT', transId: 0, caps: LINUX_CAPS, minPageCount: 0n, maxPageNumber: 0n });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual([
      'unexpected DM_BALLOON_RESPONSE in 6 state',
      'unexpected DM_UNBALLOON_RESPONSE in 6 state',
      'unexpected DM_HOT_ADD_RESPONSE in 6 state',
      'unexpected DM_VERSION_REQUEST in 6 state',
      'unexpected DM_CAPABILITIES_REPORT in 6 state',
    ]);
    expect(h.context.removedBothCtr).toBe(0);
    expect(h.guest.received.map((m) => m.type)).toEqual(['DM_VERSION_RESPONSE', 'DM_CAPABILITIES_RESPONSE']);
    expect(h.state).toBe('S_IDLE');
  });

  it('unknown message type: warning, ignored', () => {
    const h = idle();
    h.guest.write({ type: 'DM_MEM_HOT_REMOVE_RESPONSE', transId: 0, result: 1, morePages: false, ranges: [] });
    h.guest.write({ type: 'DM_INFO_MESSAGE', transId: 0, info: [] });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['unknown DM message 14', 'unknown DM message 12']);
    expect(h.context.counters.unknownMessage).toBe(2);
  });

  it('channel open in the wrong state: warning, refused', () => {
    const h = idle();
    h.post({ type: 'device.open-request' });
    expect(h.warnings().map((w) => w.text)).toEqual(['guest trying to open a DM channel in invalid 6 state']);
    expect(h.state).toBe('S_IDLE');
  });
});
