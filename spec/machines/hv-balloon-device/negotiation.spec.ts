/**
 * Opening the DM channel and the version / capabilities exchange (QEMU hv-balloon.c
 * hv_balloon_vmdev_open_channel, hv_balloon_handle_version_request, hv_balloon_handle_caps_report).
 */
import { DYNMEM_PROTOCOL_VERSION_WIN7 } from '../../../protocol/constants';
import { DeviceHarness, LINUX_CAPS } from './harness';

const versionRequest = (transId: number, major: number, minor: number) =>
  ({ type: 'DM_VERSION_REQUEST', transId, version: { major, minor }, isLastAttempt: false }) as const;

describe('hv-balloon device: channel open and negotiation', () => {
  it('is reset at power-on and lets the guest open the channel, then waits for a version', () => {
    const h = new DeviceHarness();
    expect(h.state).toBe('S_WAIT_RESET');
    h.powerOn();
    expect(h.guest.opened).toBe(true);
    expect(h.state).toBe('S_VERSION');
    expect(h.stateChanges()).toEqual(['S_POST_RESET_CLOSED', 'S_VERSION']);
  });

  it('accepts a version in [0x3, 0x20000], echoing the trans_id, and moves to S_CAPS', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.write(versionRequest(77, 2, 0));
    h.run();
    expect(h.guest.received).toEqual([{ type: 'DM_VERSION_RESPONSE', transId: 77, isAccepted: true }]);
    expect(h.state).toBe('S_CAPS');
    expect(h.traces('hv_balloon_incoming_version')[0]?.args).toEqual({ major: 2, minor: 0 });
  });

  it.each([
    { label: '0.3 (WIN7)', major: 0, minor: 3, accepted: true },
    { label: '0.4, not a real version but inside the numeric range', major: 0, minor: 4, accepted: true },
    { label: '1.0xFFFF, inside the numeric range', major: 1, minor: 0xffff, accepted: true },
    { label: '0.2, below 0x3', major: 0, minor: 2, accepted: false },
    { label: '2.1, above 0x20000', major: 2, minor: 1, accepted: false },
  ])('version $label: accepted = $accepted', ({ major, minor, accepted }) => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.write(versionRequest(5, major, minor));
    h.run();
    expect(h.guest.messages('DM_VERSION_RESPONSE')).toEqual([{ type: 'DM_VERSION_RESPONSE', transId: 5, isAccepted: accepted }]);
    expect(h.state).toBe(accepted ? 'S_CAPS' : 'S_VERSION');
  });

  it('stays in S_VERSION after a rejection so the guest can fall back to an older version', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.write(versionRequest(1, 3, 0));
    h.run();
    expect(h.state).toBe('S_VERSION');
    h.guest.write({ type: 'DM_VERSION_REQUEST', transId: 2, version: { major: 0, minor: DYNMEM_PROTOCOL_VERSION_WIN7 }, isLastAttempt: true });
    h.run();
    expect(h.guest.messages('DM_VERSION_RESPONSE').map((m) => m.isAccepted)).toEqual([false, true]);
    expect(h.state).toBe('S_CAPS');
  });

  it('answers the capabilities report with accepted=1, hot_remove=1, suppress = !status-report and stores the caps', () => {
    for (const statusReport of [false, true]) {
      const h = new DeviceHarness({ statusReport });
      h.powerOn();
      h.negotiate(LINUX_CAPS);
      expect(h.guest.messages('DM_CAPABILITIES_RESPONSE')).toEqual([
        { type: 'DM_CAPABILITIES_RESPONSE', transId: 2, isAccepted: true, hotRemove: true, suppressPressureReports: !statusReport },
      ]);
      expect(h.state).toBe('S_POST_INIT_WAIT');
      expect(h.context.caps).toEqual(LINUX_CAPS);
      // caps word: balloon | hot_add | 7 << 2
      expect(h.traces('hv_balloon_incoming_caps')[0]?.args).toEqual({ caps: 1 | 2 | (7 << 2) });
    }
  });

  it('warns about a version request or capabilities report in the wrong state and sends no reply', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.write({ type: 'DM_CAPABILITIES_REPORT', transId: 3, caps: LINUX_CAPS, minPageCount: 0n, maxPageNumber: 0n });
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['unexpected DM_CAPABILITIES_REPORT in 3 state']);
    h.negotiate();
    h.guest.write(versionRequest(9, 2, 0));
    h.run();
    expect(h.warnings('unexpectedVersionRequest').map((w) => w.text)).toEqual(['unexpected DM_VERSION_REQUEST in 5 state']);
    expect(h.guest.received.map((m) => m.type)).toEqual(['DM_VERSION_RESPONSE', 'DM_CAPABILITIES_RESPONSE']);
    expect(h.state).toBe('S_POST_INIT_WAIT');
    expect(h.context.counters.unexpectedVersionRequest).toBe(1);
    expect(h.context.counters.unexpectedCapabilitiesReport).toBe(1);
  });

  it('checks the state before the length: a short version request warns "too short" only in S_VERSION', () => {
    const h = new DeviceHarness();
    h.powerOn();
    const short = new Uint8Array(8);
    new DataView(short.buffer).setUint16(0, 1, true); // DM_VERSION_REQUEST, header only
    h.guest.write(short);
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['DM_VERSION_REQUEST message too short (8 vs 16), ignoring']);
    expect(h.guest.received).toEqual([]);
    expect(h.state).toBe('S_VERSION');
  });

  it('drops a reply silently when the host->guest ring is full, but still changes state', () => {
    const h = new DeviceHarness({ ringBytes: 64 });
    h.powerOn();
    h.guest.autoDrain = false;
    h.guest.write(versionRequest(1, 0, 1)); // rejected: the reply fills the 64-byte ring
    h.run();
    h.guest.write(versionRequest(2, 2, 0)); // accepted, but no room for the reply
    h.run();
    expect(h.state).toBe('S_CAPS');
    expect(h.warnings()).toEqual([]);
    const got = h.guest.drain();
    expect(got).toEqual([{ type: 'DM_VERSION_RESPONSE', transId: 1, isAccepted: false }]);
  });

  it('refuses an open outside S_POST_RESET_CLOSED with QEMU\'s warning', () => {
    const h = new DeviceHarness();
    // No power-on reset: the device is still in S_WAIT_RESET when the guest tries to open.
    h.run(1001);
    expect(h.guest.opened).toBe(false);
    expect(h.guest.openRefused).toBe(1);
    expect(h.warnings().map((w) => w.text)).toEqual(['guest trying to open a DM channel in invalid 1 state']);
    expect(h.state).toBe('S_WAIT_RESET');
  });

  it('ignores unknown and host->guest message types with "unknown DM message %u"', () => {
    const h = new DeviceHarness();
    h.powerOn();
    h.guest.write({ type: 'DM_ERROR', transId: 0 });
    h.guest.write({ type: 'DM_BALLOON_REQUEST', transId: 0, numPages: 5 });
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setUint16(0, 200, true);
    h.guest.write(raw);
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['unknown DM message 0', 'unknown DM message 6', 'unknown DM message 200']);
    expect(h.state).toBe('S_VERSION');
  });

  it('drops a payload shorter than the DM header without a word and reads on', () => {
    const h = new DeviceHarness();
    h.powerOn();
    // The ring pads payloads to 8 bytes, so only an empty payload is shorter than a header.
    h.guest.write(new Uint8Array(0));
    h.guest.write(versionRequest(4, 2, 0));
    h.run();
    expect(h.warnings()).toEqual([]);
    expect(h.guest.received).toEqual([{ type: 'DM_VERSION_RESPONSE', transId: 4, isAccepted: true }]);
  });
});
