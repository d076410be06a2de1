import { MachineMemory } from '../../../machines/machine-memory';
import { unitsOfRuns } from '../../../protocol/balloon-response-units';
import { DEFAULT_LINUX_MEMORY, LinuxMemoryParamError, resolveLinuxMemory } from '../../../machines/linux-memory/linux-memory-params';
import { zoneLimits } from '../../../machines/linux-memory/zones';

const GiB = 1024 ** 3;
const q35 = (extra: Partial<ConstructorParameters<typeof MachineMemory>[0]> = {}): MachineMemory =>
  new MachineMemory({ machineType: 'q35', ramBytes: 4 * GiB, maxmemBytes: 44 * GiB, ...extra });

function merged(ranges: { startPage: number; pageCount: number }[]): string[] {
  const runs: { s: number; c: number }[] = [];
  for (const r of ranges) {
    const last = runs[runs.length - 1];
    if (last && last.s + last.c === r.startPage) last.c += r.pageCount;
    else runs.push({ s: r.startPage, c: r.pageCount });
  }
  return runs.map((r) => `${r.c} @ 0x${r.s.toString(16)}`);
}

describe('the Linux guest at boot (the recorded 4 GiB q35 guest, Linux 6.12)', () => {
  it('MemTotal, MemFree and MemAvailable are what the recorded guest showed (4016444, 3980888, 3856988 kB)', () => {
    const m = q35();
    expect(m.managedPages() * 4).toBe(4_016_444);
    expect(m.freePages() * 4).toBe(3_980_888);
    expect(m.availablePages() * 4).toBe(3_856_988);
    // Committed_AS of the minimal guest: 3096 kB.
    expect(m.committedPages() * 4).toBe(3096);
  });

  it('the firmware keeps page 0, the EBDA page and the ACPI tables at the top of low RAM; memblock the memmap at the top of RAM and the IO TLB below 4 GiB', () => {
    const m = q35();
    const counts = (startPage: number, pageCount: number) => m.stateCounts({ startPage, pageCount });
    expect(counts(0, 1).absent).toBe(1);
    expect(counts(0x9f, 1).absent).toBe(1);
    expect(counts(0x7ffe0, 32).absent).toBe(32);
    // 32 present 128 MiB sections x 2 MiB of struct pages, from the top of RAM (6 GiB) down.
    expect(counts(0x180000 - 16384, 16384).reserved).toBe(16384);
    expect(counts(0x7ffe0 - 16384, 16384).reserved).toBe(16384);
    expect(m.reservedPages()).toBe(1_048_446 - 1_004_111);
  });

  it("zones get Linux's watermarks: khugepaged's min_free_kbytes (67584 kB for three zones), split by size, and lowmem reserves", () => {
    const m = q35();
    const limits = m.zoneLimits()!;
    const managed = m.managedPagesByZone();
    // 67584 kB = 16896 pages, split over the zones in proportion (each share rounded down).
    expect(limits.min).toBeGreaterThanOrEqual(16_894);
    expect(limits.min).toBeLessThanOrEqual(16_896);
    expect(limits.zones.DMA.lowmemReserve).toBe(Math.floor((managed.DMA32 + managed.Normal) / 256));
    expect(limits.zones.DMA32.lowmemReserve).toBe(Math.floor(managed.Normal / 256));
    const z = limits.zones.Normal;
    expect(z.low - z.min).toBe(Math.floor(z.min / 4));
    expect(z.high - z.low).toBe(z.low - z.min);
    // A small guest: sqrt(16 x KiB) is the bigger figure.
    const small = zoneLimits({ DMA: 0, DMA32: 0, Normal: 0 });
    expect(small.totalReserve).toBe(0);
  });
});

describe('the page allocator, by zone and order', () => {
  it('a 2 GiB balloon comes from ZONE_NORMAL lowest-first down to its low watermark, then from ZONE_DMA32 at 18 MiB: the ranges of recording A', () => {
    const m = q35();
    const units = m.allocateBalloonUnits(512, 1024);
    expect(units).toHaveLength(1024);
    expect(units.every((u) => u.pageCount === 512 && u.startPage % 512 === 0)).toBe(true);
    // QEMU 10's trace of recording A: 261120 @ 0x101800, 226816 @ 0x141400, 34304 @ 0x1200, 2048 @ 0x9800.
    expect(merged(units)).toEqual(['487936 @ 0x101800', '36352 @ 0x1200']);
    // MemTotal shrinks with the balloon (adjust_managed_page_count): 1919292 kB as recorded.
    expect(m.managedPages() * 4).toBe(1_919_292);
  });

  it('ZONE_DMA is kept back by its lowmem reserve; allocations stop at the min watermarks', () => {
    const m = q35();
    const units = m.allocateBalloonUnits(512, 1_000_000);
    expect(units.some((u) => u.startPage < 0x1000)).toBe(false);
    const limits = m.zoneLimits()!;
    expect(m.freePages()).toBeGreaterThanOrEqual(limits.zones.Normal.min + limits.zones.DMA32.min);
  });

  it('allocateBalloonUnitRuns takes the same pages as allocateBalloonUnits, as runs that cut into the same units in the same order', () => {
    const byUnits = q35();
    const byRuns = q35();
    // Workload pages first, so free memory has holes and a message's units fall into several runs.
    byUnits.allocateUsed(300_000);
    byRuns.allocateUsed(300_000);
    for (const [unitPages, maxUnits] of [[512, 510], [512, 510], [512, 2000], [1, 510], [512, 10]] as const) {
      const units = byUnits.allocateBalloonUnits(unitPages, maxUnits);
      const runs = byRuns.allocateBalloonUnitRuns(unitPages, maxUnits);
      expect(unitsOfRuns(runs, unitPages)).toEqual(units);
      expect(runs.length).toBeLessThanOrEqual(units.length);
      expect(byRuns.balloonedPages()).toBe(byUnits.balloonedPages());
      expect(byRuns.freePages()).toBe(byUnits.freePages());
    }
  });

  it('workload pages come from ZONE_NORMAL first too', () => {
    const m = q35();
    const [first] = m.allocateUsed(1000);
    expect(first!.startPage).toBeGreaterThanOrEqual(0x100000);
    expect(m.committedPages()).toBe(DEFAULT_LINUX_MEMORY.committedPages + 1000);
  });

  it('hot-added memory costs its memmap from memory already online; onlining it grows the reserves (recording C: free - available 30975 -> 37128 pages)', () => {
    const m = q35();
    const before = { free: m.freePages(), reserve: m.zoneLimits()!.totalReserve };
    expect(m.addMemoryBlock({ startPage: 0x800000, pageCount: 524_288 })).toBe('ok');
    expect(before.free - m.freePages()).toBe(16 * DEFAULT_LINUX_MEMORY.hotplugPagesPerBlock);
    expect(m.onlinePages({ startPage: 0x800000, pageCount: 524_288 })).toBe(524_288);
    expect(m.zoneLimits()!.totalReserve).toBeGreaterThan(before.reserve);
  });

  it('a reset brings back the boot layout', () => {
    const m = q35();
    const boot = { free: m.rangesIn('free'), kernel: m.rangesIn('kernel'), reserved: m.rangesIn('reserved') };
    m.allocateBalloonUnits(512, 100);
    m.addMemoryBlock({ startPage: 0x800000, pageCount: 32768 });
    m.resetToBoot();
    expect({ free: m.rangesIn('free'), kernel: m.rangesIn('kernel'), reserved: m.rangesIn('reserved') }).toEqual(boot);
  });

  it('ranges, not pages: a 1 TiB guest holds about as many bytes of bookkeeping as a 4 GiB one', () => {
    const big = new MachineMemory({ machineType: 'q35', ramBytes: 1024 * GiB });
    const small = q35();
    expect(big.metadataBytes()).toBeLessThan(small.metadataBytes() + 1024);
  });
});

describe('parameters', () => {
  it('bad values name the field', () => {
    expect(() => resolveLinuxMemory({ kernelAt: 0x1000 }, 'guest.memory')).toThrow(
      new LinuxMemoryParamError('guest.memory.kernelAt', "guest.memory.kernelAt must be 2 MiB aligned (the kernel's physical alignment), got 0x1000"),
    );
    expect(() => resolveLinuxMemory({ baselinePages: 1 }, 'guest.memory')).toThrow(/guest.memory.baselinePages is not a Linux memory parameter/);
    expect(() => resolveLinuxMemory({ committedPages: -1 }, 'guest.memory')).toThrow(/guest.memory.committedPages must be a non-negative integer, got -1/);
  });

  it('a larger distribution guest sets its own baseline use', () => {
    const distro = q35({ linux: { baselineUsedPages: 120_000, committedPages: 150_000 } });
    expect(q35().freePages() - distro.freePages()).toBe(120_000 - DEFAULT_LINUX_MEMORY.baselineUsedPages);
    expect(distro.committedPages()).toBe(150_000);
  });
});
