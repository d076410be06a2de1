/**
 * The end of a balloon transaction (QEMU hv_balloon_handle_balloon_response): after the last
 * response of a request (more_pages = 0) the device asks again while balloon_diff is left, else it
 * goes idle; balloon_diff is lowered by the pages newly removed, which may be fewer than the pages
 * the response names (repeated or already-removed pages count once).
 */
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';

function idleDevice(): DeviceHarness {
  const h = new DeviceHarness();
  h.bootToIdle();
  return h;
}

describe('hv-balloon device: the end of a balloon transaction', () => {
  it('asks for the rest when the response named fewer pages than were pending', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 700 }]);
    expect(h.stateChanges().slice(-3)).toEqual(['S_BALLOON_RB_WAIT', 'S_BALLOON_POSTING', 'S_BALLOON_REPLY_WAIT']);
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((r) => [r.transId, r.numPages])).toEqual([
      [0, 1000],
      [1, 300],
    ]);
    expect(h.context.balloonDiff).toBe(300);
  });

  it('asks for the rest when the response named enough pages but some of them twice', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    // 1200 pages named, 600 of them new: 400 are still pending.
    h.balloonResponse([
      { startPage: 0x1000, pageCount: 600 },
      { startPage: 0x1000, pageCount: 600 },
    ]);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((r) => [r.transId, r.numPages])).toEqual([
      [0, 1000],
      [1, 400],
    ]);
    expect(h.context.removedBothCtr).toBe(600);
    expect(h.warnings()).toEqual([]);
  });

  it('asks for the rest when pages the response names were removed by an earlier response', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 500 }], true);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 800 }]);
    expect(h.context.removedBothCtr).toBe(800);
    expect(h.context.balloonDiff).toBe(200);
    expect(h.stateChanges().slice(-3)).toEqual(['S_BALLOON_RB_WAIT', 'S_BALLOON_POSTING', 'S_BALLOON_REPLY_WAIT']);
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((r) => r.numPages)).toEqual([1000, 200]);
  });

  it('goes idle when the response removed exactly what was pending', () => {
    const h = idleDevice();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 1000 }]);
    expect(h.stateChanges().slice(-1)).toEqual(['S_IDLE']);
    expect(h.context.transId).toBe(1);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toHaveLength(1);
  });
});
