/**
 * Shrinking the guest: balloon requests, responses and the removed-page accounting
 * (QEMU hv-balloon.c hv_balloon_balloon_posting, hv_balloon_handle_balloon_response,
 * hv_balloon_handle_remove_ranges).
 */
import { BALLOON_CHUNK_PAGES } from '../../../protocol/constants';
import { queryBalloon } from '../../../machines/hv-balloon-device/queries';
import { BOOT_RAM_PAGES, HIGH_RAM } from './fake-host-memory';
import { DeviceHarness } from './harness';

const GiB_PAGES = 262_144;

function idleDevice(): DeviceHarness {
  const h = new DeviceHarness();
  h.bootToIdle();
  return h;
}

describe('hv-balloon device: balloon flow', () => {
  it('asks for at most 585 728 pages per request and asks again for the rest', () => {
    const h = idleDevice();
    h.setTarget(GiB_PAGES); // 3 GiB to remove
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toEqual([
      { type: 'DM_BALLOON_REQUEST', transId: 0, numPages: BALLOON_CHUNK_PAGES },
    ]);
    expect(h.traces('hv_balloon_outgoing_balloon')[0]?.args).toEqual({ transId: 0, count: BALLOON_CHUNK_PAGES, remaining: 3 * GiB_PAGES });
    // The guest gives the whole chunk: 1 GiB above 4 GiB plus the rest from low RAM.
    h.balloonResponse([HIGH_RAM, { startPage: 0x100, pageCount: BALLOON_CHUNK_PAGES - HIGH_RAM.pageCount }]);
    const requests = h.guest.messages('DM_BALLOON_REQUEST');
    expect(requests[1]).toEqual({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 3 * GiB_PAGES - BALLOON_CHUNK_PAGES });
    expect(h.context.transId).toBe(1);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
  });

  it('records ordinary RAM as removed from both sides, discards it on the host and lowers query-balloon', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 1000 }]);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.removedBothCtr).toBe(1000);
    expect(h.context.removedGuestCtr).toBe(0);
    expect(h.context.model.trees.globalBoth.toArray()).toEqual([{ startPage: 0x1000, pageCount: 1000 }]);
    expect(h.memory.discards).toEqual([{ startPage: 0x1000, pageCount: 1000 }]);
    expect(queryBalloon(h.snapshot).actual).toBe((BOOT_RAM_PAGES - 1000) * 4096);
    expect(h.context.transId).toBe(1);
    expect(h.warnings()).toEqual([]);
  });

  it('waits for more responses while more_pages is set, and ends the transaction with the last one', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 300);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 100 }], true);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
    expect(h.context.transId).toBe(0);
    h.balloonResponse([{ startPage: 0x2000, pageCount: 100 }], true);
    h.balloonResponse([{ startPage: 0x3000, pageCount: 100 }], false);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.transId).toBe(1);
    expect(h.context.balloonDiff).toBe(0);
    expect(h.context.removedBothCtr).toBe(300);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toHaveLength(1);
    expect(h.traces('hv_balloon_incoming_balloon').map((t) => t.args.morePages)).toEqual([true, true, false]);
  });

  it('asks again when the guest gave fewer pages than asked', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 400 }]);
    const requests = h.guest.messages('DM_BALLOON_REQUEST');
    expect(requests.map((r) => [r.transId, r.numPages])).toEqual([
      [0, 1000],
      [1, 600],
    ]);
    h.balloonResponse([{ startPage: 0x2000, pageCount: 600 }]);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.removedBothCtr).toBe(1000);
    expect(h.context.transId).toBe(2);
  });

  it('ends everything on an empty response (the guest is at its minimum), whatever more_pages says', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 5000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 100 }], true);
    h.balloonResponse([], true);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.balloonDiff).toBe(0);
    expect(h.context.transId).toBe(1);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toHaveLength(1);
    expect(h.context.removedBothCtr).toBe(100);
  });

  it('clamps an over-report with QEMU\'s warning, still recording every page', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 100);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 250 }]);
    expect(h.warnings().map((w) => w.text)).toEqual(['guest reported more pages removed than currently pending (250 vs 100)']);
    expect(h.context.counters.moreRemovedThanPending).toBe(1);
    expect(h.context.balloonDiff).toBe(0);
    expect(h.context.removedBothCtr).toBe(250);
    expect(h.state).toBe('S_IDLE');
  });

  it('does not balloon a guest without the balloon capability', () => {
    const h = new DeviceHarness();
    h.bootToIdle({ balloon: false, hotAdd: true, hotAddAlignment: 7, hotRemove: false });
    h.setTarget(GiB_PAGES);
    expect(h.state).toBe('S_IDLE');
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toEqual([]);
  });

  it('never compares the response trans_id with its own', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 10);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 10 }], false, 0xdead);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.removedBothCtr).toBe(10);
  });

  it('merges adjacent runs from one response into one range before recording them', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 30);
    h.balloonResponse([
      { startPage: 0x1010, pageCount: 10 },
      { startPage: 0x1000, pageCount: 10 },
      { startPage: 0x100a, pageCount: 6 },
      { startPage: 0x1020, pageCount: 4 },
    ]);
    expect(h.context.model.trees.globalBoth.toArray()).toEqual([
      { startPage: 0x1000, pageCount: 0x1a },
      { startPage: 0x1020, pageCount: 4 },
    ]);
    expect(h.context.removedBothCtr).toBe(30);
  });
});
