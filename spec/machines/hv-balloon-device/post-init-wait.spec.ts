/**
 * The 50 s post-init wait on the virtual clock and targets set before the device is IDLE
 * (QEMU hv-balloon.c hv_balloon_handle_caps_report, hv_balloon_post_init_timer,
 * hv_balloon_to_target; the HMP behaviour reported in the qemu-devel review of the v5 patch).
 */
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness } from './harness';

const MiB_PAGES = 256;

describe('hv-balloon device: post-init wait and early targets', () => {
  it('waits exactly 50 000 ms of virtual time after the capabilities exchange before going IDLE', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.negotiate();
    const capsAt = h.clock.now();
    h.clock.runUntil(capsAt + 49_999);
    expect(h.state).toBe('S_POST_INIT_WAIT');
    h.clock.runUntil(capsAt + 50_000);
    expect(h.state).toBe('S_IDLE');
  });

  it('sends nothing for a target set during the wait, then acts on the last one when IDLE is reached', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.negotiate();
    h.setTarget(5000 * MiB_PAGES);
    h.setTarget(2000 * MiB_PAGES);
    h.run(10_000);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toEqual([]);
    expect(h.context.targetChanged).toBe(true);
    h.run(40_000);
    expect(h.guest.messages('DM_BALLOON_REQUEST')).toEqual([
      { type: 'DM_BALLOON_REQUEST', transId: 0, numPages: BOOT_RAM_PAGES - 2000 * MiB_PAGES },
    ]);
    expect(h.context.targetChanged).toBe(false);
    expect(h.state).toBe('S_BALLOON_REPLY_WAIT');
  });

  it('keeps a target set before the guest even opened the channel', () => {
    const h = new DeviceHarness();
    h.setTarget(3 * 1024 * MiB_PAGES);
    h.bootToIdle();
    expect(h.guest.messages('DM_BALLOON_REQUEST').map((m) => m.numPages)).toEqual([1024 * MiB_PAGES]);
  });

  it('ignores a target of 0 pages (QMP already refused values <= 0; bytes >> 12 may still give 0)', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(0);
    expect(h.context.target).toBe(0);
    expect(h.context.targetChanged).toBe(false);
    expect(h.state).toBe('S_IDLE');
  });

  it('re-tries an unchanged target: every set-target sets target_changed', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES);
    expect(h.context.targetChanged).toBe(false);
    expect(h.state).toBe('S_IDLE');
    expect(h.guest.received.map((m) => m.type)).toEqual(['DM_VERSION_RESPONSE', 'DM_CAPABILITIES_RESPONSE']);
  });

  it('cancels the wait when the guest closes the channel', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.negotiate();
    h.guest.close();
    h.run();
    expect(h.state).toBe('S_POST_RESET_CLOSED');
    h.run(60_000);
    expect(h.state).toBe('S_POST_RESET_CLOSED');
    expect(h.stateChanges()).not.toContain('S_IDLE');
  });
});
