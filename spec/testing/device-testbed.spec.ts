/** The test kit's device testbed: QEMU's device against a guest the test scripts. */
import { createDeviceTestbed, createDeviceTestbedFromParts, expectMessage, LINUX_GUEST_CAPS, TestKitAssertionError } from '../../testing';
import { MachineMemory } from '../../machines';

const GiB = 2 ** 30;
const GiB_PAGES = 262_144;
/** Boot RAM above 4 GiB in QEMU's pc layout for -m 4G: 1 GiB at 4 GiB. */
const HIGH_RAM_START = 0x100000;

const bootedDevice = () => {
  const bed = createDeviceTestbed({ machine: { memory: '4G', maxmem: '44G' }, device: { memdev: '8G' } });
  bed.bootToIdle();
  return bed;
};

describe('createDeviceTestbed', () => {
  it('the guest opens the offered channel and the handshake gets QEMU\'s answers', () => {
    const bed = createDeviceTestbed();
    bed.handshake();
    expectMessage(bed.guest.received[0], 'DM_VERSION_RESPONSE', { transId: 1, isAccepted: true });
    expectMessage(bed.guest.received[1], 'DM_CAPABILITIES_RESPONSE', { transId: 2, isAccepted: true });
    expect(bed.state()).toBe('S_POST_INIT_WAIT');
  });

  it('bootToIdle waits out the post-init period', () => {
    const bed = bootedDevice();
    expect(bed.state()).toBe('S_IDLE');
    expect(bed.clock.now()).toBeGreaterThanOrEqual(50_000);
    expect(bed.stateChanges()).toContain('S_POST_INIT_WAIT');
  });

  it('a balloon target becomes a DM_BALLOON_REQUEST; a scripted answer is accounted', () => {
    const bed = bootedDevice();
    bed.guest.respond('DM_BALLOON_REQUEST', (request, guest) => {
      guest.send({ type: 'DM_BALLOON_RESPONSE', transId: request.transId, morePages: false, ranges: [{ startPage: HIGH_RAM_START, pageCount: request.numPages }] });
    });
    const residentBefore = bed.memory.residentPages();
    bed.balloon(3 * GiB);
    bed.runUntil(() => bed.state() === 'S_IDLE' && bed.guest.messages('DM_BALLOON_REQUEST').length > 0, { what: 'the balloon round' });
    expectMessage(bed.guest.last('DM_BALLOON_REQUEST'), 'DM_BALLOON_REQUEST', { numPages: GiB_PAGES });
    expect(bed.queryBalloon()).toEqual({ actual: 3 * GiB });
    expect(residentBefore - bed.memory.residentPages()).toBe(GiB_PAGES); // QEMU discarded the host backing
    expect(bed.warnings()).toEqual([]);
  });

  it('pages the guest claims that are not guest RAM get QEMU\'s warning and are not counted', () => {
    const bed = bootedDevice();
    bed.balloon(3 * GiB);
    const request = expectMessage(bed.guest.last(), 'DM_BALLOON_REQUEST');
    // 0xfffc0..0x100000 is the BIOS ROM in the pc layout.
    bed.guest.send({ type: 'DM_BALLOON_RESPONSE', transId: request.transId, morePages: false, ranges: [{ startPage: 0xfffc0, pageCount: 0x40 }] });
    bed.run(10);
    expect(bed.warnings('removedPageNotRam').length).toBeGreaterThan(0);
    expect(bed.queryBalloon()).toEqual({ actual: 4 * GiB });
  });

  it('raw bytes reach the device as they are: a truncated message gets the too-short warning', () => {
    const bed = bootedDevice();
    bed.guest.send(new Uint8Array([0x03, 0x00, 0x04, 0x00])); // a DM_CAPABILITIES_REPORT header claiming 4 bytes
    bed.run(10);
    expect(bed.warnings('messageTooShort').length + bed.warnings('unexpectedCapabilitiesReport').length).toBeGreaterThan(0);
    expect(bed.state()).toBe('S_IDLE');
  });

  it('runUntil gives up with a clear error', () => {
    const bed = createDeviceTestbed();
    expect(() => bed.runUntil(() => false, { limitMs: 100, what: 'nothing' })).toThrow(
      new TestKitAssertionError('gave up waiting for nothing after 100 ms of virtual time'),
    );
  });

  it('bad configuration names the field', () => {
    expect(() => createDeviceTestbed({ machine: { memory: 'lots' } })).toThrow(/machine\.memory/);
    expect(() => createDeviceTestbed({ device: null })).toThrow(/device/);
  });

  it('LINUX_GUEST_CAPS are what the Linux driver reports', () => {
    expect(LINUX_GUEST_CAPS).toEqual({ balloon: true, hotAdd: true, hotAddAlignment: 7, hotRemove: false });
  });
});

describe('createDeviceTestbedFromParts', () => {
  const parts = () => ({
    device: { statusReport: false },
    memory: new MachineMemory({ ramBytes: 4 * GiB, maxmemBytes: 4 * GiB }),
  });

  it('a ring smaller than a VM allows: the device waits for room, then sends what waited', () => {
    const bed = createDeviceTestbedFromParts({ ...parts(), ringBytes: 64 });
    bed.bootToIdle();
    bed.guest.autoRead = false;
    bed.balloon(4 * GiB - 1000 * 4096); // a 40-byte request for 1000 pages, left unread
    bed.guest.send({ type: 'DM_BALLOON_RESPONSE', transId: 1, morePages: false, ranges: [{ startPage: HIGH_RAM_START, pageCount: 400 }] });
    bed.run(1);
    // 600 pages to go, and no room in the ring for that request next to the unread one.
    expect(bed.state()).toBe('S_BALLOON_RB_WAIT');
    expect(bed.link.hostToGuest.pendingSendSize).toBe(40);
    bed.guest.drain();
    bed.run(1);
    bed.guest.drain();
    expectMessage(bed.guest.last('DM_BALLOON_REQUEST'), 'DM_BALLOON_REQUEST', { numPages: 600 });
  });

  it('powerOn: false leaves the device unreset (S_WAIT_RESET): it refuses the guest\'s open until powerOn()', () => {
    const bed = createDeviceTestbedFromParts({ ...parts(), powerOn: false });
    bed.run(2000);
    expect(bed.state()).toBe('S_WAIT_RESET');
    expect(bed.guest.opened).toBe(false);
    expect(bed.guest.openRefused).toBe(1);
    bed.powerOn();
    bed.guest.open();
    bed.run(1);
    expect(bed.guest.opened).toBe(true);
  });
});
