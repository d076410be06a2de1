/** The test kit's guest testbed: the DM guest driver against a host the test scripts. */
import { createGuestTestbed, expectMessage, expectMessageCount } from '../../testing';

describe('createGuestTestbed', () => {
  it('the auto-handshake answers as QEMU does and the driver initializes', () => {
    const bed = createGuestTestbed({ machine: { memory: '4G' } });
    bed.runUntilInitialized();
    expectMessage(bed.host.received[0], 'DM_VERSION_REQUEST', { version: { major: 2, minor: 0 } });
    expectMessage(bed.host.received[1], 'DM_CAPABILITIES_REPORT', { caps: { balloon: true, hotAdd: true } });
    expect(bed.host.channelEvents[0]).toBe('device.open-request');
    expect(bed.summary().protocolVersion).toBe('2.0');
  });

  it('a host that refuses 2.0 sees the driver fall back to an older version', () => {
    const bed = createGuestTestbed({ host: { acceptVersion: (v) => v.major < 2 } });
    bed.runUntilInitialized();
    const requests = bed.host.messages('DM_VERSION_REQUEST');
    expect(requests[0].version).toEqual({ major: 2, minor: 0 });
    expect(requests.length).toBeGreaterThan(1);
    expect(requests[requests.length - 1].version.major).toBeLessThan(2);
  });

  it('a balloon request is answered with ranges that add up, taken from guest memory', () => {
    const bed = createGuestTestbed({ machine: { memory: '4G' } });
    bed.runUntilInitialized();
    bed.host.send({ type: 'DM_BALLOON_REQUEST', transId: bed.host.nextTransId(), numPages: 1024 });
    bed.runUntil(() => bed.host.last('DM_BALLOON_RESPONSE') !== undefined, { what: 'the balloon response' });
    const response = expectMessage(bed.host.last(), 'DM_BALLOON_RESPONSE', { morePages: false });
    expect(response.ranges.reduce((n, r) => n + r.pageCount, 0)).toBe(1024);
    expect(bed.memory.balloonedPages()).toBe(1024);
    expect(bed.summary().balloonedPages).toBe(1024);
  });

  it('a scripted responder sees every status report the driver posts (after Linux\'s 45 s pressure-report delay)', () => {
    const bed = createGuestTestbed({ machine: { memory: '4G' } });
    let reports = 0;
    bed.host.respond('DM_STATUS_REPORT', () => reports++);
    bed.runUntilInitialized();
    bed.run(60_000);
    expect(reports).toBeGreaterThan(0);
    expectMessageCount(bed.host.received.flatMap((r) => (r.message ? [r.message] : [])), 'DM_STATUS_REPORT', reports);
  });

  it('without the auto-handshake the driver waits, and gives up as Linux does', () => {
    const bed = createGuestTestbed({ host: { autoHandshake: false } });
    bed.run(30_000);
    expect(bed.summary().dmState).not.toBe('Initialized');
    expect(bed.host.messages('DM_VERSION_REQUEST')).toHaveLength(1);
  });
});
