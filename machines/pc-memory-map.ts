/**
 * The guest-physical address map of a PC machine (QEMU i440fx `pc`, the default, or `q35`), in
 * 4 KiB pages, and the placement of the hv-balloon memdev window inside its device-memory area.
 *
 * q35 (QEMU hw/i386/pc_q35.c pc_q35_init, hw/pci-host/q35.c): RAM of 2.75 GiB (0xB0000000) or
 * more is split at 2 GiB, smaller RAM is all low; the PCIe ECAM window (MCH_HOST_BRIDGE_PCIEXBAR,
 * 256 MiB at 0xB0000000) sits in the PCI hole. The rest of the layout is pc's.
 *
 * Layout rules (QEMU hw/i386/pc_piix.c pc_init1, hw/i386/pc.c):
 * - RAM split around the PCI hole: with ram_size >= 3.5 GiB (the default max-ram-below-4g) the
 *   split moves to 3 GiB for gigabyte alignment, so low RAM = 3 GiB and the rest starts at 4 GiB;
 *   below 3.5 GiB all RAM is low (e.g. `-m 4G` -> 3072M low, 1024M high; `-m 3G` -> all low).
 * - Inside low RAM the legacy hole 0xA0000-0xFFFFF is not the guest's RAM: VGA MMIO at
 *   0xA0000-0xBFFFF, and 0xC0000-0xFFFFF (option ROMs, the BIOS alias) which, once SeaBIOS has
 *   programmed the PAM registers, is pc.ram behind read-only aliases (QEMU hw/pci-host/pam.c
 *   init_pam): to hv-balloon an ordinary RAM section, to the guest e820-reserved.
 * - The PCI hole runs from the end of low RAM to 4 GiB. In QEMU's flat view it holds only what
 *   is mapped there: the IOAPIC (0xFEC00000, 4 KiB), the HPET (0xFED00000, 1 KiB: smaller than a
 *   page), the local APIC / MSI window (0xFEE00000, 1 MiB), q35's ICH9 root complex register
 *   block (0xFED1C000, 16 KiB) and ECAM window, and the 256 KiB SeaBIOS image (pc.bios, ROM) at
 *   0xFFFC0000-0xFFFFFFFF. Everything else there is absent ("not found in RAM" to hv-balloon).
 *   PCI BARs (a VGA's VRAM would be RAM) are not modelled: the VM has no PCI devices besides the
 *   VMBus bridge (the recordings ran with -nodefaults).
 * - The device-memory area (hotplug) starts at align_up(4 GiB + high RAM, 1 GiB) and is
 *   maxmem - ram_size (+ 1 GiB per `slots`) long (pc.c pc_get_device_memory_range). It exists
 *   only when maxmem > ram_size and is a hole until memory devices map RAM into it.
 * Not modelled: the AMD 1 TiB HyperTransport-hole relocation (we assume an Intel CPU), SGX EPC,
 * CXL windows, the 64-bit PCI hole.
 */
import type { PageRange } from '../protocol/messages';
import { DEVICE_MEMORY_ALIGN_BYTES, PAGE_SIZE } from '../protocol/constants';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const FOUR_GIB = 4 * GiB;

/** QEMU pc: the traditional split (default max-ram-below-4g); RAM at or above it is split at 3 GiB. */
export const PC_MAX_RAM_BELOW_4G_BYTES = 0xe000_0000;
/** QEMU pc (gigabyte_align): low RAM ends at 3 GiB when the RAM has to be split. */
export const PC_GIGABYTE_ALIGNED_LOWMEM_BYTES = 0xc000_0000;
/** Legacy hole inside low RAM: VGA window start. */
export const VGA_START_BYTES = 0xa_0000;
/** pc.rom (option ROMs, QEMU PC_ROM_MIN_VGA..PC_ROM_MAX). */
export const PC_ROM_START_BYTES = 0xc_0000;
/** isa-bios: the last 128 KiB of the BIOS image aliased below 1 MiB. */
export const ISA_BIOS_START_BYTES = 0xe_0000;
/** End of the legacy hole (1 MiB). */
export const LEGACY_HOLE_END_BYTES = 0x10_0000;
/** pc.bios: a 256 KiB SeaBIOS image ends at 4 GiB. */
export const BIOS_START_BYTES = 0xfffc_0000;

/** Platform MMIO in the PCI hole (QEMU hw/i386: IOAPIC_DEFAULT_ADDRESS, HPET_BASE, APIC_DEFAULT_ADDRESS; ich9 RCBA). */
export const IOAPIC_BYTES = 0xfec0_0000;
export const HPET_BYTES = 0xfed0_0000;
export const ICH9_RCRB_BYTES = 0xfed1_c000;
export const APIC_MSI_BYTES = 0xfee0_0000;

/** What a region of the static map is. A stretch with no region is a hole (unmapped). */
export type MapRegionKind = 'ram' | 'rom' | 'mmio';

export interface MapRegion extends PageRange {
  kind: MapRegionKind;
  /** The region is smaller than a page (it occupies the page at startPage; pageCount is 1). */
  subPageBytes?: number;
  /** False for RAM the guest never gets as memory (the PAM-shadowed 0xC0000-0xFFFFF). Default true. */
  guestRam?: boolean;
  /** QEMU's memory-region name as `info mtree` shows it, e.g. "pc.ram", "pc.bios", "ioapic". */
  name: string;
}

/** QEMU's machine types this map knows: `pc` (i440fx, QEMU's default) and `q35`. */
export type MachineType = 'pc' | 'q35';
export const MACHINE_TYPES: readonly MachineType[] = ['pc', 'q35'];

/** QEMU pc_q35.c: RAM at or above 0xB0000000 is split, with 2 GiB below 4 GiB. */
export const Q35_SPLIT_THRESHOLD_BYTES = 0xb000_0000;
export const Q35_LOWMEM_BYTES = 0x8000_0000;
/** QEMU q35.c MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT / _MAX_SIZE: the PCIe ECAM window. */
export const Q35_PCIEXBAR_BYTES = 0xb000_0000;
export const Q35_PCIEXBAR_SIZE_BYTES = 0x1000_0000;

export interface PcMemoryMapConfig {
  /** `-machine` type; default `pc` (QEMU's default on x86). */
  machineType?: MachineType;
  /** `-m` size: boot RAM in bytes (QEMU ram_size). A multiple of 4096, at least 1 MiB. */
  ramBytes: number;
  /** `-m ...,maxmem=`: the most memory the machine may reach. Defaults to ramBytes (no device memory). */
  maxmemBytes?: number;
  /** `-m ...,slots=`: pc adds 1 GiB of device-memory area per slot. Default 0. */
  slots?: number;
}

export interface PcMemoryMap {
  readonly machineType: MachineType;
  readonly ramBytes: number;
  readonly maxmemBytes: number;
  readonly slots: number;
  /** QEMU machine ram_size >> 12 (it includes the 96 pages the legacy hole hides). */
  readonly bootRamPages: number;
  /** RAM below 4 GiB in bytes (QEMU below_4g_mem_size). */
  readonly belowFourGiBRamBytes: number;
  /** RAM from 4 GiB up in bytes (QEMU above_4g_mem_size). */
  readonly aboveFourGiBRamBytes: number;
  /** The static regions, ascending and disjoint. Device memory is not a region: it is a hole. */
  readonly regions: readonly MapRegion[];
  /** The device-memory area in pages; null when maxmem == ram (QEMU: no device_memory). */
  readonly deviceMemory: PageRange | null;
}

/** Bad machine or memdev configuration; `field` names the offending option. */
export class MemoryMapError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryMapError';
  }
}

export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

function formatBytes(bytes: number): string {
  if (bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes} bytes`;
}

function requireBytes(field: string, value: number, opts: { min: number; multipleOf: number }): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < opts.min) {
    throw new MemoryMapError(field, `${field} must be an integer number of bytes >= ${hex(opts.min)}, got ${String(value)}`);
  }
  if (value % opts.multipleOf !== 0) {
    throw new MemoryMapError(field, `${field} must be a multiple of ${hex(opts.multipleOf)} bytes, got ${hex(value)}`);
  }
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

function region(startBytes: number, endBytes: number, kind: MapRegionKind, name: string): MapRegion {
  return { startPage: startBytes / PAGE_SIZE, pageCount: (endBytes - startBytes) / PAGE_SIZE, kind, name };
}

/** Build the static map of a `pc` machine; throws MemoryMapError on a bad size. */
export function buildPcMemoryMap(config: PcMemoryMapConfig): PcMemoryMap {
  const ramBytes = config.ramBytes;
  requireBytes('ramBytes', ramBytes, { min: LEGACY_HOLE_END_BYTES, multipleOf: PAGE_SIZE });
  const maxmemBytes = config.maxmemBytes ?? ramBytes;
  requireBytes('maxmemBytes', maxmemBytes, { min: 0, multipleOf: PAGE_SIZE });
  if (maxmemBytes < ramBytes) {
    // QEMU hw/core/machine.c wording.
    throw new MemoryMapError(
      'maxmemBytes',
      `invalid value of maxmem: maximum memory size (${hex(maxmemBytes)}) must be at least the initial memory size (${hex(ramBytes)})`,
    );
  }
  const slots = config.slots ?? 0;
  if (!Number.isSafeInteger(slots) || slots < 0) {
    throw new MemoryMapError('slots', `slots must be a non-negative integer, got ${String(slots)}`);
  }

  const machineType = config.machineType ?? 'pc';
  if (!MACHINE_TYPES.includes(machineType)) {
    throw new MemoryMapError('machineType', `machineType must be one of ${MACHINE_TYPES.join(', ')}, got ${String(machineType)}`);
  }
  const q35 = machineType === 'q35';
  // QEMU pc_piix.c: split at 3 GiB only when RAM reaches the traditional 3.5 GiB split;
  // pc_q35.c: split at 2 GiB once RAM reaches 2.75 GiB (the ECAM window starts there).
  const below = q35
    ? ramBytes >= Q35_SPLIT_THRESHOLD_BYTES
      ? Q35_LOWMEM_BYTES
      : ramBytes
    : ramBytes >= PC_MAX_RAM_BELOW_4G_BYTES
      ? PC_GIGABYTE_ALIGNED_LOWMEM_BYTES
      : ramBytes;
  const above = ramBytes - below;

  const regions: MapRegion[] = [];
  regions.push(region(0, VGA_START_BYTES, 'ram', 'pc.ram'));
  regions.push(region(VGA_START_BYTES, PC_ROM_START_BYTES, 'mmio', 'vga-lowmem'));
  // QEMU pam.c: after SeaBIOS sets PAM the flat view shows pc.ram here (read-only alias); hv-balloon
  // checks the underlying region (hv_balloon_handle_remove_ranges), so these pages are RAM to it.
  regions.push({ ...region(PC_ROM_START_BYTES, LEGACY_HOLE_END_BYTES, 'ram', 'pc.ram'), guestRam: false });
  if (below > LEGACY_HOLE_END_BYTES) regions.push(region(LEGACY_HOLE_END_BYTES, below, 'ram', 'pc.ram'));
  // The PCI hole as QEMU's flat view has it: only the platform's MMIO is mapped.
  // The ECAM window: QEMU q35.c mch_update_pciexbar.
  if (q35) regions.push(region(Q35_PCIEXBAR_BYTES, Q35_PCIEXBAR_BYTES + Q35_PCIEXBAR_SIZE_BYTES, 'mmio', 'pcie-mmcfg-mmio'));
  regions.push(region(IOAPIC_BYTES, IOAPIC_BYTES + 0x1000, 'mmio', 'ioapic'));
  // QEMU hw/timer/hpet.c: a 1 KiB region (HPET_LEN), smaller than a page.
  regions.push({ ...region(HPET_BYTES, HPET_BYTES + 0x1000, 'mmio', 'hpet'), subPageBytes: 0x400 });
  // QEMU ich9.c: the LPC root complex register block (ICH9_LPC_RCBA_DEFAULT, 16 KiB).
  if (q35) regions.push(region(ICH9_RCRB_BYTES, ICH9_RCRB_BYTES + 0x4000, 'mmio', 'lpc-rcrb-mmio'));
  regions.push(region(APIC_MSI_BYTES, APIC_MSI_BYTES + 0x10_0000, 'mmio', 'apic-msi'));
  regions.push(region(BIOS_START_BYTES, FOUR_GIB, 'rom', 'pc.bios'));
  if (above > 0) regions.push(region(FOUR_GIB, FOUR_GIB + above, 'ram', 'pc.ram'));

  let deviceMemory: PageRange | null = null;
  if (maxmemBytes > ramBytes) {
    // QEMU pc.c pc_get_device_memory_range.
    const base = alignUp(FOUR_GIB + above, GiB);
    const size = maxmemBytes - ramBytes + GiB * slots;
    deviceMemory = { startPage: base / PAGE_SIZE, pageCount: size / PAGE_SIZE };
  }

  return {
    machineType,
    ramBytes,
    maxmemBytes,
    slots,
    bootRamPages: ramBytes / PAGE_SIZE,
    belowFourGiBRamBytes: below,
    aboveFourGiBRamBytes: above,
    regions,
    deviceMemory,
  };
}

export interface MemdevWindowRequest {
  /** Size of the memory backend (`-object memory-backend-ram,size=`), in bytes. */
  memdevBytes: number;
  /** The device's `addr` property; 0 or absent means "pick one" (QEMU: 0 is auto). */
  addrBytes?: number;
  /** Alignment of the window; QEMU hv-balloon asks 32 GiB (DEVICE_MEMORY_ALIGN_BYTES). */
  alignBytes?: number;
}

export interface MemdevWindow extends PageRange {
  /** Guest-physical address in bytes (what `query-memory-devices` shows as memaddr). */
  addrBytes: number;
  sizeBytes: number;
}

/**
 * Place the hv-balloon memdev window in the device-memory area (QEMU hw/mem/memory-device.c
 * memory_device_pre_plug / memory_device_get_free_addr, with hv-balloon's 32 GiB minimum
 * alignment). Auto placement takes the first aligned address of the area; the simulator has no
 * other memory device, so if the memdev does not fit there it fits nowhere. Error texts start
 * with QEMU's and then name the config field and sizes.
 */
export function placeMemdevWindow(map: PcMemoryMap, request: MemdevWindowRequest): MemdevWindow {
  const { memdevBytes } = request;
  const align = request.alignBytes ?? DEVICE_MEMORY_ALIGN_BYTES;
  if (typeof memdevBytes !== 'number' || !Number.isSafeInteger(memdevBytes) || memdevBytes <= 0) {
    throw new MemoryMapError('memdevBytes', `memdevBytes must be a positive integer number of bytes, got ${String(memdevBytes)}`);
  }
  if (memdevBytes % PAGE_SIZE !== 0) {
    // QEMU hv-balloon.c realize.
    throw new MemoryMapError('memdevBytes', `'memdev' property memdev size has to be a multiple of 0x1000, got ${hex(memdevBytes)}`);
  }
  if (!Number.isSafeInteger(align) || align < PAGE_SIZE || (align & (align - 1)) !== 0) {
    throw new MemoryMapError('alignBytes', `alignBytes must be a power of two >= 0x1000, got ${String(align)}`);
  }
  const area = map.deviceMemory;
  if (area === null) {
    throw new MemoryMapError(
      'maxmemBytes',
      'the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option' +
        ` (maxmem=${hex(map.maxmemBytes)} equals ram=${hex(map.ramBytes)}; the ${formatBytes(memdevBytes)} memdev needs maxmem above ram)`,
    );
  }
  const areaBase = area.startPage * PAGE_SIZE;
  const areaSize = area.pageCount * PAGE_SIZE;
  const areaEnd = areaBase + areaSize;
  const spaceForDevices = map.maxmemBytes - map.ramBytes;
  if (memdevBytes > spaceForDevices) {
    // QEMU memory_device_check_addable.
    throw new MemoryMapError(
      'maxmemBytes',
      `not enough space, currently 0x0 in use of total space for memory devices ${hex(spaceForDevices)}` +
        ` (maxmem ${hex(map.maxmemBytes)} - ram ${hex(map.ramBytes)} is smaller than the ${hex(memdevBytes)}-byte memdev)`,
    );
  }
  const hint = request.addrBytes ?? 0;
  if (!Number.isSafeInteger(hint) || hint < 0) {
    throw new MemoryMapError('addrBytes', `addrBytes must be a non-negative integer, got ${String(hint)}`);
  }
  let addr: number;
  if (hint !== 0) {
    if (hint % align !== 0) {
      throw new MemoryMapError('addrBytes', `address must be aligned to ${hex(align)} bytes (addr=${hex(hint)})`);
    }
    if (hint < areaBase || hint + memdevBytes > areaEnd) {
      throw new MemoryMapError(
        'addrBytes',
        `can't add memory device [${hex(hint)}:${hex(memdevBytes)}], usable range for memory devices [${hex(areaBase)}:${hex(areaSize)}]`,
      );
    }
    addr = hint;
  } else {
    addr = alignUp(areaBase, align);
    if (addr + memdevBytes > areaEnd) {
      const neededMaxmem = map.maxmemBytes + (addr + memdevBytes - areaEnd);
      throw new MemoryMapError(
        'maxmemBytes',
        'could not find position in guest address space for memory device - memory fragmented due to alignments' +
          ` (maxmem=${hex(map.maxmemBytes)}: the device-memory area [${hex(areaBase)}, ${hex(areaEnd)}) cannot hold` +
          ` the ${hex(memdevBytes)}-byte memdev at the first ${formatBytes(align)}-aligned address ${hex(addr)};` +
          ` maxmem must be at least ${hex(neededMaxmem)})`,
      );
    }
  }
  return { startPage: addr / PAGE_SIZE, pageCount: memdevBytes / PAGE_SIZE, addrBytes: addr, sizeBytes: memdevBytes };
}

/** Pages of boot RAM the guest can see (ram_size minus what the legacy hole hides). */
export function visibleBootRamPages(map: PcMemoryMap): number {
  return map.regions.filter((r) => r.kind === 'ram' && r.guestRam !== false).reduce((sum, r) => sum + r.pageCount, 0);
}
