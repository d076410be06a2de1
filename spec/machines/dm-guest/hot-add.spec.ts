/**
 * Hot add (Linux hv_balloon.c hot_add_req, handle_pg_range): whole memory blocks, only backed pages
 * onlined, the unbacked tail backed by a later request, both request forms, the 5 s online wait,
 * the result rule and the permanent disable after -EEXIST.
 */
import { balloonFloorPages } from '../../../machines/dm-guest/balloon-floor';
import { FakeGuestMemory } from './fake-guest-memory';
import { bootInitialized, type HarnessOptions } from './guest-harness';

const GiB = 262_144;
const BLOCK = 32_768; // 128 MiB
const P = 4 * GiB; // first page above the 4 GiB of RAM, block aligned

function guest(opts: HarnessOptions = {}) {
  const memory = new FakeGuestMemory({ ramPages: 4 * GiB, usedPages: GiB });
  const h = bootInitialized({ memory, ...opts });
  return { h, memory };
}

describe('hot add', () => {
  it('16-byte form: 100 MiB at a block boundary adds one 128 MiB block and onlines only the 25,600 backed pages', () => {
    const { h, memory } = guest();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: P, pageCount: 25_600 } });
    h.run(500);
    expect(h.blocksAdded.map((b) => b.range)).toEqual([{ startPage: P, pageCount: BLOCK }]);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE')).toEqual([
      { type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 3, pageCount: 25_600, result: 1 },
    ]);
    expect(memory.onlined).toBe(25_600);
    expect(memory.offline).toEqual([{ startPage: P + 25_600, pageCount: 7_168 }]);
    const ha = h.guest.getSnapshot().context.hotAdd;
    expect([ha.addedPages, ha.onlinedPages]).toEqual([25_600, 25_600]);
    // The response waited for the block to be onlined (memctl's 100 ms).
    expect(h.host.timed('DM_MEM_HOT_ADD_RESPONSE')[0]!.timeMs - h.blocksAdded[0]!.timeMs).toBeGreaterThanOrEqual(100);
  });

  it('a later request for the 28 MiB tail backs it without adding memory (7,168 pages, online at once)', () => {
    const { h, memory } = guest();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: P, pageCount: 25_600 } });
    h.run(500);
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 2, range: { startPage: P + 25_600, pageCount: 7_168 } });
    h.run(100);
    expect(h.blocksAdded).toHaveLength(1);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([
      [25_600, 1],
      [7_168, 1],
    ]);
    expect(memory.offline).toEqual([]);
    expect(memory.onlined).toBe(BLOCK);
  });

  it('24-byte form: region = range of 256 MiB adds two blocks, each waited for', () => {
    const { h } = guest();
    const range = { startPage: P, pageCount: 2 * BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range, region: range });
    h.run(1000);
    expect(h.blocksAdded.map((b) => b.range.startPage)).toEqual([P, P + BLOCK]);
    expect(h.blocksAdded[1]!.timeMs - h.blocksAdded[0]!.timeMs).toBeGreaterThanOrEqual(100);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([[2 * BLOCK, 1]]);
    expect(h.jobs.filter((j) => j.job.work[0]!.kind === 'blockAdded')).toHaveLength(2);
  });

  it('waits at most 5 s per block when nobody onlines it, and counts added - onlined as committed', () => {
    const { h } = guest({ onlineDelayMs: 'never', profile: { profile: 'linux', pressureReportDelay: 0 } });
    const t0 = h.clock.now();
    const range = { startPage: P, pageCount: 2 * BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range, region: range });
    h.run(9_000);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE')).toHaveLength(0);
    h.run(2_000);
    const [response] = h.host.timed('DM_MEM_HOT_ADD_RESPONSE');
    expect(response!.message.pageCount).toBe(2 * BLOCK);
    expect(response!.timeMs - t0).toBeGreaterThanOrEqual(10_000);
    expect(response!.timeMs - t0).toBeLessThan(10_100);
    h.run(2_000);
    const ctx = h.guest.getSnapshot().context;
    expect(ctx.hotAdd.onlinedPages).toBe(0);
    const report = h.host.messages('DM_STATUS_REPORT').at(-1)!;
    // committed = 1 GiB used + 0 ballooned + 65,536 added but not onlined + floor(4 GiB managed) = 488 MiB
    expect(report.numCommitted).toBe(BigInt(GiB + 2 * BLOCK + 488 * 256));
  });

  it('a block that comes online while the next block is being added ends that block\'s wait', () => {
    // Linux hv_mem_hot_add re-arms ol_waitevent before add_memory; any MEM_ONLINE after that
    // (here: the late first block) completes the wait of the block being added.
    const { h } = guest({ onlineDelayMs: 5_500, vcpuDelayMs: 1_000 });
    const t0 = h.clock.now();
    const range = { startPage: P, pageCount: 2 * BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range, region: range });
    h.run(20_000);
    // Block 1 added at ~1 s, its wait times out at ~6 s; block 2 is being added (6 s .. 7 s) when
    // block 1 comes online (6.5 s), so block 2 does not wait its own 5 s.
    expect(h.blocksAdded.map((b) => Math.round((b.timeMs - t0) / 100) / 10)).toEqual([1, 7]);
    const [response] = h.host.timed('DM_MEM_HOT_ADD_RESPONSE');
    expect(response!.message.pageCount).toBe(2 * BLOCK);
    expect(response!.timeMs - t0).toBeLessThan(7_100);
  });

  it('onlines the part of a block beyond a host region without counting it as onlined', () => {
    // Linux hv_online_page: pages in no region go online through generic_online_page, outside
    // num_pages_onlined. A 100 MiB host region gets a whole 128 MiB block.
    const { h, memory } = guest({ profile: { profile: 'linux', pressureReportDelay: 0 } });
    const small = { startPage: P, pageCount: 25_600 };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: small, region: small });
    h.run(500);
    expect(memory.onlined).toBe(BLOCK);
    expect(h.guest.getSnapshot().context.hotAdd.onlinedPages).toBe(25_600);
    // A second block nobody onlines: num_committed counts all of its pages (added - onlined).
    h.bus.detach('memctl');
    const next = { startPage: P + BLOCK, pageCount: BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 2, range: next, region: next });
    h.run(7_000);
    const ha = h.guest.getSnapshot().context.hotAdd;
    expect([ha.addedPages, ha.onlinedPages]).toEqual([25_600 + BLOCK, 25_600]);
    const report = h.host.messages('DM_STATUS_REPORT').at(-1)!;
    expect(report.numCommitted).toBe(BigInt(GiB + BLOCK + balloonFloorPages(memory.managedPages())));
  });

  it('logs the failure when hot-add got disabled part-way, although pages were added', () => {
    const { h } = guest();
    const second = { startPage: P + BLOCK, pageCount: BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: second, region: second });
    h.run(500);
    expect(h.logTexts()).not.toContain('Memory hot add failed');
    // Two blocks from P: the first is added, the second collides with the block above (-EEXIST).
    const both = { startPage: P, pageCount: 2 * BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 2, range: both, region: both });
    h.run(500);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([
      [BLOCK, 1],
      [BLOCK, 1],
    ]);
    expect(h.guest.getSnapshot().context.work.hotAddEnabled).toBe(false);
    expect(h.logTexts()).toEqual(expect.arrayContaining(['hot_add memory failed error is -17', 'Memory hot add failed']));
  });

  it('-EEXIST (the address map precludes hot-add) fails the request with result 1 and disables hot-add for good', () => {
    const { h, memory } = guest();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: GiB, pageCount: BLOCK } });
    h.run(100);
    expect(h.logTexts()).toEqual(expect.arrayContaining(['hot_add memory failed error is -17', 'Memory hot add failed']));
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([[0, 1]]);
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 2, range: { startPage: P, pageCount: BLOCK } });
    h.run(100);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(memory.calls.filter((c) => c.startsWith('add'))).toHaveLength(1);
    expect(h.guest.getSnapshot().context.work.hotAddEnabled).toBe(false);
  });

  it('answers a request for 0 pages with result 0 (transient) and logs the failure', () => {
    const { h } = guest();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: P, pageCount: 0 } });
    h.run(50);
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([[0, 0]]);
    expect(h.logTexts()).toContain('Memory hot add failed');
    expect(h.guest.getSnapshot().context.work.hotAddEnabled).toBe(true);
  });

  it('refuses a region that is not block aligned with -EINVAL, without disabling hot-add', () => {
    const { h } = guest();
    const range = { startPage: P + 100, pageCount: BLOCK };
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range, region: range });
    h.run(50);
    expect(h.logTexts()).toContain('hot_add memory failed error is -22');
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => [r.pageCount, r.result])).toEqual([[0, 0]]);
    expect(h.guest.getSnapshot().context.work.hotAddEnabled).toBe(true);
  });

  it('queues a request that arrives while hot-adding and runs it afterwards', () => {
    const { h } = guest();
    h.host.send({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 1, range: { startPage: P, pageCount: BLOCK }, region: { startPage: P, pageCount: BLOCK } });
    h.run(20);
    h.host.send({
      type: 'DM_MEM_HOT_ADD_REQUEST',
      transId: 2,
      range: { startPage: P + BLOCK, pageCount: BLOCK },
      region: { startPage: P + BLOCK, pageCount: BLOCK },
    });
    h.run(1000);
    expect(h.logTexts()).toContain('Currently hot-adding');
    expect(h.host.messages('DM_MEM_HOT_ADD_RESPONSE').map((r) => r.pageCount)).toEqual([BLOCK, BLOCK]);
  });
});
