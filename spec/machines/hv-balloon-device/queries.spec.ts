/**
 * QMP/HMP replies computed from the device snapshot (QEMU hv-balloon.c hv_balloon_stat,
 * qmp_query_hv_balloon_status_report, hv_balloon_md_fill_device_info, and QEMU's HMP info
 * commands).
 */
import {
  deviceCounters,
  hmpInfoBalloon,
  hmpInfoMemoryDevices,
  queryBalloon,
  queryHvBalloonStatusReport,
  queryMemoryDevices,
} from '../../../machines/hv-balloon-device/queries';
import { BOOT_RAM_PAGES, PCI_HOLE_START } from './fake-host-memory';
import { DeviceHarness, GiB } from './harness';
import { toQmpJson } from '../../../actors/qmp/qmp-json';

const statusReport = (avail: bigint, committed: bigint) =>
  ({ type: 'DM_STATUS_REPORT', transId: 0, numAvail: avail, numCommitted: committed, pageFileSize: 0n, zeroFree: 0n, pageFileWrites: 0, ioDiff: 0 }) as const;

describe('hv-balloon device: queries', () => {
  it('query-balloon: actual = (ram_total - removed_both) x 4096; only "both" pages count', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    expect(queryBalloon(h.snapshot)).toEqual({ actual: 4 * GiB });
    h.setTarget(BOOT_RAM_PAGES - 300);
    h.balloonResponse([
      { startPage: 0x1000, pageCount: 200 },
      { startPage: PCI_HOLE_START, pageCount: 100 },
    ]);
    expect(queryBalloon(h.snapshot)).toEqual({ actual: 4 * GiB - 200 * 4096 });
  });

  it('info balloon prints the actual size in MiB', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    expect(hmpInfoBalloon(h.snapshot)).toBe('balloon: actual=4096\n');
    h.setTarget(BOOT_RAM_PAGES - 256 * 1024);
    h.balloonResponse([{ startPage: 0x100000, pageCount: 256 * 1024 }]);
    expect(hmpInfoBalloon(h.snapshot)).toBe('balloon: actual=3072\n');
  });

  it('query-hv-balloon-status-report: QEMU\'s three errors, then the last report in bytes', () => {
    expect(queryHvBalloonStatusReport(undefined)).toEqual({
      ok: false,
      error: { class: 'GenericError', desc: 'no hv-balloon device present' },
    });
    const off = new DeviceHarness({ statusReport: false });
    off.bootToIdle();
    off.guest.write(statusReport(1n, 2n));
    off.run();
    expect(queryHvBalloonStatusReport(off.snapshot)).toEqual({
      ok: false,
      error: { class: 'GenericError', desc: 'guest memory status reporting not enabled' },
    });
    expect(off.emitted.filter((e) => e.type === 'status-report')).toEqual([]);

    const on = new DeviceHarness({ statusReport: true });
    on.bootToIdle();
    expect(queryHvBalloonStatusReport(on.snapshot)).toEqual({
      ok: false,
      error: { class: 'GenericError', desc: 'no guest memory status report received yet' },
    });
    on.guest.write(statusReport(813_734n, 199_375n));
    on.run();
    expect(queryHvBalloonStatusReport(on.snapshot)).toEqual({ ok: true, value: { committed: 816_640_000, available: 3_333_054_464 } });
    expect(on.emitted.filter((e) => e.type === 'status-report')).toEqual([
      { type: 'status-report', committed: 816_640_000, available: 3_333_054_464 },
    ]);
  });

  it('values above 2^53 stay exact, as the u64s QEMU prints (toQmpJson prints the bigint as is)', () => {
    const h = new DeviceHarness({ statusReport: true });
    h.bootToIdle();
    // (2^50 + 3) pages = 2^62 + 12288 bytes: not a safe JavaScript integer.
    h.guest.write(statusReport(2n ** 50n + 3n, 2n ** 40n));
    h.run();
    const r = queryHvBalloonStatusReport(h.snapshot);
    expect(r).toEqual({ ok: true, value: { committed: 2 ** 52, available: 2n ** 62n + 12_288n } });
    expect(r.ok && toQmpJson(r.value)).toBe('{"committed": 4503599627370496, "available": 4611686018427400192}');
  });

  it('status reports are taken in every receiving state, even during negotiation, and never change the state', () => {
    const h = new DeviceHarness({ statusReport: true });
    h.powerOn();
    h.guest.write(statusReport(1n, 1n));
    h.run();
    expect(h.state).toBe('S_VERSION');
    expect(h.context.statusReport.received).toBe(true);
  });

  it('a short status report is warned about even when reports are off (the size check comes first)', () => {
    const h = new DeviceHarness({ statusReport: false });
    h.bootToIdle();
    const bytes = new Uint8Array(40);
    new DataView(bytes.buffer).setUint16(0, 5, true);
    h.guest.write(bytes);
    h.run();
    expect(h.warnings().map((w) => w.text)).toEqual(['DM_STATUS_REPORT message too short (40 vs 48), ignoring']);
  });

  it('query-memory-devices: memaddr and memdev only with a memdev; max-size is the whole memdev', () => {
    const h = new DeviceHarness({ id: 'hvb', memdev: { id: 'mem0', sizeBytes: 2 * GiB, addrBytes: 0x800000000 } });
    expect(queryMemoryDevices(h.snapshot)).toEqual({
      type: 'hv-balloon',
      data: { id: 'hvb', memaddr: 0x800000000, 'max-size': 2147483648, memdev: '/objects/mem0' },
    });
    expect(Object.keys(queryMemoryDevices(h.snapshot).data)).toEqual(['id', 'memaddr', 'max-size', 'memdev']);
    expect(hmpInfoMemoryDevices(h.snapshot)).toBe(
      'Memory device [hv-balloon]: "hvb"\n  memaddr: 0x800000000\n  max-size: 2147483648\n  memdev: /objects/mem0\n',
    );

    const bare = new DeviceHarness({ memdev: false });
    expect(queryMemoryDevices(bare.snapshot)).toEqual({ type: 'hv-balloon', data: { 'max-size': 0 } });
    expect(hmpInfoMemoryDevices(bare.snapshot)).toBe('Memory device [hv-balloon]: ""\n  max-size: 0\n');
  });

  it('max-size stays the memdev size whatever was hot-added', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES + 32_768);
    h.guest.write({ type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: 32_768, result: 1 });
    h.run();
    expect(queryMemoryDevices(h.snapshot).data['max-size']).toBe(4 * GiB);
  });

  it('device counters: state, trans_id, trees, per-kind warnings', () => {
    const h = new DeviceHarness();
    h.bootToIdle();
    h.setTarget(BOOT_RAM_PAGES - 110);
    h.balloonResponse([
      { startPage: 0x1000, pageCount: 100 },
      { startPage: PCI_HOLE_START, pageCount: 10 },
    ]);
    const c = deviceCounters(h.snapshot);
    expect(c.state).toBe('S_IDLE');
    expect(c.stateNumber).toBe(6);
    expect(c.transId).toBe(1);
    expect(c.trees.globalBoth).toMatchObject({ pages: 100, ranges: 1 });
    expect(c.trees.globalGuest).toMatchObject({ pages: 10, ranges: 1 });
    expect(c.warnings.removedPageNotFound).toBe(10);
    expect(c.ourRange).toBeNull();
    expect(c.loop.packets).toBeGreaterThan(0);
  });
});
