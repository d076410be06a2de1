/**
 * DM_STATUS_REPORT (Linux hv_balloon.c post_status, get_pages_committed): the numbers Linux
 * reports, the first pressure_report_delay = 45 post_status calls swallowed, then about one report
 * a second (strictly more than 1 s apart), post_status also called by balloon-up (after each send
 * attempt), hot-add (after each block) and, through an early wake-up of the status thread,
 * unballoon.
 */
import { balloonFloorPages } from '../../../machines/dm-guest/balloon-floor';
import { decidePostStatus, linuxCommittedPages } from '../../../machines/dm-guest/status-report';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized } from './guest-harness';

const GiB = 262_144;

describe('status report timing', () => {
  it('drops the first 45 post_status calls, so the first report comes ~46 s after init', () => {
    const h = bootInitialized();
    const initAt = h.guest.getSnapshot().context.connection.initializedAt!;
    h.run(45_000);
    expect(h.host.messages('DM_STATUS_REPORT')).toHaveLength(0);
    h.run(2_000);
    const reports = h.host.timed('DM_STATUS_REPORT');
    expect(reports).toHaveLength(1);
    // The thread posts after each ~1 s sleep: the 46th call is the first that sends.
    expect(reports[0]!.timeMs - initAt).toBeGreaterThan(46_000);
    expect(reports[0]!.timeMs - initAt).toBeLessThan(46_500);
  });

  it('then reports about every second, always strictly more than 1 s apart', () => {
    const h = bootInitialized({ profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.run(30_000);
    const times = h.host.timed('DM_STATUS_REPORT').map((r) => r.timeMs);
    expect(times.length).toBeGreaterThanOrEqual(28);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThan(1000);
      expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(1100);
    }
  });

  it('counts post_status calls from balloon-up towards the 45', () => {
    const quiet = bootInitialized();
    const busy = bootInitialized();
    // 1000 pages -> two balloon responses -> two extra post_status calls.
    busy.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1000 });
    quiet.run(48_000);
    busy.run(48_000);
    const first = (h: typeof quiet): number => h.host.timed('DM_STATUS_REPORT')[0]!.timeMs;
    expect(first(quiet) - first(busy)).toBeGreaterThan(1900);
    expect(first(quiet) - first(busy)).toBeLessThan(2100);
  });

  it('an unballoon wakes the status thread early, once per message however many ranges it frees', () => {
    // Linux dm_thread_func re-initialises config_event after each wait: the three completions of a
    // three-range unballoon, all made before the thread runs, wake it once (one post_status).
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB });
    const h = bootInitialized({ memory, profile: { profile: 'linux', pressureReportDelay: 10 } });
    // 1536 pages = three 2 MiB ranges in one response: one post_status call.
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1536 });
    h.run(20);
    const ranges = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    expect(ranges).toHaveLength(3);
    expect(h.guest.getSnapshot().context.status.delayCallsLeft).toBe(9);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 2, morePages: false, ranges });
    h.run(20); // well before the thread's own 1 s tick
    expect(h.guest.getSnapshot().context.status.delayCallsLeft).toBe(8);
    expect(h.host.messages('DM_UNBALLOON_RESPONSE')).toHaveLength(1);
  });

  it('two unballoon messages handled apart wake the status thread twice', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB });
    const h = bootInitialized({ memory, profile: { profile: 'linux', pressureReportDelay: 10 }, vcpuDelayMs: 5 });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 1024 });
    h.run(50);
    const ranges = h.host.messages('DM_BALLOON_RESPONSE').flatMap((m) => m.ranges);
    expect(ranges).toHaveLength(2);
    expect(h.guest.getSnapshot().context.status.delayCallsLeft).toBe(9);
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 2, morePages: true, ranges: [ranges[0]!] });
    h.host.send({ type: 'DM_UNBALLOON_REQUEST', transId: 3, morePages: false, ranges: [ranges[1]!] });
    h.run(50);
    expect(h.guest.getSnapshot().context.status.delayCallsLeft).toBe(7);
  });
});

describe('status report contents (Linux)', () => {
  it('num_avail = MemAvailable, num_committed = Committed_AS + ballooned + (added - onlined) + floor, the rest 0', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB, committedPages: GiB + 1234 });
    memory.available = 2 * GiB + 77;
    const h = bootInitialized({ memory, profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.run(1500);
    const r = h.host.messages('DM_STATUS_REPORT').at(-1)!;
    expect(r.numAvail).toBe(BigInt(2 * GiB + 77));
    // 4 GiB managed -> floor 488 MiB.
    expect(r.numCommitted).toBe(BigInt(GiB + 1234 + 488 * 256));
    expect([r.pageFileSize, r.zeroFree, r.pageFileWrites, r.ioDiff]).toEqual([0n, 0n, 0, 0]);
  });

  it('includes ballooned pages and shrinks the floor as the balloon grows', () => {
    const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB / 4 });
    const h = bootInitialized({ memory, profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 1, numPages: 2 * GiB });
    h.run(3000);
    expect(memory.balloonedPages()).toBe(2 * GiB);
    const r = h.host.messages('DM_STATUS_REPORT').at(-1)!;
    const floor = balloonFloorPages(2 * GiB); // managed shrank from 4 GiB to 2 GiB: 360 MiB
    expect(floor).toBe(360 * 256);
    expect(r.numCommitted).toBe(BigInt(GiB / 4 + 2 * GiB + floor));
  });

  it('counts hot-added pages that are not online as committed', () => {
    expect(
      linuxCommittedPages({ availablePages: 0, committedPages: 100, balloonedPages: 10, addedPages: 5000, onlinedPages: 3000, floorPages: 7 }),
    ).toBe(100 + 10 + 2000 + 7);
    expect(
      linuxCommittedPages({ availablePages: 0, committedPages: 100, balloonedPages: 0, addedPages: 10, onlinedPages: 30, floorPages: 0 }),
    ).toBe(100);
  });

  it('every report takes a fresh trans_id from the one guest counter', () => {
    const h = bootInitialized({ profile: { profile: 'linux', pressureReportDelay: 0 } });
    h.host.send({ type: 'DM_BALLOON_REQUEST', transId: 99, numPages: 3000 });
    h.run(5000);
    const ids = h.host.received.map((r) => r.message!.transId);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });
});

describe('post_status gate', () => {
  it('swallows delayed calls, then sends only strictly after 1 s', () => {
    expect(decidePostStatus({ delayCallsLeft: 2, lastSentAt: null }, 0)).toEqual({ kind: 'delayed', delayCallsLeft: 1 });
    expect(decidePostStatus({ delayCallsLeft: 0, lastSentAt: null }, 0)).toEqual({ kind: 'send' });
    expect(decidePostStatus({ delayCallsLeft: 0, lastSentAt: 5000 }, 6000)).toEqual({ kind: 'rate-limited' });
    expect(decidePostStatus({ delayCallsLeft: 0, lastSentAt: 5000 }, 6000.5)).toEqual({ kind: 'send' });
  });
});
