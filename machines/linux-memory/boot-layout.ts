/**
 * Where a booted Linux guest's memory went, as page ranges: what the firmware keeps (e820
 * reserved), what the kernel reserved before the page allocator existed (memblock: memmap, the
 * kernel image, the IO TLB, hash tables...) and what it has allocated since (slab, page tables,
 * the initramfs). Everything else is free. Calibrated to the recordings (docs/memory-model.md).
 */
import type { PageRange } from '../../protocol/messages';
import { PageRangeTree } from '../page-range-tree';
import type { PcMemoryMap } from '../pc-memory-map';
import { freeFromAbove, freeFromBelow } from './free-walk';
import { kernelStartPage, type LinuxMemoryParams } from './linux-memory-params';
import { ZONE_START } from './zones';

/** Linux x86-64 SPARSEMEM section: 128 MiB; its memmap (64-byte struct page per 4 KiB page) is 2 MiB. */
export const SECTION_PAGES = 32_768;
export const MEMMAP_PAGES_PER_SECTION = 512;
/** SeaBIOS puts its ACPI tables in the last 128 KiB of RAM below 4 GiB and marks them e820-reserved. */
const FIRMWARE_TOP_PAGES = 32;
/** Page 0 (the real-mode IVT, Linux reserves it) and the EBDA page below 640 KiB (e820 reserved from 0x9fc00). */
const FIRMWARE_LOW_PAGES: readonly number[] = [0x0, 0x9f];

export interface BootLayout {
  /** RAM pages the guest never sees as memory (e820 reserved by the firmware). */
  firmware: PageRange[];
  /** memblock reservations: present, never in the page allocator (not in MemTotal). */
  reserved: PageRange[];
  /** Pages the kernel allocated from the page allocator while booting (in MemTotal, not free). */
  kernel: PageRange[];
  /** What is left: the free pages. */
  free: PageRangeTree;
}

function take(free: PageRangeTree, into: PageRange[], pieces: PageRange[]): number {
  let n = 0;
  for (const r of pieces) {
    free.subtract(r.startPage, r.pageCount);
    into.push(r);
    n += r.pageCount;
  }
  return n;
}

export function linuxBootLayout(map: PcMemoryMap, p: LinuxMemoryParams): BootLayout {
  const free = new PageRangeTree();
  const ram = map.regions.filter((r) => r.kind === 'ram' && r.name === 'pc.ram' && r.guestRam !== false);
  for (const r of ram) free.insert(r.startPage, r.pageCount);
  const firmware: PageRange[] = [];
  for (const page of FIRMWARE_LOW_PAGES) take(free, firmware, free.intersection(page, 1));
  const lowTop = Math.min(map.belowFourGiBRamBytes / 4096, ZONE_START.Normal);
  take(free, firmware, freeFromAbove(free, lowTop, FIRMWARE_TOP_PAGES, lowTop - FIRMWARE_TOP_PAGES));

  const reserved: PageRange[] = [];
  // memblock allocates top-down: the memmap of every present section, then the other early
  // reservations, from the top of RAM (Linux mm/sparse.c, mm/memblock.c).
  const sections = new Set<number>();
  for (const r of ram) for (let s = Math.floor(r.startPage / SECTION_PAGES); s * SECTION_PAGES < r.startPage + r.pageCount; s++) sections.add(s);
  const top = Math.max(...ram.map((r) => r.startPage + r.pageCount));
  take(free, reserved, freeFromAbove(free, top, sections.size * MEMMAP_PAGES_PER_SECTION + p.earlyReservedPages));
  // The software IO TLB, below 4 GiB, when some RAM is above it (Linux pci_swiotlb_detect).
  if (map.aboveFourGiBRamBytes > 0) take(free, reserved, freeFromAbove(free, lowTop, p.swiotlbPages));
  // The kernel image where KASLR put it.
  const kernelStart = kernelStartPage(p);
  const image = freeFromBelow(free, kernelStart, p.kernelImagePages);
  take(free, reserved, image);

  // Boot-time page allocations: the head of DMA32's and Normal's free lists, and the freed init
  // memory beside the kernel image that later allocations reused.
  const kernel: PageRange[] = [];
  let left = p.baselineUsedPages;
  left -= take(free, kernel, freeFromBelow(free, ZONE_START.DMA32, Math.min(left, p.dma32HeadPages)));
  const normalFrom = map.aboveFourGiBRamBytes > 0 ? ZONE_START.Normal : ZONE_START.DMA32;
  left -= take(free, kernel, freeFromBelow(free, normalFrom, Math.min(left, p.normalHeadPages)));
  const imageEnd = image.length > 0 ? (image[image.length - 1] as PageRange).startPage + (image[image.length - 1] as PageRange).pageCount : kernelStart;
  left -= take(free, kernel, freeFromBelow(free, imageEnd, left));
  if (left > 0) take(free, kernel, freeFromBelow(free, 0, left));
  return { firmware, reserved, kernel, free };
}
