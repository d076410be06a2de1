/**
 * QEMU's event-loop order (hv-balloon.c hv_balloon_event_loop): after a handler moves the state,
 * packets already in the ring are received in the NEW state before its handler runs; receiving
 * stops after the first packet that changes the state.
 */
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';

describe('hv-balloon device: event loop order', () => {
  it('receives a queued packet in S_BALLOON_POSTING, between the RB_WAIT and POSTING handlers', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES - 1000);
    // The final response of the first transaction and a stray second response, in one batch.
    h.guest.write({ type: 'DM_BALLOON_RESPONSE', transId: 1, morePages: false, ranges: [{ startPage: 0x1000, pageCount: 400 }] });
    h.guest.write({ type: 'DM_BALLOON_RESPONSE', transId: 2, morePages: false, ranges: [{ startPage: 0x2000, pageCount: 600 }] });
    h.run();
    // QEMU: the first response ends the transaction (-> RB_WAIT) and stops the receiving; the RB_WAIT
    // handler moves to POSTING, the second response is read in POSTING (state 7) and dropped.
    expect(h.warnings().map((w) => w.text)).toEqual(['unexpected DM_BALLOON_RESPONSE in 7 state']);
    expect(h.context.removedBothCtr).toBe(400);
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((m) => [m.transId, m.numPages])).toEqual([
      [0, 1000],
      [1, 600],
    ]);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
  });

  it('receives an early unballoon response in S_UNBALLOON_POSTING once room is freed', () => {
    const h = new DeviceHarness({ ringBytes: 128 });
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES - 30);
    h.balloonResponse([
      { startPage: 0x1000, pageCount: 10 },
      { startPage: 0x2000, pageCount: 10 },
      { startPage: 0x3000, pageCount: 10 },
    ]);
    h.guest.autoDrain = false;
    h.setTarget(BOOT_RAM_PAGES);
    expect(h.state).toBe('S_UNBALLOON_RB_WAIT');
    // The guest frees room and, in the same batch, answers too early.
    h.guest.drain();
    h.guest.write({ type: 'DM_UNBALLOON_RESPONSE', transId: 1 });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['unexpected DM_UNBALLOON_RESPONSE in 10 state']);
    expect(h.state).toBe('S_UNBALLOON_REPLY_WAIT');
    expect(h.context.transId).toBe(1);
  });

  it('handles every packet of a batch in order, one event each, when none changes the state', () => {
    const h = new DeviceHarness({ statusReport: true });
    h.bootToIdle();
    const reports = [1n, 2n, 3n].map((n) => ({
      type: 'DM_STATUS_REPORT' as const,
      transId: 0,
      numAvail: n,
      numCommitted: n * 10n,
      pageFileSize: 0n,
      zeroFree: 0n,
      pageFileWrites: 0,
      ioDiff: 0,
    }));
    for (const r of reports) h.guest.write(r);
    h.run();
    expect(h.emitted.filter((e) => e.type === 'status-report')).toEqual([
      { type: 'status-report', committed: 40960, available: 4096 },
      { type: 'status-report', committed: 81920, available: 8192 },
      { type: 'status-report', committed: 122880, available: 12288 },
    ]);
    expect(h.context.model.loop.running).toBe(false);
  });
});
