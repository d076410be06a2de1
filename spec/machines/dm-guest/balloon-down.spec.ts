/**
 * Balloon down (Linux hv_balloon.c balloon_down): handled in the channel callback, ranges returned
 * in order, one 8-byte DM_UNBALLOON_RESPONSE only after the part with more_pages = 0; nothing else
 * is read meanwhile.
 */
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, type GuestHarness } from './guest-harness';

const GiB = 262_144;

function ballooned(pages: number, vcpuDelayMs = 1): { h: GuestHarness; memory: FakeGuestMemory } {
  const memory = new FakeGuestMemory({ ramPages: 8 * GiB, usedPages: GiB });
  const h = bootInitialized({ memory, vcpuDelayMs });
  h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: pages });
  h.run(200);
  expect(memory.balloonedPages()).toBe(pages);
  return { h, memory };
}

describe('balloon down', () => {
  it('answers a three-part unballoon once, with 8 bytes, after the last part', () => {
    const { h, memory } = ballooned(3 * 512);
    const ranges = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    const before = h.host.received.length;
    // QEMU style: one range per request, the same host trans_id for the whole transaction.
    ranges.forEach((range, i) => h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 77, morePages: i < 2, ranges: [range] }));
    h.run(100);
    const replies = h.host.received.slice(before).filter((r) => r.message?.type === 'DM_UNBALLOON_RESPONSE');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.bytes.length).toBe(8);
    expect(replies[0]!.message!.transId).not.toBe(77); // never echoes the host's id
    expect(replies[0]!.message!.transId).toBe(h.guest.getSnapshot().context.transId);
    expect(memory.balloonedPages()).toBe(0);
    expect(memory.calls.filter((c) => c.startsWith('release'))).toEqual(
      ranges.map((r) => `release 0x${r.startPage.toString(16)}+${r.pageCount}`),
    );
    expect(h.guest.getSnapshot().context.dmState).toBe('Initialized');
  });

  it('sends nothing while more_pages is 1', () => {
    const { h } = ballooned(1024);
    const [a, b] = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 5, morePages: true, ranges: [a!] });
    h.run(100);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(0);
    expect(h.guest.getSnapshot().context.dmState).toBe('Balloon Down');
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 5, morePages: false, ranges: [b!] });
    h.run(100);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });

  it('takes up to 510 ranges in one request and charges their freeing on the vCPU', () => {
    const { h, memory } = ballooned(510);
    const ranges = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    expect(ranges).toHaveLength(510);
    h.jobs.length = 0;
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 9, morePages: false, ranges });
    h.run(100);
    expect(memory.balloonedPages()).toBe(0);
    expect(h.jobs.map((j) => j.job.work)).toEqual([
      [
        { kind: 'messageHandled', count: 1 },
        { kind: 'rangeFreed', count: 510 },
        { kind: 'pageFreed', count: 510 },
        { kind: 'messageSent', count: 1 },
      ],
    ]);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });

  it('reads nothing else until the freeing is done (strict order with later host messages)', () => {
    const { h } = ballooned(512, 50);
    const [range] = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 3, morePages: false, ranges: [range!] });
    h.host.send({ type: 'DM_INFO_MESSAGE', transId: 4, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 524_288n }] });
    h.run(20);
    expect(h.guest.getSnapshot().context.connection.maxDynamicPageCount).toBeNull();
    h.run(60);
    expect(h.guest.getSnapshot().context.connection.maxDynamicPageCount).toBe(524_288);
    const freeing = h.jobs.find((j) => j.job.work.some((w) => w.kind === 'pageFreed'))!;
    const infoLog = h.logs.find((l) => l.text.startsWith('Max. dynamic memory size'))!;
    expect(infoLog.timeMs).toBeGreaterThanOrEqual(freeing.timeMs + 50);
  });

  it('trusts the host like Linux, but logs ranges that were not in the balloon', () => {
    const { h } = ballooned(512);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 3, morePages: false, ranges: [{ startPage: 0x10, pageCount: 4 }] });
    h.run(50);
    expect(h.logTexts()).toContain('unballoon range 0x10+4: only 0 of its pages were ballooned');
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });
});
