/**
 * Start-up (Linux hv_balloon.c balloon_probe, balloon_connect_vsp): version negotiation
 * 2.0 -> 1.0 -> 0.3 under one 5 s budget, the capabilities report and its own 5 s wait, failures
 * that close the channel and silence the driver.
 */
import { bytesToHex } from '../../../protocol/hex';
import { summarizeGuestDriver } from '../../../machines/dm-guest-driver.machine';
import { createGuestHarness, bootInitialized, OFFER_DELAY_MS } from './guest-harness';

describe('DM guest handshake', () => {
  it('opens the channel when offered and sends version 2.0 with trans_id 1, then the caps report with trans_id 2', () => {
    const h = createGuestHarness();
    h.run(OFFER_DELAY_MS + 10);
    expect(h.channelRequests).toEqual(['channel.open']);
    const [version, caps] = h.host.received.map((r) => r.message);
    expect(version).toEqual({ type: 'DM_VERSION_REQUEST', transId: 1, version: { major: 2, minor: 0 }, isLastAttempt: false });
    // Golden bytes (shared vectors): x86, 128 MiB blocks -> caps 0x1F, min 0, max all ones.
    expect(bytesToHex(h.host.received[1]!.bytes)).toBe('03002000020000001f000000000000000000000000000000ffffffffffffffff');
    expect(caps).toMatchObject({ type: 'DM_CAPABILITIES_REPORT', transId: 2 });
    expect(h.connectionState()).toBe('connected.initialized');
    expect(h.logTexts()).toContain('Using Dynamic Memory protocol version 2.0');
    expect(h.guest.getSnapshot().context.dmState).toBe('Initialized');
  });

  it('falls back 2.0 -> 1.0 -> 0.3, is_last_attempt only on 0.3, a fresh trans_id each time', () => {
    const h = createGuestHarness({ acceptVersion: (v) => v.major === 0 && v.minor === 3 });
    h.run(OFFER_DELAY_MS + 10);
    const requests = h.host.messages('DM_VERSION_REQUEST');
    expect(requests.map((r) => [r.version, r.isLastAttempt, r.transId])).toEqual([
      [{ major: 2, minor: 0 }, false, 1],
      [{ major: 1, minor: 0 }, false, 2],
      [{ major: 0, minor: 3 }, true, 3],
    ]);
    expect(h.host.messages('DM_CAPABILITIES_REPORT')[0]!.transId).toBe(4);
    expect(h.logTexts()).toContain('Using Dynamic Memory protocol version 0.3');
    expect(h.guest.getSnapshot().context.connection.protocolVersion).toEqual({ major: 0, minor: 3 });
  });

  it('fails with EPROTO and closes the channel when even 0.3 is rejected', () => {
    const h = createGuestHarness({ acceptVersion: () => false });
    h.run(OFFER_DELAY_MS + 10);
    expect(h.host.messages('DM_VERSION_REQUEST')).toHaveLength(3);
    expect(h.connectionState()).toBe('failed');
    expect(h.channelRequests).toEqual(['channel.open', 'channel.close']);
    expect(h.guest.getSnapshot().context.connection.failure).toMatchObject({ errno: -71, reason: 'no protocol version was accepted' });
    expect(h.guest.getSnapshot().context.dmState).toBe('Error');
  });

  it('gives the whole negotiation ONE 5 s budget: slow rejections do not restart it', () => {
    const h = createGuestHarness({ autoHandshake: false });
    // The host answers each request with a rejection 2 s later.
    h.host.onMessage = (m, host) => {
      if (m.type !== 'DM_VERSION_REQUEST') return;
      h.clock.setTimeout(() => host.send({ type: 'DM_VERSION_RESPONSE', transId: m.transId, isAccepted: false }), 2000);
    };
    h.run(OFFER_DELAY_MS + 1);
    const start = h.host.timed('DM_VERSION_REQUEST')[0]!.timeMs;
    h.run(4990);
    expect(h.host.messages('DM_VERSION_REQUEST')).toHaveLength(3); // at ~0 s, ~2 s, ~4 s
    expect(h.connectionState()).toBe('connected.version');
    h.run(20);
    expect(h.connectionState()).toBe('failed');
    const failure = h.guest.getSnapshot().context.connection.failure!;
    expect(failure.errno).toBe(-110);
    expect(failure.atMs - start).toBeCloseTo(5000, 0);
    expect(h.channelRequests).toContain('channel.close');
  });

  it('times out the capabilities exchange after its own 5 s', () => {
    const h = createGuestHarness({ autoHandshake: false });
    h.host.onMessage = (m, host) => {
      if (m.type === 'DM_VERSION_REQUEST') {
        // Accept only after 4 s: the caps wait must still get a full 5 s of its own.
        h.clock.setTimeout(() => host.send({ type: 'DM_VERSION_RESPONSE', transId: m.transId, isAccepted: true }), 4000);
      }
    };
    h.run(OFFER_DELAY_MS + 4100);
    expect(h.connectionState()).toBe('connected.capabilities');
    h.run(4800);
    expect(h.connectionState()).toBe('connected.capabilities');
    h.run(300);
    expect(h.connectionState()).toBe('failed');
    expect(h.guest.getSnapshot().context.connection.failure).toMatchObject({ errno: -110, reason: 'capabilities exchange timed out' });
  });

  it('fails when the host rejects the capabilities, then stays silent (no status reports, no retries)', () => {
    const h = createGuestHarness({ acceptCaps: false });
    h.run(OFFER_DELAY_MS + 10);
    expect(h.logTexts()).toContain('Capabilities not accepted by host');
    expect(h.connectionState()).toBe('failed');
    const sent = h.host.received.length;
    h.run(60_000);
    expect(h.host.received).toHaveLength(sent);
  });

  it('fails without closing when the channel open is refused', () => {
    const h = createGuestHarness({ refuseOpen: true });
    h.run(OFFER_DELAY_MS + 10);
    expect(h.connectionState()).toBe('failed');
    expect(h.channelRequests).toEqual(['channel.open']);
    expect(h.host.received).toHaveLength(0);
  });

  it('reports the alignment of its memory block size: 256 MiB -> 8 (caps 0x23), 2 GiB -> 11 (0x2F)', () => {
    for (const [mib, alignment, word] of [
      [256, 8, '23'],
      [2048, 11, '2f'],
    ] as const) {
      const h = bootInitialized({ profile: { profile: 'linux', memoryBlockMiB: mib } });
      const caps = h.host.messages('DM_CAPABILITIES_REPORT')[0]!;
      expect(caps.caps).toEqual({ balloon: true, hotAdd: true, hotAddAlignment: alignment, hotRemove: false });
      expect(bytesToHex(h.host.received[1]!.bytes).slice(16, 18)).toBe(word);
    }
  });

  it('ignores the response bits Linux does not use, but records them for queries', () => {
    const h = bootInitialized();
    expect(h.guest.getSnapshot().context.connection.hostCaps).toEqual({ hotRemove: true, suppressPressureReports: false });
  });

  it('a channel closed under the driver leaves it closed and silent', () => {
    const h = bootInitialized({ profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.bus.post('channel', 'guest', { type: 'guest.channel-closed' });
    h.run(1);
    expect(h.connectionState()).toBe('closed');
    const sent = h.host.received.length;
    h.run(10_000);
    expect(h.host.received).toHaveLength(sent);
  });

  it('summarizes itself for queries as plain JSON', () => {
    const h = bootInitialized();
    h.host.send({ type: 'DM_INFO_MESSAGE', transId: 5, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 1_048_576n }] });
    h.run(10);
    const summary = summarizeGuestDriver(h.guest.getSnapshot().context);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(summary).toMatchObject({
      profile: 'linux',
      dmState: 'Initialized',
      protocolVersion: '2.0',
      failure: null,
      transId: 2,
      maxDynamicPageCount: 1_048_576,
      floorPages: 488 * 256,
      status: { reportsSent: 0, delayCallsLeft: 45 },
    });
  });
});
