/**
 * Balloon down over a stream of requests already in the ring (QEMU posts a whole give-back at
 * once): each request still costs its own vCPU job and is freed in order, the status thread wakes
 * for each, and a packet that is not a well-formed unballoon request between them is read and
 * handled as `draining` handles it (the driver takes the next request in the step that finishes
 * one only when that next packet is an unballoon request).
 */
import { encode } from '../../../protocol/codec';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, type GuestHarness } from './guest-harness';

const GiB = 262_144;

function ballooned(pages: number): { h: GuestHarness; memory: FakeGuestMemory } {
  const memory = new FakeGuestMemory({ ramPages: 8 * GiB, usedPages: GiB });
  const h = bootInitialized({ memory, vcpuDelayMs: 1 });
  h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: pages });
  h.run(200);
  expect(memory.balloonedPages()).toBe(pages);
  return { h, memory };
}

describe('balloon down, a stream of requests in the ring', () => {
  it('frees each request in its own vCPU job, in order, and answers once after the last', () => {
    const { h, memory } = ballooned(8 * 512);
    const ranges = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    h.jobs.length = 0;
    ranges.forEach((range, i) => h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 40, morePages: i < ranges.length - 1, ranges: [range] }));
    h.run(100);
    const freeing = h.jobs.filter((j) => j.job.work.some((w) => w.kind === 'pageFreed'));
    expect(freeing).toHaveLength(8);
    // One job at a time: each starts when the one before is done (the scripted vCPU takes 1 ms).
    freeing.forEach((j, i) => i > 0 && expect(j.timeMs).toBe(freeing[i - 1]!.timeMs + 1));
    expect(memory.calls.filter((c) => c.startsWith('release'))).toEqual(ranges.map((r) => `release 0x${r.startPage.toString(16)}+${r.pageCount}`));
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
    const stats = h.guest.getSnapshot().context.stats;
    expect(stats.unballoonRequests).toBe(8);
    expect(stats.pagesUnballooned).toBe(8 * 512);
    expect(h.guest.getSnapshot().context.dmState).toBe('Initialized');
  });

  it('logs and drops a malformed unballoon request between two good ones, and frees the second', () => {
    const { h, memory } = ballooned(2 * 512);
    const [a, b] = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 6, morePages: true, ranges: [a!] });
    // range_count says 1, the bytes stop before the range.
    h.host.sendRaw(encode({ type: 'DM_UNBALLOON_REQUEST', transId: 6, morePages: true, ranges: [b!] }).slice(0, 16));
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 6, morePages: false, ranges: [b!] });
    h.run(100);
    expect(h.logTexts().filter((t) => t.startsWith('dropped malformed message'))).toHaveLength(1);
    expect(h.guest.getSnapshot().context.stats.messagesDropped).toBe(1);
    expect(memory.balloonedPages()).toBe(0);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });

  it('takes a balloon request that follows the stream only after the last freeing', () => {
    const { h } = ballooned(2 * 512);
    const [a, b] = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    const responsesBefore = h.host.messages('DM_BALLOON_RESPONSE').length;
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 8, morePages: true, ranges: [a!] });
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 8, morePages: false, ranges: [b!] });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 9, numPages: 512 });
    h.run(200);
    const unballoonAt = h.host.received.findIndex((r) => r.message?.type === 'DM_UNBALLOON_RESPONSE');
    const balloonAt = h.host.received.map((r) => r.message?.type).lastIndexOf('DM_BALLOON_RESPONSE');
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toHaveLength(responsesBefore + 1);
    expect(unballoonAt).toBeGreaterThanOrEqual(0);
    expect(balloonAt).toBeGreaterThan(unballoonAt);
  });

  it('logs a range of a later request that was not in the balloon', () => {
    const { h } = ballooned(512);
    const [a] = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 3, morePages: true, ranges: [a!] });
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 3, morePages: false, ranges: [{ startPage: 0x10, pageCount: 4 }] });
    h.run(50);
    expect(h.logTexts()).toContain('unballoon range 0x10+4: only 0 of its pages were ballooned');
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });
});
