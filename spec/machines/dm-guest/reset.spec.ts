/** A system reset (reboot): the driver forgets everything and probes again when the channel is offered. */
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, OFFER_DELAY_MS } from './guest-harness';

describe('system reset', () => {
  it('forgets trans_ids, negotiation, hot-add regions and counters, then handshakes again', () => {
    const memory = new FakeGuestMemory({ ramPages: 1_048_576, usedPages: 262_144 });
    const h = bootInitialized({ memory, profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: 1_048_576, pageCount: 32_768 } });
    h.run(2_000);
    expect(h.guest.getSnapshot().context.hotAdd.regions).toHaveLength(1);
    expect(h.guest.getSnapshot().context.transId).toBeGreaterThan(3);

    const before = h.host.received.length;
    h.bus.post('vm', 'guest', { type: 'system.reset' });
    h.bus.post('vm', 'channel', { type: 'system.reset' });
    h.run(1);
    const ctx = h.guest.getSnapshot().context;
    expect(h.connectionState()).toBe('waitingForOffer');
    expect([ctx.transId, ctx.hotAdd.regions.length, ctx.stats.hotAddRequests, ctx.connection.protocolVersion]).toEqual([0, 0, 0, null]);

    h.run(OFFER_DELAY_MS + 10);
    expect(h.connectionState()).toBe('connected.initialized');
    const again = h.host.received.slice(before).map((r) => [r.message!.type, r.message!.transId]);
    expect(again.slice(0, 2)).toEqual([
      ['DM_VERSION_REQUEST', 1],
      ['DM_CAPABILITIES_REPORT', 2],
    ]);
  });

  it('drops a balloon-up in progress: late vCPU completions are ignored', () => {
    const h = bootInitialized({ vcpuDelayMs: 50 });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    h.run(10);
    h.bus.post('vm', 'guest', { type: 'system.reset' });
    h.bus.post('vm', 'channel', { type: 'system.reset' });
    h.run(500);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(0);
    expect(h.guest.getSnapshot().context.work.balloonUp).toBeNull();
  });
});
