/**
 * The two views of guest memory that other parts use synchronously, as hardware would: the host
 * device looks up and discards host backing (QEMU memory_region_find / ram_block_discard_range),
 * the guest kernel allocates and frees pages. Both are implemented by the memory model
 * (machines/machine-memory.ts); everything is in (startPage, pageCount) ranges, never per page.
 */
import type { PageRange } from '../protocol/messages';

/** What occupies a stretch of guest-physical address space, as the host device classifies it. */
export type RegionKind = 'ram' | 'rom' | 'mmio' | 'unmapped';

/** One section of the system address space (QEMU MemoryRegionSection), clipped to the lookup window. */
export interface MemorySection {
  kind: RegionKind;
  /** First page of the section inside the lookup window (>= the page looked up). */
  startPage: number;
  /** Pages from startPage to the end of the section or of the window, whichever comes first. */
  pageCount: number;
  /** The region's name, e.g. "pc.ram", "pc.bios", "ioapic", "memslot-3". */
  name: string;
  /** The host page size backing it (4096 normally; larger for a hugepage memdev). */
  hostPageSize: number;
  /** Whether the host address of the section start is 4 KiB aligned. */
  hostAligned: boolean;
}

/** The host side: what QEMU's hv-balloon asks of the memory core. */
export interface HostMemoryView {
  /** Boot RAM in pages (QEMU machine ram_size >> 12). */
  readonly bootRamPages: number;
  /** Realized pc-dimm devices' sizes in pages (0 here: the simulator has no pc-dimm yet). */
  readonly pcDimmPages: number;
  /**
   * The section covering `page` within [page, page + maxPages). For a hole it returns kind
   * 'unmapped' covering the whole hole inside the window (the device accounts it page by page as
   * QEMU does, but in one step: ranges, not pages).
   */
  findSection(page: number, maxPages: number): MemorySection;
  /** Drop the host backing of a RAM range (QEMU ram_block_discard_range). False if not RAM. */
  discard(range: PageRange): boolean;
  /** Map a slice of the hv-balloon memdev window into the guest-physical space as RAM (a memslot). */
  mapDeviceMemory(range: PageRange, name: string): void;
  /** Unmap the whole hv-balloon window and discard its backing (system reset frees the range). */
  releaseDeviceMemory(window: PageRange): void;
  /** Pages of host memory currently backing guest RAM (resident). */
  residentPages(): number;
}

/** The guest side: what the Linux kernel offers the hv_balloon driver. All counts in 4 KiB pages. */
export interface GuestMemoryView {
  /** totalram_pages(): online RAM minus ballooned pages (managed pages shrink as the balloon grows). */
  managedPages(): number;
  /** Free pages (MemFree). */
  freePages(): number;
  /** si_mem_available(): MemAvailable. */
  availablePages(): number;
  /** vm_memory_committed(): Committed_AS of the workload and kernel. */
  committedPages(): number;
  /** Pages currently in the balloon. */
  balloonedPages(): number;
  /**
   * Take up to `maxUnits` aligned units of `unitPages` (512 = 2 MiB or 1 = 4 KiB) from free memory
   * into the balloon, one range per unit (Linux never merges them). Fewer when memory runs out.
   */
  allocateBalloonUnits(unitPages: number, maxUnits: number): PageRange[];
  /**
   * Optional: the same allocation as runs of adjacent units, in the order the units are handed
   * out (cutting each run into units of `unitPages`, in order, gives allocateBalloonUnits' list).
   * A Linux guest encodes its response from them (protocol encodeBalloonResponseUnits).
   */
  allocateBalloonUnitRuns?(unitPages: number, maxUnits: number): PageRange[];
  /**
   * Optional, no side effect: whether `allocateBalloonUnits(unitPages, 1)` would get a unit now.
   * A Linux guest asks it before sending a balloon response, to know its next round will not
   * switch to 4 KiB units, and then sends, allocates and charges the next message in one step.
   * Without it the guest takes the next round step by step (the same messages).
   */
  hasBalloonUnit?(unitPages: number): boolean;
  /**
   * Take up to `maxPages` from free memory into the balloon as the largest contiguous runs it can
   * find, at most `maxRanges` ranges of at most 2^24 - 1 pages (a Windows-like guest).
   */
  allocateBalloonContiguous(maxPages: number, maxRanges: number): PageRange[];
  /** Give a range back from the balloon to free memory; returns how many pages were in the balloon. */
  releaseBalloonRange(range: PageRange): number;
  /** Hot-add: a memory block appears (offline). 'exists' if it overlaps present memory (-EEXIST). */
  addMemoryBlock(range: PageRange): 'ok' | 'exists';
  /** Online pages of an added block: they become free memory. Returns pages onlined. */
  onlinePages(range: PageRange): number;
}
