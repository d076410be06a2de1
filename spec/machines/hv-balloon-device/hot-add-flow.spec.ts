/**
 * Growing the guest beyond its boot RAM: the hot-add range, alignment, chunks, memslots and the
 * unusable tail (QEMU hv-balloon.c hv_balloon_hot_add_setup, hv_balloon_hot_add_posting,
 * hv_balloon_handle_hot_add_response; hv-balloon-our_range_memslots.c).
 */
import type { DmCaps } from '../../../protocol/messages';
import { queryBalloon } from '../../../machines/hv-balloon-device/queries';
import { BOOT_RAM_PAGES } from './fake-host-memory';
import { DeviceHarness, GiB, LINUX_CAPS } from './harness';

const WINDOW_START = (32 * GiB) / 4096;
const MiB128 = 32_768;

function caps(hotAddAlignment: number): DmCaps {
  return { ...LINUX_CAPS, hotAddAlignment };
}

function hotAddRequests(h: DeviceHarness) {
  return h.guest.messages('DM_MEM_HOT_ADD_REQUEST');
}

function answer(h: DeviceHarness, pageCount: number, result = 1): void {
  h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 7, pageCount, result });
  h.run();
}

describe('hv-balloon device: hot-add flow', () => {
  it('creates the hot-add range over the whole memdev window and asks for an aligned range with region = range', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 40_000);
    expect(h.traces('hv_balloon_our_range_add')[0]?.args).toEqual({ count: (4 * GiB) / 4096, start: WINDOW_START });
    // 40 000 pages aligned DOWN to 128 MiB (the Linux alignment 2^7 MiB).
    expect(hotAddRequests(h)).toEqual([
      {
        type: 'DM_MEM_HOT_ADD_REQUEST',
        transId: 0,
        range: { startPage: WINDOW_START, pageCount: MiB128 },
        region: { startPage: WINDOW_START, pageCount: MiB128 },
      },
    ]);
    expect(h.state).toBe('S_HOT_ADD_REPLY_WAIT');
    answer(h, MiB128);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.ourRange).toMatchObject({ added: MiB128, unusableTail: 0 });
    expect(h.context.transId).toBe(1);
    expect(queryBalloon(h.snapshot).actual).toBe((BOOT_RAM_PAGES + MiB128) * 4096);
  });

  it('takes the alignment from the capabilities: 2^0 MiB = 256 pages', () => {
    const h = new DeviceHarness();
    h.bootToIdle(caps(0));
    h.setTarget(BOOT_RAM_PAGES + 1000);
    expect(hotAddRequests(h).map((r) => r.range.pageCount)).toEqual([768]);
  });

  it('goes back to IDLE without a request when less than one alignment unit is wanted', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 1000);
    expect(h.state).toBe('S_IDLE');
    expect(hotAddRequests(h)).toEqual([]);
    expect(h.context.ourRange).toBeDefined();
    expect(h.memory.mapped).toEqual([]);
  });

  it('splits a large hot-add into chunks of at most 524 288 pages, one transaction each', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 3 * 262_144);
    expect(hotAddRequests(h).map((r) => [r.transId, r.range.startPage - WINDOW_START, r.range.pageCount])).toEqual([[0, 0, 524_288]]);
    answer(h, 524_288);
    expect(hotAddRequests(h).map((r) => [r.transId, r.range.startPage - WINDOW_START, r.range.pageCount])).toEqual([
      [0, 0, 524_288],
      [1, 524_288, 262_144],
    ]);
    answer(h, 262_144);
    expect(h.state).toBe('S_IDLE');
    expect(h.context.ourRange?.added).toBe(786_432);
    expect(h.context.transId).toBe(2);
  });

  it('lets an alignment of 2 GiB or more override the chunk size', () => {
    const h = new DeviceHarness({ memdev: { sizeBytes: 8 * GiB } });
    h.bootToIdle(caps(12)); // 4 GiB alignment
    h.setTarget(BOOT_RAM_PAGES + 2 * 1_048_576);
    expect(hotAddRequests(h).map((r) => r.range.pageCount)).toEqual([1_048_576]);
  });

  it('maps the memslots for the whole planned count before sending the first request', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 3 * 262_144);
    // 4 GiB window, limit 256 -> 32 slots of 128 MiB; 3 GiB planned -> slots 0..23.
    expect(h.memory.mapped.map((m) => m.name)).toEqual(Array.from({ length: 24 }, (_, i) => `memslot-${i}`));
    expect(h.memory.mapped[1]?.range).toEqual({ startPage: WINDOW_START + MiB128, pageCount: MiB128 });
    const order = h.emitted
      .filter((e) => e.type === 'trace' && (e.name === 'hv_balloon_map_slot' || e.name === 'hv_balloon_outgoing_hot_add'))
      .map((e) => (e.type === 'trace' ? e.name : ''));
    expect(order.indexOf('hv_balloon_outgoing_hot_add')).toBe(24);
    expect(h.context.ourRange?.mappedSlots).toBe(24);
    answer(h, 524_288);
    // The second chunk needs no new slot.
    expect(h.memory.mapped).toHaveLength(24);
  });

  it('marks the rest of the range unusable after a partial answer, until a system reset', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 2 * MiB128);
    answer(h, MiB128);
    expect(h.state).toBe('S_IDLE');
    const windowPages = (4 * GiB) / 4096;
    expect(h.context.ourRange).toMatchObject({ added: MiB128, unusableTail: windowPages - MiB128 });
    // Later hot-adds plan 0 pages and go back to IDLE.
    h.setTarget(BOOT_RAM_PAGES + 10 * MiB128);
    expect(hotAddRequests(h)).toHaveLength(1);
    expect(h.state).toBe('S_IDLE');
    expect(h.warnings()).toEqual([]);
    // A system reset frees the range; the next hot-add starts from 0 again.
    h.post({ type: 'system.reset' });
    expect(h.context.ourRange).toBeUndefined();
    expect(h.memory.released).toEqual([{ startPage: WINDOW_START, pageCount: windowPages }]);
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    expect(hotAddRequests(h).map((r) => r.range.startPage)).toEqual([WINDOW_START, WINDOW_START]);
  });

  it('after a partial answer with an unaligned page count, reports QEMU\'s start assertion at every later hot-add and stays up', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 2 * MiB128);
    answer(h, MiB128 + 100);
    expect(h.context.ourRange).toMatchObject({ added: MiB128 + 100, unusableTail: (4 * GiB) / 4096 - MiB128 - 100 });
    // QEMU checks the start's alignment before it finds nothing left to add, and aborts; we report it (docs/divergences.md).
    const text = `assertion failed: hot-add range start ${WINDOW_START + MiB128 + 100} is not aligned to ${MiB128} pages (QEMU aborts here)`;
    h.setTarget(BOOT_RAM_PAGES + 10 * MiB128);
    h.setTarget(BOOT_RAM_PAGES + 11 * MiB128);
    expect(h.warnings('hotAddStartUnaligned').map((w) => [w.level, w.text])).toEqual([
      ['error', text],
      ['error', text],
    ]);
    expect(hotAddRequests(h)).toHaveLength(1);
    expect(h.state).toBe('S_IDLE');
    expect(h.snapshot.status).toBe('active');
  });

  it('treats result = 0 as a permanent failure', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    answer(h, MiB128, 0);
    expect(h.context.ourRange).toMatchObject({ added: 0, unusableTail: (4 * GiB) / 4096 });
    expect(h.context.transId).toBe(1);
    h.setTarget(BOOT_RAM_PAGES + 2 * MiB128);
    expect(hotAddRequests(h)).toHaveLength(1);
  });

  it('clamps a page count higher than requested, with QEMU\'s warning', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + MiB128);
    answer(h, MiB128 * 3);
    expect(h.warnings().map((w) => w.text)).toEqual([`DM_HOT_ADD_RESPONSE page count higher than requested (${MiB128 * 3} vs ${MiB128})`]);
    expect(h.context.ourRange).toMatchObject({ added: MiB128, unusableTail: 0 });
    expect(h.state).toBe('S_IDLE');
  });

  it('does nothing without a memdev, and nothing for a guest without the hot_add capability', () => {
    const a = new DeviceHarness({ memdev: false });
    a.bootToIdle();
    a.setTarget(BOOT_RAM_PAGES + MiB128);
    expect(a.state).toBe('S_IDLE');
    expect(a.context.ourRange).toBeUndefined();
    expect(hotAddRequests(a)).toEqual([]);

    const b = new DeviceHarness();
    b.bootToIdle({ ...LINUX_CAPS, hotAdd: false });
    b.setTarget(BOOT_RAM_PAGES + MiB128);
    expect(b.context.hotAddDiff).toBe(0);
    expect(hotAddRequests(b)).toEqual([]);
  });

  it('caps a target above what is possible silently at the memdev size', () => {
    const h = new DeviceHarness({ memdev: { sizeBytes: 2 * GiB } });
    h.bootToIdle();
    h.guest.onMessage = (m) => {
      if (m.type === 'DM_MEM_HOT_ADD_REQUEST') h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: m.range.pageCount, result: 1 });
    };
    h.setTarget(8000 * 256);
    h.run(10);
    // QEMU observed: a 4 GiB guest with a 2 GiB memdev after `balloon 8000` shows actual=6144.
    expect(queryBalloon(h.snapshot).actual / 2 ** 20).toBe(6144);
    expect(h.warnings()).toEqual([]);
  });
});
