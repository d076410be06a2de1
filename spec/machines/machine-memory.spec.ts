import { MAX_PAGE_COUNT } from '../../protocol/constants';
import { MachineMemory, MemoryModelError, REGION_ENTRY_BYTES } from '../../machines/machine-memory';
import { METADATA_BYTES_PER_RANGE } from '../../machines/page-range-tree';
import { placeMemdevWindow } from '../../machines/pc-memory-map';

const GiB = 1024 ** 3;
const page = (bytes: number): number => bytes / 4096;
const LOW_END = page(3 * GiB);
const HIGH_START = page(4 * GiB);
const HIGH_END = page(5 * GiB);

/**
 * These specs cover the simple model (kernelReservedPages given: one zone, the reservation from
 * the lowest RAM, balloon units from the top). The calibrated Linux model, the default, has its
 * own specs in spec/machines/linux-memory/.
 */
const SIMPLE = { kernelReservedPages: 16384 };

function guest4G(extra: Partial<ConstructorParameters<typeof MachineMemory>[0]> = {}): MachineMemory {
  return new MachineMemory({ ramBytes: 4 * GiB, maxmemBytes: 40 * GiB, ...SIMPLE, ...extra });
}

describe('boot state', () => {
  test('boot RAM is free except the kernel reservation, taken from the lowest RAM', () => {
    const m = guest4G();
    const visible = page(4 * GiB) - 96; // the legacy hole hides 96 pages
    expect(m.rangesIn('kernel')).toEqual([
      { startPage: 0, pageCount: 0xa0 },
      { startPage: 0x100, pageCount: 16384 - 0xa0 },
    ]);
    expect(m.rangesIn('free')).toEqual([
      { startPage: 0x100 + 16384 - 0xa0, pageCount: LOW_END - (0x100 + 16384 - 0xa0) },
      { startPage: HIGH_START, pageCount: HIGH_END - HIGH_START },
    ]);
    expect(m.managedPages()).toBe(visible);
    expect(m.freePages()).toBe(visible - 16384);
    expect(m.committedPages()).toBe(16384);
    expect(m.balloonedPages()).toBe(0);
    // The host backs all of pc.ram, the PAM-shadowed 0xC0000-0xFFFFF included (64 pages).
    expect(m.residentPages()).toBe(visible + 64);
    expect(m.bootRamPages).toBe(page(4 * GiB));
    expect(m.pcDimmPages).toBe(0);
  });

  test('MemAvailable is free minus the high watermark', () => {
    const m = guest4G();
    const wm = m.watermarks();
    expect(wm.min).toBeGreaterThan(0);
    expect(wm.low).toBeGreaterThan(wm.min);
    expect(wm.high).toBeGreaterThan(wm.low);
    expect(m.availablePages()).toBe(m.freePages() - wm.high);
  });

  test('config errors name the field', () => {
    expect(() => new MachineMemory({ ramBytes: 64 * 1024 * 1024, ...SIMPLE })).toThrow(/kernelReservedPages \(16384\) must be smaller/);
    expect(() => guest4G({ kernelReservedPages: -1 })).toThrow(MemoryModelError);
    expect(() => guest4G({ memdevHostPageSize: 3000 })).toThrow(/memdevHostPageSize must be a power of two >= 4096, got 3000/);
  });
});

describe('host view: findSection', () => {
  test('RAM, MMIO and ROM sections carry their region name and are clipped to the window', () => {
    const m = guest4G();
    expect(m.findSection(0x10, 0x1000)).toEqual({
      kind: 'ram',
      startPage: 0x10,
      pageCount: 0xa0 - 0x10,
      name: 'pc.ram',
      hostPageSize: 4096,
      hostAligned: true,
    });
    expect(m.findSection(0x100, 8).pageCount).toBe(8);
    expect(m.findSection(0xa5, 1000)).toMatchObject({ kind: 'mmio', name: 'vga-lowmem', startPage: 0xa5, pageCount: 0xc0 - 0xa5 });
    expect(m.findSection(0xfffc0, 0x100)).toMatchObject({ kind: 'rom', name: 'pc.bios', pageCount: 0x40 });
    // QEMU's flat view: the PCI hole holds only the platform's MMIO; the rest is absent.
    expect(m.findSection(LOW_END, 1)).toMatchObject({ kind: 'unmapped', pageCount: 1 });
    expect(m.findSection(LOW_END, 0x100000)).toMatchObject({ kind: 'unmapped', pageCount: 0xfec00 - LOW_END });
    expect(m.findSection(0xfec00, 0x10)).toMatchObject({ kind: 'mmio', name: 'ioapic', pageCount: 1 });
    // The HPET's 1 KiB region is smaller than a page: QEMU's section is 0 pages long.
    expect(m.findSection(0xfed00, 0x10)).toMatchObject({ kind: 'mmio', name: 'hpet', pageCount: 0 });
    expect(m.findSection(0xfee00, 0x1000)).toMatchObject({ kind: 'mmio', name: 'apic-msi', pageCount: 0x100 });
  });

  test('a hole is one unmapped section up to the next region or the end of the window', () => {
    const m = guest4G();
    expect(m.findSection(HIGH_END, 1_000_000)).toEqual({
      kind: 'unmapped',
      startPage: HIGH_END,
      pageCount: 1_000_000,
      name: 'unmapped',
      hostPageSize: 4096,
      hostAligned: false,
    });
    m.mapDeviceMemory({ startPage: page(32 * GiB), pageCount: 32768 }, 'hv-balloon-slot-0');
    expect(m.findSection(HIGH_END, 100_000_000)).toMatchObject({ kind: 'unmapped', pageCount: page(32 * GiB) - HIGH_END });
  });

  test('a mapped memdev slot is RAM with its name and the memdev host page size', () => {
    const m = guest4G({ memdevHugepages: true });
    m.mapDeviceMemory({ startPage: page(32 * GiB), pageCount: 32768 }, 'hv-balloon-slot-0');
    expect(m.findSection(page(32 * GiB) + 5, 1 << 20)).toEqual({
      kind: 'ram',
      startPage: page(32 * GiB) + 5,
      pageCount: 32768 - 5,
      name: 'hv-balloon-slot-0',
      hostPageSize: 2 * 1024 * 1024,
      hostAligned: true,
    });
  });
});

describe('host view: backing and device memory', () => {
  test('discarding RAM lowers residentPages; non-RAM is refused', () => {
    const m = guest4G();
    const before = m.residentPages();
    expect(m.discard({ startPage: HIGH_START, pageCount: 1000 })).toBe(true);
    expect(m.residentPages()).toBe(before - 1000);
    // The same pages twice count once.
    expect(m.discard({ startPage: HIGH_START + 500, pageCount: 1000 })).toBe(true);
    expect(m.residentPages()).toBe(before - 1500);
    expect(m.discard({ startPage: 0xa0, pageCount: 1 })).toBe(false);
    expect(m.discard({ startPage: LOW_END - 1, pageCount: 2 })).toBe(false); // runs into the PCI hole
    expect(m.discard({ startPage: HIGH_END, pageCount: 1 })).toBe(false);
    expect(m.residentPages()).toBe(before - 1500);
  });

  test('pages the workload allocates or dirties become resident again', () => {
    const m = guest4G();
    const [low] = m.rangesIn('free');
    m.discard({ startPage: low.startPage, pageCount: 2000 });
    const resident = m.residentPages();
    m.allocateUsed(500);
    expect(m.residentPages()).toBe(resident + 500);
    // Discard pages the workload holds (e.g. a host that ignores the guest), then dirty them.
    m.discard({ startPage: low.startPage, pageCount: 500 });
    expect(m.dirty(200)).toBe(200);
    expect(m.residentPages()).toBe(resident + 200);
    expect(m.dirty(10_000)).toBe(300);
    expect(m.dirty(10)).toBe(0);
  });

  test('mapped memdev slots are lazily backed; release unmaps them and drops guest state in the window', () => {
    const m = guest4G();
    const w = placeMemdevWindow(m.map, { memdevBytes: 2 * GiB });
    const resident = m.residentPages();
    m.mapDeviceMemory({ startPage: w.startPage, pageCount: 32768 }, 'hv-balloon-slot-0');
    m.mapDeviceMemory({ startPage: w.startPage + 32768, pageCount: 32768 }, 'hv-balloon-slot-1');
    expect(m.residentPages()).toBe(resident);
    expect(m.mappedSlots().map((s) => s.name)).toEqual(['hv-balloon-slot-0', 'hv-balloon-slot-1']);
    expect(m.addMemoryBlock({ startPage: w.startPage, pageCount: 32768 })).toBe('ok');
    m.onlinePages({ startPage: w.startPage, pageCount: 32768 });
    m.allocateBalloonUnits(512, 4); // from the top: the new block
    expect(m.residentPages()).toBe(resident);
    m.releaseDeviceMemory(w);
    expect(m.mappedSlots()).toEqual([]);
    expect(m.findSection(w.startPage, 10)).toMatchObject({ kind: 'unmapped' });
    expect(m.stateCounts(w).absent).toBe(w.pageCount);
    expect(m.balloonedPages()).toBe(0);
    expect(m.residentPages()).toBe(resident);
  });

  test('device memory can only be mapped inside the device-memory area and once', () => {
    const m = guest4G();
    expect(() => m.mapDeviceMemory({ startPage: HIGH_START, pageCount: 1 }, 'x')).toThrow(/outside device memory/);
    m.mapDeviceMemory({ startPage: page(32 * GiB), pageCount: 10 }, 'a');
    expect(() => m.mapDeviceMemory({ startPage: page(32 * GiB) + 5, pageCount: 10 }, 'b')).toThrow(/b overlaps a/);
    expect(() => new MachineMemory({ ramBytes: 4 * GiB, ...SIMPLE }).mapDeviceMemory({ startPage: page(32 * GiB), pageCount: 1 }, 'a')).toThrow(
      /no device-memory area/,
    );
  });
});

describe('guest view: balloon', () => {
  test('2 MiB units are 2 MiB-aligned, one range each, from the highest free memory down', () => {
    const m = guest4G();
    const units = m.allocateBalloonUnits(512, 3);
    expect(units).toEqual([
      { startPage: HIGH_END - 512, pageCount: 512 },
      { startPage: HIGH_END - 1024, pageCount: 512 },
      { startPage: HIGH_END - 1536, pageCount: 512 },
    ]);
    // Three 4 KiB pages off the top leave a partial 2 MiB block that a 2 MiB unit skips.
    const m2 = guest4G();
    expect(m2.allocateBalloonUnits(1, 3)).toEqual([
      { startPage: HIGH_END - 1, pageCount: 1 },
      { startPage: HIGH_END - 2, pageCount: 1 },
      { startPage: HIGH_END - 3, pageCount: 1 },
    ]);
    expect(m2.allocateBalloonUnits(512, 1)).toEqual([{ startPage: HIGH_END - 1024, pageCount: 512 }]);
    for (const u of m.allocateBalloonUnits(512, 2000)) expect(u.startPage % 512).toBe(0);
  });

  test('units stop when no aligned unit fits; the min watermark is never taken', () => {
    const m = new MachineMemory({ ramBytes: 256 * 1024 * 1024, kernelReservedPages: 1000 });
    const units = m.allocateBalloonUnits(512, 1_000_000);
    expect(units.length).toBeGreaterThan(0);
    expect(m.allocateBalloonUnits(512, 1)).toEqual([]);
    const small = m.allocateBalloonUnits(1, 1_000_000);
    expect(small.length).toBeGreaterThan(0);
    expect(m.freePages()).toBe(m.watermarks().min);
    expect(m.allocateBalloonUnits(1, 1)).toEqual([]);
  });

  test('ballooning moves pages out of free and managed memory, not out of committed', () => {
    const m = guest4G();
    const managed = m.managedPages();
    const free = m.freePages();
    const committed = m.committedPages();
    m.allocateBalloonUnits(512, 100);
    expect(m.balloonedPages()).toBe(51_200);
    expect(m.managedPages()).toBe(managed - 51_200);
    expect(m.freePages()).toBe(free - 51_200);
    expect(m.committedPages()).toBe(committed);
    expect(m.rangesIn('ballooned')).toEqual([{ startPage: HIGH_END - 51_200, pageCount: 51_200 }]);
  });

  test('releaseBalloonRange returns only pages that were ballooned and leaves others alone', () => {
    const m = guest4G();
    m.allocateBalloonUnits(512, 2);
    const free = m.freePages();
    // A range covering one unit plus 100 free pages below it.
    expect(m.releaseBalloonRange({ startPage: HIGH_END - 1024 - 100, pageCount: 612 })).toBe(512);
    expect(m.balloonedPages()).toBe(512);
    expect(m.freePages()).toBe(free + 512);
    expect(m.releaseBalloonRange({ startPage: HIGH_END - 1024, pageCount: 512 })).toBe(0);
  });

  test('contiguous ballooning takes the largest free runs first, from their high end, in ranges of at most 2^24-1 pages', () => {
    const m = guest4G();
    // The low run (about 2.9 GiB) is larger than the high one (1 GiB).
    expect(m.allocateBalloonContiguous(100, 10)).toEqual([{ startPage: LOW_END - 100, pageCount: 100 }]);
    const big = new MachineMemory({ ramBytes: 1024 * GiB, ...SIMPLE });
    const top = page(1025 * GiB);
    expect(big.allocateBalloonContiguous(2 ** 25, 10)).toEqual([
      { startPage: top - MAX_PAGE_COUNT, pageCount: MAX_PAGE_COUNT },
      { startPage: top - 2 * MAX_PAGE_COUNT, pageCount: MAX_PAGE_COUNT },
      { startPage: top - 2 * MAX_PAGE_COUNT - 2, pageCount: 2 },
    ]);
    expect(big.allocateBalloonContiguous(2 ** 25, 1)).toHaveLength(1);
  });
});

describe('guest view: hot-add', () => {
  test('a block over present memory or a static region is -EEXIST; a new one is offline until onlined', () => {
    const m = guest4G();
    expect(m.addMemoryBlock({ startPage: HIGH_START, pageCount: 32768 })).toBe('exists');
    expect(m.addMemoryBlock({ startPage: LOW_END, pageCount: 32768 })).toBe('exists'); // PCI hole
    expect(m.addMemoryBlock({ startPage: HIGH_END - 1, pageCount: 32768 })).toBe('exists'); // straddles RAM
    const block = { startPage: page(32 * GiB), pageCount: 32768 };
    const managed = m.managedPages();
    expect(m.addMemoryBlock(block)).toBe('ok');
    expect(m.offlinePageCount()).toBe(32768);
    expect(m.managedPages()).toBe(managed);
    expect(m.addMemoryBlock({ startPage: block.startPage + 100, pageCount: 10 })).toBe('exists');
    expect(m.onlinePages({ startPage: block.startPage, pageCount: 1000 })).toBe(1000);
    expect(m.onlinePages(block)).toBe(31_768);
    expect(m.onlinePages(block)).toBe(0);
    expect(m.managedPages()).toBe(managed + 32768);
    expect(m.stateCounts(block)).toMatchObject({ free: 32768, offline: 0, absent: 0 });
  });
});

describe('workload', () => {
  test('allocateUsed takes the lowest free memory; freeUsed gives back the highest used pages', () => {
    const m = guest4G();
    const [low] = m.rangesIn('free');
    expect(m.allocateUsed(1000)).toEqual([{ startPage: low.startPage, pageCount: 1000 }]);
    expect(m.committedPages()).toBe(16384 + 1000);
    expect(m.freeUsed(300)).toBe(300);
    expect(m.rangesIn('used')).toEqual([{ startPage: low.startPage, pageCount: 700 }]);
    expect(m.freeUsed(10_000)).toBe(700);
    expect(m.workloadUsedPages()).toBe(0);
    // The kernel reservation is not workload memory.
    expect(m.committedPages()).toBe(16384);
  });

  test('an allocation larger than the low run continues above 4 GiB and stops at the min watermark', () => {
    const m = guest4G();
    const [low] = m.rangesIn('free');
    const got = m.allocateUsed(low.pageCount + 10);
    expect(got).toEqual([low, { startPage: HIGH_START, pageCount: 10 }]);
    m.allocateUsed(10_000_000);
    expect(m.freePages()).toBe(m.watermarks().min);
  });

  test('resetToBoot restores the boot page states and drops hot-added memory', () => {
    const m = guest4G();
    const boot = { free: m.rangesIn('free'), kernel: m.rangesIn('kernel') };
    m.allocateUsed(5000);
    m.allocateBalloonUnits(512, 10);
    m.addMemoryBlock({ startPage: page(32 * GiB), pageCount: 32768 });
    m.resetToBoot();
    expect(m.rangesIn('free')).toEqual(boot.free);
    expect(m.rangesIn('kernel')).toEqual(boot.kernel);
    expect(m.rangesIn('used')).toEqual([]);
    expect(m.rangesIn('ballooned')).toEqual([]);
    expect(m.rangesIn('offline')).toEqual([]);
  });
});

describe('metadata cost', () => {
  function afterSameOperations(ramBytes: number): number {
    const m = new MachineMemory({ ramBytes, maxmemBytes: ramBytes + 64 * GiB, ...SIMPLE });
    const w = placeMemdevWindow(m.map, { memdevBytes: 8 * GiB });
    m.allocateUsed(100_000);
    m.allocateBalloonUnits(512, 100);
    m.freeUsed(20_000);
    expect(m.discard(m.rangesIn('ballooned')[0])).toBe(true);
    m.mapDeviceMemory({ startPage: w.startPage, pageCount: 32768 }, 'hv-balloon-slot-0');
    m.addMemoryBlock({ startPage: w.startPage, pageCount: 32768 });
    m.onlinePages({ startPage: w.startPage, pageCount: 32768 });
    m.allocateBalloonUnits(1, 3);
    m.releaseBalloonRange({ startPage: m.rangesIn('ballooned')[0].startPage, pageCount: 512 });
    m.dirty(1000);
    return m.metadataBytes();
  }

  test('a 1 TiB contiguous guest costs exactly what a 4 GiB or a 16 TiB one costs after the same operations', () => {
    const fourGiB = afterSameOperations(4 * GiB);
    expect(afterSameOperations(1024 * GiB)).toBe(fourGiB);
    expect(afterSameOperations(16 * 1024 * GiB)).toBe(fourGiB);
  });

  test('a 1 TiB guest costs no more than a 1 GiB one beyond the fixed cost of RAM above 4 GiB', () => {
    // A 1 GiB guest has no RAM above 4 GiB: the 1 TiB guest has one more map region and one more
    // free range (the PCI hole splits its RAM). Nothing else may differ: nothing grows with size.
    const oneGiB = afterSameOperations(GiB);
    const oneTiB = afterSameOperations(1024 * GiB);
    expect(oneTiB).toBeLessThanOrEqual(oneGiB + REGION_ENTRY_BYTES + METADATA_BYTES_PER_RANGE);
  });
});
