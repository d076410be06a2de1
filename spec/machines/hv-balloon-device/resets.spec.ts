/**
 * The three kinds of reset (QEMU hv-balloon.c hv_balloon_vmdev_reset,
 * hv_balloon_vmdev_close_channel, hv_balloon_system_reset): the device reset, the guest closing
 * the channel, and a system reset (reboot).
 */
import { queryBalloon, queryHvBalloonStatusReport } from '../../../machines/hv-balloon-device/queries';
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness, GiB } from './harness';

const MiB128 = 32_768;
const WINDOW = { startPage: (32 * GiB) / 4096, pageCount: (4 * GiB) / 4096 };

/** IDLE, 2 slots hot-added, 100 RAM pages + 10 window pages ballooned, a status report stored. */
function busyDevice(): DeviceHarness {
  const h = new DeviceHarness({ statusReport: true });
  h.bootToIdle();
  h.guest.onMessage = (m) => {
    if (m.type === 'DM_MEM_HOT_ADD_REQUEST') h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: m.range.pageCount, result: 1 });
  };
  h.setTarget(BOOT_RAM_PAGES + 2 * MiB128);
  h.run(10);
  h.guest.onMessage = undefined;
  h.setTarget(BOOT_RAM_PAGES + 2 * MiB128 - 110);
  h.balloonResponse([
    { startPage: 0x1000, pageCount: 100 },
    { startPage: WINDOW.startPage + 50, pageCount: 10 },
  ]);
  h.guest.write({ type: 'DM_STATUS_REPORT', transId: 0, numAvail: 5n, numCommitted: 7n, pageFileSize: 0n, zeroFree: 0n, pageFileWrites: 0, ioDiff: 0 });
  h.run();
  expect(h.state).toBe('S_IDLE');
  expect(h.context.removedBothCtr).toBe(110);
  return h;
}

describe('hv-balloon device: resets', () => {
  it('device reset (vmdev_reset): empties every tree and counter, trans_id = 0, keeps target, hot-add range and status data', () => {
    const h = busyDevice();
    const target = h.context.target;
    h.post({ type: 'device.reset' });
    expect(h.state).toBe('S_POST_RESET_CLOSED');
    const c = h.context;
    expect([c.removedGuestCtr, c.removedBothCtr, c.transId]).toEqual([0, 0, 0]);
    for (const t of [c.model.trees.globalGuest, c.model.trees.globalBoth, c.model.trees.ourGuest, c.model.trees.ourBoth]) {
      expect(t.totalPages).toBe(0);
    }
    expect(c.target).toBe(target);
    expect(c.ourRange).toMatchObject({ added: 2 * MiB128 });
    expect(c.statusReport).toEqual({ received: true, committed: 7 * 4096, available: 5 * 4096 });
    expect(h.memory.released).toEqual([]);
    // Windows keeps using hot-added memory after a VMBus reconnect: it still counts.
    expect(queryBalloon(h.snapshot).actual).toBe((BOOT_RAM_PAGES + 2 * MiB128) * 4096);
  });

  it('device reset does nothing when the device is already in S_POST_RESET_CLOSED', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.close();
    h.run();
    const changes = h.stateChanges().length;
    h.post({ type: 'device.reset' });
    expect(h.state).toBe('S_POST_RESET_CLOSED');
    expect(h.stateChanges()).toHaveLength(changes);
  });

  it('keeps target_changed across a device reset: a target pending at the reset is acted on after re-negotiation', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.negotiate();
    h.setTarget(BOOT_RAM_PAGES - 1000); // still in the post-init wait
    h.guest.close();
    h.run();
    expect(h.context.targetChanged).toBe(true);
    h.guest.open();
    h.run();
    h.negotiate();
    h.run(50_000);
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((m) => m.numPages)).toEqual([1000]);
  });

  it('channel close: S_WAIT_RESET, stale status data hidden, then the device reset', () => {
    const h = busyDevice();
    h.guest.close();
    h.run();
    expect(h.stateChanges().slice(-2)).toEqual(['S_WAIT_RESET', 'S_POST_RESET_CLOSED']);
    expect(h.context.statusReport.received).toBe(false);
    expect(queryHvBalloonStatusReport(h.snapshot)).toEqual({
      ok: false,
      error: { class: 'GenericError', desc: 'no guest memory status report received yet' },
    });
    // The guest may reconnect: open is allowed again.
    h.guest.open();
    h.run();
    expect(h.state).toBe('S_VERSION');
  });

  it('system reset: frees the hot-add range (unmap + discard), the guest is back to boot size, the old target is not re-applied', () => {
    const h = busyDevice();
    h.bus.post('user', 'channel', { type: 'system.reset' });
    h.bus.post('user', 'device', { type: 'system.reset' });
    h.run();
    expect(h.context.ourRange).toBeUndefined();
    expect(h.memory.released).toEqual([WINDOW]);
    expect(h.traces('hv_balloon_unmap_slot').map((t) => t.args.idx)).toEqual([0, 1]);
    expect(h.state).toBe('S_POST_RESET_CLOSED');
    expect(queryBalloon(h.snapshot).actual).toBe(BOOT_RAM_PAGES * 4096);
    // After the reboot the guest re-negotiates; the applied target stays applied and is not redone.
    h.run(1000);
    h.negotiate();
    h.run(50_000);
    expect(h.state).toBe('S_IDLE');
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toHaveLength(1);
    expect(h.guest.messages('DM_MEM_HOT_ADD_REQUEST')).toHaveLength(1);
    // The user has to ask again.
    h.setTarget(BOOT_RAM_PAGES - 50);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toHaveLength(2);
  });

  it('system reset keeps the counters equal to the trees even before the device reset runs', () => {
    const h = busyDevice();
    h.post({ type: 'system.reset' });
    const c = h.context;
    expect(c.removedBothCtr).toBe(c.model.trees.globalBoth.totalPages + c.model.trees.ourBoth.totalPages);
    expect(c.removedBothCtr).toBe(100);
    expect(c.model.trees.ourBoth.totalPages).toBe(0);
  });
});
