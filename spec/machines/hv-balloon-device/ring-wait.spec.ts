/**
 * The *_RB_WAIT states: ring space is reserved before every host-initiated request; with a full
 * ring the device waits and retries when the guest signals that it freed room
 * (QEMU hw/hyperv/vmbus.c vmbus_channel_reserve; hv-balloon.c hv_balloon_balloon_rb_wait,
 * hv_balloon_unballoon_rb_wait, hv_balloon_hot_add_rb_wait).
 */
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';

describe('hv-balloon device: waiting for ring space', () => {
  it('waits in S_BALLOON_RB_WAIT with pending_send_sz = 16 + 16 + 8 and posts once the guest frees room', () => {
    const h = new DeviceHarness({ ringBytes: 64 });
    h.bootToIdle();
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES - 1000);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT'); // the first request fits (40 of 64 bytes)
    h.balloonResponse([{ startPage: 0x1000, pageCount: 400 }]);
    // The next request does not fit next to the unread one.
    expect(h.state).toBe('S_BALLOON_RB_WAIT');
    expect(h.link.hostToGuest.pendingSendSize).toBe(40);
    expect(h.context.transId).toBe(1);

    h.guest.drain(); // frees room; the ring tells the guest to signal the waiting host
    h.run();
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
    expect(h.guest.drain().map((m) => m.type === 'DM_BALLOON_REQUEST' && [m.transId, m.numPages])).toEqual([[1, 600]]);
  });

  it('retries on every notification and stays while the ring is still full', () => {
    // 80 bytes: one 40-byte balloon request leaves no room for another; a 72-byte status report fits.
    const h = new DeviceHarness({ ringBytes: 80, statusReport: true });
    h.bootToIdle();
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES - 1000);
    h.balloonResponse([{ startPage: 0x1000, pageCount: 400 }]);
    expect(h.state).toBe('S_BALLOON_RB_WAIT');
    // A status report is a notification too: the device retries, fails, and takes the report.
    h.guest.write({
      type: 'DM_STATUS_REPORT',
      transId: 0,
      numAvail: 10n,
      numCommitted: 20n,
      pageFileSize: 0n,
      zeroFree: 0n,
      pageFileWrites: 0,
      ioDiff: 0,
    });
    h.run();
    expect(h.state).toBe('S_BALLOON_RB_WAIT');
    expect(h.context.statusReport).toEqual({ received: true, committed: 20 * 4096, available: 10 * 4096 });
    expect(h.warnings()).toEqual([]);
  });

  it('reserves 16 + 24 + 8 = 48 bytes for an unballoon request', () => {
    const h = new DeviceHarness({ ringBytes: 64 });
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES - 20);
    h.balloonResponse([
      { startPage: 0x1000, pageCount: 10 },
      { startPage: 0x2000, pageCount: 10 },
    ]);
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES);
    // One 48-byte request fits in 64 bytes, the second does not.
    expect(h.state).toBe('S_UNBALLOON_RB_WAIT');
    expect(h.link.hostToGuest.pendingSendSize).toBe(48);
    h.guest.autoDrain = true;
    h.guest.drain();
    h.run();
    expect(h.state).toBe('S_UNBALLOON_REPLY_WAIT');
    expect(h.guest.messages('DM_UNBALLOON_REQUEST').map((m) => [m.transId, m.morePages])).toEqual([
      [1, true],
      [1, false],
    ]);
  });

  it('waits in S_HOT_ADD_RB_WAIT between chunks when the ring is full', () => {
    const h = new DeviceHarness({ ringBytes: 64 });
    h.bootToIdle();
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES + 3 * 262_144);
    expect(h.state).toBe('S_HOT_ADD_REPLY_WAIT');
    h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: 524_288, result: 1 });
    h.run();
    expect(h.state).toBe('S_HOT_ADD_RB_WAIT');
    expect(h.link.hostToGuest.pendingSendSize).toBe(48);
    h.guest.drain();
    h.run();
    expect(h.state).toBe('S_HOT_ADD_REPLY_WAIT');
    expect(h.guest.drain().map((m) => m.type === 'DM_MEM_HOT_ADD_REQUEST' && m.range.pageCount)).toEqual([262_144]);
  });
});
