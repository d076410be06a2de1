import { buildPcMemoryMap, MemoryMapError, placeMemdevWindow, visibleBootRamPages } from '../../machines/pc-memory-map';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const page = (bytes: number): number => bytes / 4096;

function layout(ramBytes: number, maxmemBytes?: number) {
  return buildPcMemoryMap({ ramBytes, maxmemBytes }).regions.map((r) => [r.name, r.kind, r.startPage, r.startPage + r.pageCount]);
}

describe('pc memory map layout', () => {
  test('a 4 GiB guest: 3 GiB low RAM around the legacy hole, PCI hole with the BIOS on top, 1 GiB at 4 GiB', () => {
    expect(layout(4 * GiB)).toEqual([
      ['pc.ram', 'ram', 0, page(0xa0000)],
      ['vga-lowmem', 'mmio', page(0xa0000), page(0xc0000)],
      ['pc.ram', 'ram', page(0xc0000), page(0x100000)],
      ['pc.ram', 'ram', page(0x100000), page(3 * GiB)],
      ['ioapic', 'mmio', page(0xfec00000), page(0xfec01000)],
      ['hpet', 'mmio', page(0xfed00000), page(0xfed01000)],
      ['apic-msi', 'mmio', page(0xfee00000), page(0xfef00000)],
      ['pc.bios', 'rom', page(0xfffc0000), page(4 * GiB)],
      ['pc.ram', 'ram', page(4 * GiB), page(5 * GiB)],
    ]);
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB });
    expect(map.bootRamPages).toBe(page(4 * GiB));
    expect(map.belowFourGiBRamBytes).toBe(3 * GiB);
    expect(map.aboveFourGiBRamBytes).toBe(GiB);
    // The legacy hole hides 384 KiB of ram_size from the guest.
    expect(visibleBootRamPages(map)).toBe(page(4 * GiB) - page(0x60000));
    expect(map.deviceMemory).toBeNull();
  });

  test('a 1 TiB guest keeps 3 GiB low and puts 1021 GiB above 4 GiB; device memory follows it', () => {
    const map = buildPcMemoryMap({ ramBytes: 1024 * GiB, maxmemBytes: 1100 * GiB });
    const high = map.regions[map.regions.length - 1];
    expect(high).toEqual({ name: 'pc.ram', kind: 'ram', startPage: page(4 * GiB), pageCount: page(1021 * GiB) });
    expect(map.deviceMemory).toEqual({ startPage: page(1025 * GiB), pageCount: page(76 * GiB) });
  });

  test('QEMU pc split rule: below 3.5 GiB all RAM is low, from 3.5 GiB the split moves to 3 GiB', () => {
    const justBelow = buildPcMemoryMap({ ramBytes: 3.5 * GiB - 4096 });
    expect(justBelow.belowFourGiBRamBytes).toBe(3.5 * GiB - 4096);
    expect(justBelow.aboveFourGiBRamBytes).toBe(0);
    const at = buildPcMemoryMap({ ramBytes: 3.5 * GiB });
    expect(at.belowFourGiBRamBytes).toBe(3 * GiB);
    expect(at.aboveFourGiBRamBytes).toBe(0.5 * GiB);
  });

  test('a small guest has its PCI hole right after its RAM and device memory at 4 GiB', () => {
    const map = buildPcMemoryMap({ ramBytes: 2 * GiB, maxmemBytes: 40 * GiB });
    expect(map.belowFourGiBRamBytes).toBe(2 * GiB);
    expect(map.regions.filter((r) => r.kind === 'ram').at(-1)).toMatchObject({ startPage: page(0x100000), pageCount: page(2 * GiB - 0x100000) });
    expect(map.deviceMemory).toEqual({ startPage: page(4 * GiB), pageCount: page(38 * GiB) });
  });

  test('slots add 1 GiB of device-memory area each (QEMU pc)', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 8 * GiB, slots: 2 });
    expect(map.deviceMemory?.pageCount).toBe(page(6 * GiB));
  });

  test('bad sizes are refused with the field named', () => {
    expect(() => buildPcMemoryMap({ ramBytes: 4 * GiB + 1 })).toThrow(/ramBytes must be a multiple of 0x1000/);
    expect(() => buildPcMemoryMap({ ramBytes: 512 * 1024 })).toThrow(/ramBytes must be an integer number of bytes >= 0x100000/);
    expect(() => buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 2 * GiB })).toThrow(
      'invalid value of maxmem: maximum memory size (0x80000000) must be at least the initial memory size (0x100000000)',
    );
    expect(() => buildPcMemoryMap({ ramBytes: 4 * GiB, slots: -1 })).toThrow(/slots must be a non-negative integer/);
  });
});

describe('hv-balloon memdev window placement', () => {
  test('auto placement takes the first 32 GiB-aligned address of the device-memory area', () => {
    // The observed QEMU example: a 4 GiB guest gets memaddr 0x800000000.
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 36 * GiB });
    const w = placeMemdevWindow(map, { memdevBytes: 2 * GiB });
    expect(w.addrBytes).toBe(0x8_0000_0000);
    expect(w).toMatchObject({ startPage: page(32 * GiB), pageCount: page(2 * GiB), sizeBytes: 2 * GiB });
  });

  test('for a 1 TiB guest the window lands at 1056 GiB, the first 32 GiB multiple past high RAM', () => {
    const map = buildPcMemoryMap({ ramBytes: 1024 * GiB, maxmemBytes: 1100 * GiB });
    expect(placeMemdevWindow(map, { memdevBytes: 32 * GiB }).addrBytes).toBe(1056 * GiB);
  });

  test('too small a maxmem names maxmem, the sizes and the maxmem that would fit', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 32 * GiB });
    let err: unknown;
    try {
      placeMemdevWindow(map, { memdevBytes: 2 * GiB });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemoryMapError);
    expect((err as MemoryMapError).field).toBe('maxmemBytes');
    expect((err as Error).message).toMatch(/^could not find position in guest address space for memory device/);
    expect((err as Error).message).toContain('maxmem=0x800000000');
    expect((err as Error).message).toContain('0x80000000-byte memdev at the first 32 GiB-aligned address 0x800000000');
    expect((err as Error).message).toContain('maxmem must be at least 0x840000000');
    // And that maxmem does fit.
    expect(placeMemdevWindow(buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 0x8_4000_0000 }), { memdevBytes: 2 * GiB }).addrBytes).toBe(
      0x8_0000_0000,
    );
  });

  test('a memdev larger than maxmem - ram is refused with QEMU\'s "not enough space"', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 5 * GiB });
    expect(() => placeMemdevWindow(map, { memdevBytes: 2 * GiB })).toThrow(
      /^not enough space, currently 0x0 in use of total space for memory devices 0x40000000 \(maxmem 0x140000000 - ram 0x100000000/,
    );
  });

  test('no maxmem: QEMU asks for the maxmem option', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB });
    expect(() => placeMemdevWindow(map, { memdevBytes: 2 * GiB })).toThrow(/consider specifying the maxmem option/);
  });

  test('an explicit addr must be 32 GiB aligned and inside the area', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 100 * GiB });
    expect(placeMemdevWindow(map, { memdevBytes: 2 * GiB, addrBytes: 64 * GiB }).addrBytes).toBe(64 * GiB);
    expect(() => placeMemdevWindow(map, { memdevBytes: 2 * GiB, addrBytes: 40 * GiB })).toThrow(
      'address must be aligned to 0x800000000 bytes (addr=0xa00000000)',
    );
    expect(() => placeMemdevWindow(map, { memdevBytes: 2 * GiB, addrBytes: 128 * GiB })).toThrow(
      "can't add memory device [0x2000000000:0x80000000], usable range for memory devices [0x140000000:0x1800000000]",
    );
  });

  test('a memdev size that is not a multiple of 4 KiB is refused (QEMU hv-balloon realize)', () => {
    const map = buildPcMemoryMap({ ramBytes: 4 * GiB, maxmemBytes: 64 * GiB });
    expect(() => placeMemdevWindow(map, { memdevBytes: 2 * MiB + 1 })).toThrow(
      "'memdev' property memdev size has to be a multiple of 0x1000",
    );
  });
});
