/**
 * A small HostMemoryView for the device specs: a 4 GiB PC layout (QEMU `pc -m 4G`), ranges only.
 *
 *   pages 0x0     - 0xa0     pc.ram (low 640 KiB)
 *   pages 0xa0    - 0xc0     vga (MMIO)
 *   pages 0xc0    - 0x100    pc.rom (ROM)
 *   pages 0x100   - 0xc0000  pc.ram (1 MiB - 3 GiB)
 *   pages 0xc0000 - 0xfec00  hole (PCI)
 *   pages 0xfec00 - 0xfec01  ioapic (MMIO)
 *   pages 0xfec01 - 0xfffc0  hole
 *   pages 0xfffc0 - 0x100000 pc.bios (ROM)
 *   pages 0x100000 - 0x140000 pc.ram (above 4 GiB, 1 GiB)
 *   the memdev window (default at 32 GiB): a hole until slots are mapped, then RAM "memslot-N"
 */
import type { PageRange } from '../../../protocol/messages';
import type { HostMemoryView, MemorySection, RegionKind } from '../../../machines/memory-views';

export interface FakeRegion extends PageRange {
  kind: Exclude<RegionKind, 'unmapped'>;
  name: string;
  hostPageSize: number;
  hostAligned: boolean;
}

export interface FakeHostMemoryOptions {
  /** Host page size of boot RAM (hugepages: 2 MiB). */
  bootHostPageSize?: number;
  /** Host page size of the memdev slots. */
  memdevHostPageSize?: number;
  /** Pages of boot RAM whose host address is not 4 KiB aligned (a made-up stretch). */
  unalignedRam?: PageRange;
  /** discard() fails (returns false) for pages in this range. */
  failDiscard?: PageRange;
}

export const GiB_PAGES = 262_144;
export const BOOT_RAM_PAGES = 4 * GiB_PAGES;
export const HIGH_RAM: PageRange = { startPage: 0x100000, pageCount: GiB_PAGES };
export const PC_BIOS: PageRange = { startPage: 0xfffc0, pageCount: 0x40 };
export const VGA: PageRange = { startPage: 0xa0, pageCount: 0x20 };
export const PCI_HOLE_START = 0xc0000;

const end = (r: PageRange): number => r.startPage + r.pageCount;

export class FakeHostMemory implements HostMemoryView {
  readonly bootRamPages = BOOT_RAM_PAGES;
  readonly pcDimmPages = 0;
  private regions: FakeRegion[];
  /** Every discard() call, in order. */
  readonly discards: PageRange[] = [];
  /** Every mapDeviceMemory() call, in order. */
  readonly mapped: { range: PageRange; name: string }[] = [];
  /** Every releaseDeviceMemory() call. */
  readonly released: PageRange[] = [];
  /** Calls made to this view, in order, for ordering assertions. */
  readonly calls: string[] = [];

  constructor(private readonly options: FakeHostMemoryOptions = {}) {
    const ramPage = options.bootHostPageSize ?? 4096;
    const ram = (startPage: number, pageCount: number): FakeRegion => ({
      startPage,
      pageCount,
      kind: 'ram',
      name: 'pc.ram',
      hostPageSize: ramPage,
      hostAligned: true,
    });
    const regions: FakeRegion[] = [
      ram(0, 0xa0),
      { ...VGA, kind: 'mmio', name: 'vga-lowmem', hostPageSize: 4096, hostAligned: true },
      { startPage: 0xc0, pageCount: 0x40, kind: 'rom', name: 'pc.rom', hostPageSize: 4096, hostAligned: true },
      ram(0x100, PCI_HOLE_START - 0x100),
      { startPage: 0xfec00, pageCount: 1, kind: 'mmio', name: 'ioapic', hostPageSize: 4096, hostAligned: true },
      { ...PC_BIOS, kind: 'rom', name: 'pc.bios', hostPageSize: 4096, hostAligned: true },
      ram(HIGH_RAM.startPage, HIGH_RAM.pageCount),
    ];
    const u = options.unalignedRam;
    this.regions = u ? splitOut(regions, u, { hostAligned: false, name: 'pc.ram (unaligned)' }) : regions;
  }

  findSection(page: number, maxPages: number): MemorySection {
    const windowEnd = page + maxPages;
    for (const r of this.regions) {
      if (page >= r.startPage && page < end(r)) {
        return {
          kind: r.kind,
          startPage: page,
          pageCount: Math.min(end(r), windowEnd) - page,
          name: r.name,
          hostPageSize: r.hostPageSize,
          hostAligned: r.hostAligned,
        };
      }
    }
    let holeEnd = windowEnd;
    for (const r of this.regions) if (r.startPage > page && r.startPage < holeEnd) holeEnd = r.startPage;
    return { kind: 'unmapped', startPage: page, pageCount: holeEnd - page, name: 'unmapped', hostPageSize: 4096, hostAligned: false };
  }

  discard(range: PageRange): boolean {
    this.calls.push(`discard ${range.startPage}+${range.pageCount}`);
    this.discards.push({ ...range });
    const f = this.options.failDiscard;
    return !(f && range.startPage < end(f) && f.startPage < end(range));
  }

  mapDeviceMemory(range: PageRange, name: string): void {
    this.calls.push(`map ${name}`);
    this.mapped.push({ range: { ...range }, name });
    this.regions.push({
      ...range,
      kind: 'ram',
      name,
      hostPageSize: this.options.memdevHostPageSize ?? 4096,
      hostAligned: true,
    });
    this.regions.sort((a, b) => a.startPage - b.startPage);
  }

  releaseDeviceMemory(window: PageRange): void {
    this.calls.push('release');
    this.released.push({ ...window });
    this.regions = this.regions.filter((r) => !(r.startPage >= window.startPage && end(r) <= end(window)));
  }

  residentPages(): number {
    return 0;
  }

  /** Pages discarded so far (sum over calls). */
  discardedPages(): number {
    return this.discards.reduce((n, r) => n + r.pageCount, 0);
  }
}

function splitOut(regions: FakeRegion[], cut: PageRange, patch: Partial<FakeRegion>): FakeRegion[] {
  const out: FakeRegion[] = [];
  for (const r of regions) {
    if (cut.startPage >= end(r) || end(cut) <= r.startPage) {
      out.push(r);
      continue;
    }
    if (r.startPage < cut.startPage) out.push({ ...r, pageCount: cut.startPage - r.startPage });
    const s = Math.max(r.startPage, cut.startPage);
    const e = Math.min(end(r), end(cut));
    out.push({ ...r, ...patch, startPage: s, pageCount: e - s });
    if (end(r) > end(cut)) out.push({ ...r, startPage: end(cut), pageCount: end(r) - end(cut) });
  }
  return out;
}
