/**
 * Balloon up (Linux hv_balloon.c balloon_up): the floor clamp once per request, 2 MiB units first
 * with the permanent switch to 4 KiB, at most 510 unmerged ranges per response, more_pages, the
 * empty final message, ring-full retries with fresh trans_ids, vCPU time charged before each send,
 * and Linux work-item semantics for requests that arrive while one is running.
 */
import type { PageRange } from '../../../protocol/messages';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, pagesOf } from './guest-harness';

const GiB = 262_144;

function bigGuest(): FakeGuestMemory {
  return new FakeGuestMemory({ ramPages: 16 * GiB, usedPages: GiB });
}

/** Free memory cut into `n` unaligned runs of `size` pages: no 2 MiB unit anywhere. */
function fragmented(n: number, size: number, base = 4 * GiB): PageRange[] {
  return Array.from({ length: n }, (_, i) => ({ startPage: base + i * 1024 + 1, pageCount: size }));
}

describe('balloon up', () => {
  it('serves 1000 pages as one 2 MiB range, then 488 single pages after a silent switch to 4 KiB', () => {
    const memory = bigGuest();
    const h = bootInitialized({ memory });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    h.run(100);
    const [first, second, ...rest] = h.host.messages('DM_BALLOON_RESPONSE');
    expect(rest).toHaveLength(0);
    expect(first!.morePages).toBe(true);
    expect(first!.ranges).toHaveLength(1);
    expect(first!.ranges[0]!.pageCount).toBe(512);
    expect(first!.ranges[0]!.startPage % 512).toBe(0);
    expect(second!.morePages).toBe(false);
    expect(second!.ranges).toHaveLength(488);
    expect(second!.ranges.every((r) => r.pageCount === 1)).toBe(true);
    expect(memory.balloonedPages()).toBe(1000);
    // The 2 MiB round that got nothing was retried with 4 KiB units without sending anything.
    expect(memory.calls.filter((c) => c.startsWith('units'))).toEqual(['units 512 x1', 'units 1 x488']);
  });

  it('puts at most 510 ranges in a message and never merges adjacent 2 MiB units', () => {
    const h = bootInitialized({ memory: bigGuest() });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 600 * 512 });
    h.run(100);
    const responses = h.host.messages('DM_BALLOON_RESPONSE');
    expect(responses.map((r) => [r.ranges.length, r.morePages])).toEqual([
      [510, true],
      [90, false],
    ]);
    const r = responses[0]!.ranges;
    expect(r.every((x) => x.pageCount === 512)).toBe(true);
    expect(r[0]!.startPage - r[1]!.startPage).toBe(512); // adjacent, still two ranges
    expect(h.host.received.every((p) => p.bytes.length <= 4096)).toBe(true);
  });

  it('serves fragmented memory as 4 KiB ranges, 510 per message', () => {
    const memory = new FakeGuestMemory({ ramPages: 16 * GiB, freeRanges: fragmented(10, 300) });
    memory.available = 8 * GiB;
    const h = bootInitialized({ memory });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1200 });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE').map((r) => [r.ranges.length, pagesOf(r.ranges), r.morePages])).toEqual([
      [510, 510, true],
      [510, 510, true],
      [180, 180, false],
    ]);
  });

  it('switches to 4 KiB for good when 2 MiB units run out mid-way', () => {
    const memory = new FakeGuestMemory({
      ramPages: 16 * GiB,
      freeRanges: [...fragmented(10, 300), { startPage: 8 * GiB, pageCount: 512 }],
    });
    memory.available = 8 * GiB;
    const h = bootInitialized({ memory });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1536 });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE').map((r) => [r.ranges.length, pagesOf(r.ranges), r.morePages])).toEqual([
      [1, 512, true],
      [510, 510, true],
      [510, 510, true],
      [4, 4, false],
    ]);
  });

  it('clamps the request once to MemAvailable - floor and says so', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: 3 * GiB });
    const h = bootInitialized({ memory });
    // 1 GiB free, 4 GiB managed -> floor 488 MiB: only 536 MiB can go.
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: GiB });
    h.run(200);
    const responses = h.host.messages('DM_BALLOON_RESPONSE');
    expect(pagesOf(responses.flatMap((r) => r.ranges))).toBe((1024 - 488) * 256);
    expect(responses.at(-1)!.morePages).toBe(false);
    expect(h.logTexts()).toContain('Balloon request will be partially fulfilled. Balloon floor reached.');
  });

  it('answers a request the floor clamps to 0 with exactly one empty final message', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: 4 * GiB - 1000 });
    const h = bootInitialized({ memory });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 100 });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE')).toEqual([
      { type: 'DM_BALLOON_RESPONSE', transId: 3, morePages: false, ranges: [] },
    ]);
    expect(h.logTexts()).toContain('Balloon request will be partially fulfilled. Balloon floor reached.');
  });

  it('answers a request for 0 pages with one empty final message', () => {
    const h = bootInitialized({ memory: bigGuest() });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 0 });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE').map((r) => [r.ranges.length, r.morePages])).toEqual([[0, false]]);
  });

  it('ends with an empty final message when allocation fails before the target', () => {
    const memory = new FakeGuestMemory({ ramPages: 16 * GiB, freeRanges: [{ startPage: 4 * GiB + 3, pageCount: 700 }] });
    memory.available = 8 * GiB; // MemAvailable promises more than the allocator can give
    const h = bootInitialized({ memory });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 2000 });
    h.run(100);
    expect(h.host.messages('DM_BALLOON_RESPONSE').map((r) => [pagesOf(r.ranges), r.morePages])).toEqual([
      [510, true],
      [190, true],
      [0, false],
    ]);
  });

  it('charges the allocation on the vCPU before each send', () => {
    const h = bootInitialized({ memory: bigGuest(), vcpuDelayMs: 50 });
    const t0 = h.clock.now();
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    h.run(500);
    const jobs = h.jobs.map((j) => j.job.work);
    expect(jobs).toEqual([
      [
        { kind: 'messageHandled', count: 1 },
        { kind: 'rangeAllocated', count: 1 },
        { kind: 'pageAllocated', count: 512 },
        { kind: 'messageSent', count: 1 },
      ],
      [
        { kind: 'rangeAllocated', count: 488 },
        { kind: 'pageAllocated', count: 488 },
        { kind: 'messageSent', count: 1 },
      ],
    ]);
    const times = h.host.timed('DM_BALLOON_RESPONSE').map((r) => r.timeMs - t0);
    expect(times[0]).toBeGreaterThanOrEqual(50);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(50);
  });

  it('retries a full ring every 20 ms with a fresh trans_id each time', () => {
    const h = bootInitialized({ memory: bigGuest() });
    h.host.reads = false;
    // Four full 2 MiB messages (4096 bytes each): three fit in the 16 KiB ring, the fourth waits.
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 4 * 510 * 512 });
    h.run(200);
    const retries = h.guest.getSnapshot().context.stats.ringFullRetries;
    expect(retries).toBeGreaterThanOrEqual(8);
    const drainedAt = h.clock.now();
    h.host.reads = true;
    h.host.drain();
    h.run(100);
    const responses = h.host.timed('DM_BALLOON_RESPONSE');
    expect(responses.map((r) => r.message.ranges.length)).toEqual([510, 510, 510, 510]);
    // trans_ids 3, 4, 5 went out; 6 .. 5 + retries were used by failed attempts; the next one made it.
    const retriesNow = h.guest.getSnapshot().context.stats.ringFullRetries;
    expect(responses.map((r) => r.message.transId)).toEqual([3, 4, 5, 6 + retriesNow]);
    expect(responses[3]!.timeMs - drainedAt).toBeLessThanOrEqual(20);
    expect(responses[3]!.message.morePages).toBe(false);
  });

  it('on a full ring calls post_status after the 20 ms sleep, once per failed attempt', () => {
    // Linux balloon_up: on -EAGAIN msleep(20), then post_status, then the retry.
    const h = bootInitialized({ memory: bigGuest(), profile: { profile: 'linux', pressureReportDelay: 1000 } });
    h.host.reads = false;
    const seen: { timeMs: number; retries: number; calls: number }[] = [];
    h.guest.subscribe((snap) => {
      const { stats, status } = snap.context;
      const last = seen.at(-1);
      const calls = 1000 - status.delayCallsLeft;
      if (last === undefined || last.retries !== stats.ringFullRetries || last.calls !== calls) {
        seen.push({ timeMs: h.clock.now(), retries: stats.ringFullRetries, calls });
      }
    });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 4 * 510 * 512 });
    h.run(75); // well before the status thread's first 1 s tick
    const firstFail = seen.find((e) => e.retries === 1)!;
    // Three messages went out (three calls); the failed fourth has not called post_status yet.
    expect(firstFail.calls).toBe(3);
    const firstCallAfter = seen.find((e) => e.calls === 4)!;
    expect(firstCallAfter.timeMs - firstFail.timeMs).toBeCloseTo(20, 6);
    // Each later failed attempt comes right after the post_status of the previous one.
    const failures = seen.filter((e, i) => i > 0 && e.retries > seen[i - 1]!.retries);
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const e of failures) expect(e.calls).toBe(3 + e.retries - 1);
  });

  it('runs a request that arrives while one is running afterwards; the newest of several wins', () => {
    const memory = bigGuest();
    const h = bootInitialized({ memory, vcpuDelayMs: 50 });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    h.run(10);
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 2, numPages: 512 });
    h.run(10);
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 3, numPages: 1024 });
    h.run(1000);
    const responses = h.host.messages('DM_BALLOON_RESPONSE');
    expect(responses.map((r) => [pagesOf(r.ranges), r.morePages])).toEqual([
      [512, true],
      [488, false],
      [1024, false],
    ]);
    expect(memory.balloonedPages()).toBe(2024);
    expect(h.logTexts().filter((t) => t === 'Currently ballooning')).toHaveLength(2);
  });
});
