import { normalizeVmConfig, VmConfigError } from '../../actors/vm/vm-config';
import { vmOptionsFromCli } from '../../actors/cli/vm-options';
import { CliError } from '../../actors/cli/cli-error';
import { buildPcMemoryMap, MemoryMapError, placeMemdevWindow } from '../../machines/pc-memory-map';

const GiB = 1024 ** 3;
const page = (bytes: number): number => bytes / 4096;

describe('the q35 machine (QEMU pc_q35.c)', () => {
  it('a 4 GiB guest: 2 GiB low RAM, the PCIe ECAM window in the PCI hole, 2 GiB at 4 GiB; device memory from 6 GiB (the recordings: SRAT hotplug 0x180000000-0xb7fffffff)', () => {
    const map = buildPcMemoryMap({ machineType: 'q35', ramBytes: 4 * GiB, maxmemBytes: 44 * GiB });
    expect(map.regions.map((r) => [r.name, r.kind, r.startPage, r.startPage + r.pageCount])).toEqual([
      ['pc.ram', 'ram', 0, page(0xa0000)],
      ['vga-lowmem', 'mmio', page(0xa0000), page(0xc0000)],
      ['pc.ram', 'ram', page(0xc0000), page(0x100000)],
      ['pc.ram', 'ram', page(0x100000), page(2 * GiB)],
      ['pcie-mmcfg-mmio', 'mmio', page(0xb0000000), page(0xc0000000)],
      ['ioapic', 'mmio', page(0xfec00000), page(0xfec01000)],
      ['hpet', 'mmio', page(0xfed00000), page(0xfed01000)],
      ['lpc-rcrb-mmio', 'mmio', page(0xfed1c000), page(0xfed20000)],
      ['apic-msi', 'mmio', page(0xfee00000), page(0xfef00000)],
      ['pc.bios', 'rom', page(0xfffc0000), page(4 * GiB)],
      ['pc.ram', 'ram', page(4 * GiB), page(6 * GiB)],
    ]);
    expect(map.deviceMemory).toEqual({ startPage: page(6 * GiB), pageCount: page(40 * GiB) });
    // The recordings' memaddr: 34359738368 (32 GiB).
    expect(placeMemdevWindow(map, { memdevBytes: 8 * GiB }).addrBytes).toBe(32 * GiB);
  });

  it('splits only from 2.75 GiB (0xB0000000) up; below that all RAM is low', () => {
    expect(buildPcMemoryMap({ machineType: 'q35', ramBytes: 0xb0000000 - 4096 }).belowFourGiBRamBytes).toBe(0xb0000000 - 4096);
    expect(buildPcMemoryMap({ machineType: 'q35', ramBytes: 0xb0000000 }).belowFourGiBRamBytes).toBe(2 * GiB);
  });

  it('an 8 GiB memdev on a 4 GiB guest fits from maxmem=38G on q35 but needs 39G on pc (its device memory starts 1 GiB lower)', () => {
    const fits = (machineType: 'pc' | 'q35', maxmemGiB: number): boolean => {
      try {
        placeMemdevWindow(buildPcMemoryMap({ machineType, ramBytes: 4 * GiB, maxmemBytes: maxmemGiB * GiB }), { memdevBytes: 8 * GiB });
        return true;
      } catch (err) {
        if (err instanceof MemoryMapError) return false;
        throw err;
      }
    };
    expect([fits('q35', 37), fits('q35', 38)]).toEqual([false, true]);
    expect([fits('pc', 38), fits('pc', 39)]).toEqual([false, true]);
  });

  it('is chosen with "machine": {"type": "q35"} or --machine q35; pc stays the default, as in QEMU', () => {
    expect(normalizeVmConfig({}).machineType).toBe('pc');
    expect(normalizeVmConfig({ machine: { type: 'q35' } }).map.belowFourGiBRamBytes).toBe(2 * GiB);
    expect(() => normalizeVmConfig({ machine: { type: 'isapc' } })).toThrow(new VmConfigError('machine.type', 'machine.type: expected one of pc, q35, got "isapc"'));
    expect(vmOptionsFromCli({ machine: 'q35' }).machine).toBe('q35');
    expect(() => vmOptionsFromCli({ machine: 'virt' })).toThrow(new CliError('--machine "virt": expected one of pc, q35'));
  });
});
