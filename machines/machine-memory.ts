/**
 * The memory of one VM: the guest-physical map (machines/pc-memory-map.ts), the guest's page
 * states and the host's backing, all as page-range trees, never per page. It is both the host's
 * view (what QEMU's memory core offers hv-balloon) and the guest's (what the Linux kernel offers
 * the hv_balloon driver and the workload).
 *
 * Guest page states, pairwise disjoint:
 *   free       online, in the buddy allocator
 *   kernel     online, used by the kernel (Linux model: its allocations since boot; simple model:
 *              the boot reservation, counted as committed)
 *   used       online, allocated by the workload
 *   ballooned  online but given to the balloon (not managed: Linux adjust_managed_page_count)
 *   offline    hot-added but not onlined yet
 *   reserved   Linux model: memblock reservations at boot (present, not in MemTotal)
 *   absent     everything else (holes, ROM/MMIO, firmware-reserved pages, device memory nobody added)
 * Host side: every RAM page of the map (boot RAM and mapped memdev slots) is backed either
 * resident or discarded. Boot RAM starts resident (the guest touched it at boot: assumption,
 * configurable); memdev slots start unpopulated (counted as discarded). Discarded pages become
 * resident when the guest allocates or dirties them.
 *
 * Two guest models. The default is Linux calibrated to recordings of a real Linux 6.12 guest
 * (machines/linux-memory/: boot layout, zones and watermarks, a zone-ordered buddy-like
 * allocator). Given kernelReservedPages, the simple model (machines/simple-memory/): one zone,
 * balloon units from the highest free memory down, workload allocations from the lowest up.
 * Both: workload frees from the highest used pages down; no allocation takes the last
 * min-watermark pages (Linux keeps them for atomic allocations).
 */
import type { PageRange } from '../protocol/messages';
import { PAGE_SIZE } from '../protocol/constants';
import type { GuestMemoryView, HostMemoryView, MemorySection } from './memory-views';
import { checkCount, checkRange, isPowerOfTwo, MemoryModelError, type MachineMemoryConfig } from './machine-memory/config';
import { RegionIndex, type MappedSlot } from './machine-memory/region-index';
import { PageRangeTree } from './page-range-tree';
import { pickContiguousRuns, pickLowest, pickUnitsFromTop, simpleWatermarks } from './simple-memory/simple-allocator';
import { linuxBootLayout, SECTION_PAGES } from './linux-memory/boot-layout';
import { resolveLinuxMemory, type LinuxMemoryParams } from './linux-memory/linux-memory-params';
import { pickPagesByZone, pickUnitRunsByZone, pickUnitsByZone } from './linux-memory/zone-allocator';
import { ZONE_END, ZONE_START, ZONES, zoneLimits, type ZoneLimits, type ZoneName } from './linux-memory/zones';
import { buildPcMemoryMap, hex, MemoryMapError, type PcMemoryMap } from './pc-memory-map';

const MiB_PAGES = 256;
const FOUR_GIB_PAGE = 0x10_0000;

/** Default kernel reservation: 64 MiB of low RAM (kernel image, memmap, slab at boot). Assumption. */
export const DEFAULT_KERNEL_RESERVED_PAGES = 64 * MiB_PAGES;
/** Host page size of a hugepage-backed memdev (x86 2 MiB pages). */
export const HUGEPAGE_SIZE = 2 * 1024 * 1024;

export type GuestPageState = 'free' | 'kernel' | 'used' | 'ballooned' | 'offline' | 'reserved' | 'absent';
export type TrackedPageState = Exclude<GuestPageState, 'absent'>;

/** Linux zone watermarks in pages. */
export interface Watermarks {
  min: number;
  low: number;
  high: number;
}

export type { MappedSlot } from './machine-memory/region-index';
export { MemoryModelError, type MachineMemoryConfig } from './machine-memory/config';

/** Estimated heap bytes per region entry (object of 7 fields + B-tree slot); an estimate. */
export const REGION_ENTRY_BYTES = 120;
/** Estimated fixed bytes of the model object and its region index. */
const MODEL_FIXED_BYTES = 600;

function rangeEnd(r: PageRange): number {
  return r.startPage + r.pageCount;
}

export class MachineMemory implements HostMemoryView, GuestMemoryView {
  readonly map: PcMemoryMap;
  readonly bootRamPages: number;
  readonly pcDimmPages = 0;
  readonly kernelReservationPages: number;
  /** The calibrated Linux model's parameters; null in the simple model (kernelReservedPages given). */
  readonly linux: LinuxMemoryParams | null;
  /** Zone watermarks and reserves of the Linux model (recomputed at boot and when memory is onlined). */
  private limits: ZoneLimits | null = null;
  /** The simple model's boot reservation. */
  private simpleKernelPages = 0;

  private readonly hostPageSize: number;
  private readonly memdevHostPageSize: number;
  private readonly memdevHostAligned: boolean;
  private readonly bootRamResident: boolean;

  /** The guest-physical regions (static map and mapped memdev slots), the host view's index. */
  private readonly regions: RegionIndex;

  private readonly free = new PageRangeTree();
  private readonly kernel = new PageRangeTree();
  private readonly used = new PageRangeTree();
  private readonly ballooned = new PageRangeTree();
  private readonly offline = new PageRangeTree();
  /** Linux model: memblock reservations (present, never in the page allocator, not in MemTotal). */
  private readonly reserved = new PageRangeTree();
  /** Host: RAM pages whose backing is discarded or was never populated. */
  private readonly discarded = new PageRangeTree();
  /** Workload pages in the guest's swap (not guest-physical) and the pswpin/pswpout counts (machines/workload/paging.ts). */
  private readonly swap = { pages: 0, inPages: 0, outPages: 0 };

  constructor(config: MachineMemoryConfig) {
    this.map = buildPcMemoryMap({ machineType: config.machineType, ramBytes: config.ramBytes, maxmemBytes: config.maxmemBytes, slots: config.slots });
    this.bootRamPages = this.map.bootRamPages;

    this.hostPageSize = config.hostPageSize ?? PAGE_SIZE;
    if (!isPowerOfTwo(this.hostPageSize) || this.hostPageSize < PAGE_SIZE) {
      throw new MemoryModelError('hostPageSize', `hostPageSize must be a power of two >= 4096, got ${String(config.hostPageSize)}`);
    }
    this.memdevHostPageSize = config.memdevHostPageSize ?? (config.memdevHugepages === true ? HUGEPAGE_SIZE : PAGE_SIZE);
    if (!isPowerOfTwo(this.memdevHostPageSize) || this.memdevHostPageSize < PAGE_SIZE) {
      throw new MemoryModelError(
        'memdevHostPageSize',
        `memdevHostPageSize must be a power of two >= 4096, got ${String(config.memdevHostPageSize)}`,
      );
    }
    this.memdevHostAligned = config.memdevHostAligned ?? true;
    this.bootRamResident = config.bootRamResident ?? true;

    this.regions = new RegionIndex(this.map, this.hostPageSize);

    this.linux = config.kernelReservedPages === undefined ? resolveLinuxMemory(config.linux, 'linux') : null;
    const kernelPages = config.kernelReservedPages ?? DEFAULT_KERNEL_RESERVED_PAGES;
    checkCount('constructor', 'kernelReservedPages', kernelPages);
    if (this.linux === null && kernelPages >= this.regions.mappedRamPages) {
      throw new MemoryModelError(
        'kernelReservedPages',
        `kernelReservedPages (${kernelPages}) must be smaller than the guest's visible RAM (${this.regions.mappedRamPages} pages of ramBytes=${hex(config.ramBytes)})`,
      );
    }
    this.simpleKernelPages = kernelPages;
    this.initBootGuestState();
    this.kernelReservationPages = this.linux === null ? kernelPages : this.kernel.totalPages + this.reserved.totalPages;
    if (this.linux !== null && this.free.totalPages <= this.watermarks().high) {
      throw new MemoryModelError(
        'ramBytes',
        `ramBytes=${hex(config.ramBytes)} is too small for a Linux guest: the kernel's boot reservations and use leave ${this.free.totalPages} free pages`,
      );
    }
    if (!this.bootRamResident) {
      for (const r of this.free.toArray()) this.discarded.insert(r.startPage, r.pageCount);
    }
  }

  // ---- host view ------------------------------------------------------------------------------

  findSection(page: number, maxPages: number): MemorySection {
    checkCount('findSection', 'page', page);
    checkCount('findSection', 'maxPages', maxPages);
    if (maxPages === 0) throw new MemoryModelError('maxPages', 'MachineMemory.findSection: maxPages must be at least 1, got 0');
    return this.regions.findSection(page, maxPages);
  }

  discard(range: PageRange): boolean {
    checkRange('discard', range);
    if (!this.regions.allRam(range)) return false;
    this.discarded.insert(range.startPage, range.pageCount);
    return true;
  }

  mapDeviceMemory(range: PageRange, name: string): void {
    checkRange('mapDeviceMemory', range);
    if (range.pageCount === 0) throw new MemoryModelError('pageCount', 'MachineMemory.mapDeviceMemory: pageCount must be at least 1, got 0');
    if (typeof name !== 'string' || name === '') {
      throw new MemoryModelError('name', `MachineMemory.mapDeviceMemory: name must be a non-empty string, got ${String(name)}`);
    }
    const area = this.map.deviceMemory;
    if (area === null || range.startPage < area.startPage || rangeEnd(range) > rangeEnd(area)) {
      const where = area === null ? 'the machine has no device-memory area (maxmem == ram)' : `the device-memory area is pages [${hex(area.startPage)}, ${hex(rangeEnd(area))})`;
      throw new MemoryModelError(
        'range',
        `MachineMemory.mapDeviceMemory: ${name} pages [${hex(range.startPage)}, ${hex(rangeEnd(range))}) are outside device memory: ${where}`,
      );
    }
    const clash = this.regions.clashWith(range);
    if (clash !== undefined) {
      throw new MemoryModelError(
        'range',
        `MachineMemory.mapDeviceMemory: ${name} overlaps ${clash.name} at pages [${hex(clash.startPage)}, ${hex(rangeEnd(clash))})`,
      );
    }
    this.regions.addSlot(range, name, this.memdevHostPageSize, this.memdevHostAligned);
    // A memory-backend-ram is populated lazily: nothing is resident until the guest writes.
    this.discarded.insert(range.startPage, range.pageCount);
  }

  releaseDeviceMemory(window: PageRange): void {
    checkRange('releaseDeviceMemory', window);
    if (window.pageCount === 0) return;
    for (const s of this.regions.removeSlots(window)) this.discarded.subtract(s.startPage, s.pageCount);
    // QEMU hv-balloon system reset: the guest is back to boot size, nothing of the window stays.
    for (const t of this.guestTrees()) t.subtract(window.startPage, window.pageCount);
  }

  residentPages(): number {
    return this.regions.mappedRamPages - this.discarded.totalPages;
  }

  /** Host RAM pages mapped into the guest (boot RAM the guest sees + mapped memdev slots). */
  mappedRamPageCount(): number {
    return this.regions.mappedRamPages;
  }

  /** The host-discarded (or never populated) RAM ranges, ascending. */
  discardedRanges(): PageRange[] {
    return this.discarded.toArray();
  }

  /** The memdev slots currently mapped, ascending. */
  mappedSlots(): MappedSlot[] {
    return this.regions.slots();
  }

  // ---- guest view: counters -------------------------------------------------------------------

  managedPages(): number {
    return this.free.totalPages + this.kernel.totalPages + this.used.totalPages;
  }

  freePages(): number {
    return this.free.totalPages;
  }

  /**
   * MemAvailable, simplified from Linux si_mem_available(): free - totalreserve (the high
   * watermark) + reclaimable page cache; no page cache is modelled, so free - high, clamped at 0.
   */
  availablePages(): number {
    if (this.linux === null || this.limits === null) return Math.max(0, this.free.totalPages - this.watermarks().high);
    // Linux si_mem_available: free - totalreserve_pages, plus the reclaimable kernel memory but
    // for the part of it (at most half) the low watermark says must stay; no page cache here.
    const reclaimable = this.linux.reclaimablePages;
    const available = this.free.totalPages - this.limits.totalReserve + reclaimable - Math.min(Math.floor(reclaimable / 2), this.limits.low);
    return Math.max(0, available);
  }

  /**
   * Committed_AS: the guest's processes (Linux model) or the kernel reservation (simple model), plus
   * the workload's pages, resident or swapped out (machines/workload/paging.ts).
   */
  committedPages(): number {
    return (this.linux === null ? this.kernel.totalPages : this.linux.committedPages) + this.used.totalPages + this.swap.pages;
  }

  /** Linux model: pages reserved at boot outside the page allocator (MemTotal leaves them out); 0 in the simple model. */
  reservedPages(): number {
    return this.reserved.totalPages;
  }

  /** Linux model: the watermarks and lowmem reserves of each zone; null in the simple model. */
  zoneLimits(): ZoneLimits | null {
    return this.limits;
  }

  /** Managed (online, not ballooned) pages per zone. */
  managedPagesByZone(): Record<ZoneName, number> {
    const out: Record<ZoneName, number> = { DMA: 0, DMA32: 0, Normal: 0 };
    for (const z of ZONES) {
      for (const t of [this.free, this.kernel, this.used]) {
        for (const r of t.intersection(ZONE_START[z], ZONE_END[z] - ZONE_START[z])) out[z] += r.pageCount;
      }
    }
    return out;
  }

  // ---- guest view: swap (machines/workload/paging.ts) -----------------------------------------

  /** Workload pages swapped out. */
  swappedPages(): number {
    return this.swap.pages;
  }

  /** Swap traffic since boot, like /proc/vmstat pswpin and pswpout, in pages. */
  swapStats(): { swappedPages: number; swapInPages: number; swapOutPages: number } {
    return { swappedPages: this.swap.pages, swapInPages: this.swap.inPages, swapOutPages: this.swap.outPages };
  }

  /** `pages` of the workload were written to swap. */
  swapOut(pages: number): void {
    checkCount('swapOut', 'pages', pages);
    this.swap.pages += pages;
    this.swap.outPages += pages;
  }

  /** `pages` were read back from swap (the caller allocated their room). */
  swapIn(pages: number): void {
    checkCount('swapIn', 'pages', pages);
    const n = Math.min(pages, this.swap.pages);
    this.swap.pages -= n;
    this.swap.inPages += n;
  }

  /** The workload freed up to `pages` of what it had in swap; returns how many. */
  dropSwapped(pages: number): number {
    checkCount('dropSwapped', 'pages', pages);
    const n = Math.min(pages, this.swap.pages);
    this.swap.pages -= n;
    return n;
  }

  balloonedPages(): number {
    return this.ballooned.totalPages;
  }

  /** Pages the workload holds (excludes the kernel reservation). */
  workloadUsedPages(): number {
    return this.used.totalPages;
  }

  /** Pages hot-added and not onlined. */
  offlinePageCount(): number {
    return this.offline.totalPages;
  }

  /** Page cache: not modelled (always 0); kept so MemAvailable's formula reads as Linux's. */
  cachePages(): number {
    return 0;
  }

  /**
   * Zone watermarks, after Linux mm/page_alloc.c: min_free_kbytes = sqrt(16 x KiB) clamped to
   * [128, 262144]; low = min + gap, high = min + 2 x gap with gap = max(min / 4, pages x
   * watermark_scale_factor (10) / 10000). Computed from the online pages (Linux recomputes them
   * when memory is onlined, not when the balloon adjusts managed pages). One zone, no lowmem_reserve.
   */
  watermarks(): Watermarks {
    if (this.limits !== null) return { min: this.limits.min, low: this.limits.low, high: this.limits.high };
    return simpleWatermarks(this.managedPages() + this.ballooned.totalPages);
  }

  /** Free pages an allocation may take: all but the min watermark. */
  allocatablePages(): number {
    return Math.max(0, this.free.totalPages - this.watermarks().min);
  }

  // ---- guest view: balloon and hot-add --------------------------------------------------------

  allocateBalloonUnits(unitPages: number, maxUnits: number): PageRange[] {
    checkCount('allocateBalloonUnits', 'unitPages', unitPages);
    checkCount('allocateBalloonUnits', 'maxUnits', maxUnits);
    if (!isPowerOfTwo(unitPages)) {
      throw new MemoryModelError('unitPages', `MachineMemory.allocateBalloonUnits: unitPages must be a power of two, got ${unitPages}`);
    }
    if (this.limits !== null) {
      // Move whole runs of adjacent units: one tree update per run, not per unit.
      const { units, runs } = pickUnitsByZone(this.free, this.limits, unitPages, maxUnits);
      for (const run of runs) this.moveRange(this.free, this.ballooned, run);
      return units;
    }
    // Linux buddy allocator: an order-n block is aligned to its size.
    const { units, runs } = pickUnitsFromTop(this.free, unitPages, Math.min(maxUnits, Math.floor(this.allocatablePages() / unitPages)));
    for (const t of runs) this.moveRange(this.free, this.ballooned, t);
    return units;
  }

  /**
   * allocateBalloonUnits' allocation as runs of adjacent units in the order they are handed out
   * (a Linux guest encodes its message from them: no object per unit). Without zones, one run per unit.
   */
  allocateBalloonUnitRuns(unitPages: number, maxUnits: number): PageRange[] {
    if (this.limits === null) return this.allocateBalloonUnits(unitPages, maxUnits);
    checkCount('allocateBalloonUnitRuns', 'unitPages', unitPages);
    checkCount('allocateBalloonUnitRuns', 'maxUnits', maxUnits);
    if (!isPowerOfTwo(unitPages)) {
      throw new MemoryModelError('unitPages', `MachineMemory.allocateBalloonUnitRuns: unitPages must be a power of two, got ${unitPages}`);
    }
    const runs = pickUnitRunsByZone(this.free, this.limits, unitPages, maxUnits);
    for (const run of runs) this.moveRange(this.free, this.ballooned, run);
    return runs;
  }

  /** Whether allocateBalloonUnits(unitPages, 1) would get a unit now: the same pick, nothing moved. */
  hasBalloonUnit(unitPages: number): boolean {
    if (this.limits !== null) return pickUnitRunsByZone(this.free, this.limits, unitPages, 1).length > 0;
    return pickUnitsFromTop(this.free, unitPages, Math.min(1, Math.floor(this.allocatablePages() / unitPages))).runs.length > 0;
  }

  allocateBalloonContiguous(maxPages: number, maxRanges: number): PageRange[] {
    checkCount('allocateBalloonContiguous', 'maxPages', maxPages);
    checkCount('allocateBalloonContiguous', 'maxRanges', maxRanges);
    const out = pickContiguousRuns(this.free, Math.min(maxPages, this.allocatablePages()), maxRanges);
    for (const piece of out) this.moveRange(this.free, this.ballooned, piece);
    return out;
  }

  releaseBalloonRange(range: PageRange): number {
    checkRange('releaseBalloonRange', range);
    let released = 0;
    for (const part of this.ballooned.intersection(range.startPage, range.pageCount)) {
      this.moveRange(this.ballooned, this.free, part);
      released += part.pageCount;
    }
    return released;
  }

  addMemoryBlock(range: PageRange): 'ok' | 'exists' {
    checkRange('addMemoryBlock', range);
    if (range.pageCount === 0) throw new MemoryModelError('pageCount', 'MachineMemory.addMemoryBlock: pageCount must be at least 1, got 0');
    // Linux add_memory(): -EEXIST when the range collides with present memory or a static
    // region (a resource already in iomem). Device memory is a hole until somebody adds it.
    if (this.regions.staticRegionIn(range)) return 'exists';
    for (const t of this.guestTrees()) if (t.intersectsAny(range.startPage, range.pageCount)) return 'exists';
    // The whole PCI hole is the PCI host bridge's window in the guest's iomem, even where QEMU maps nothing.
    const holeStart = this.map.belowFourGiBRamBytes / PAGE_SIZE;
    if (range.startPage < FOUR_GIB_PAGE && rangeEnd(range) > holeStart) return 'exists';
    this.offline.insert(range.startPage, range.pageCount);
    // Linux add_memory: the new sections' memmap (and the rest of the hotplug bookkeeping) is
    // allocated from the memory already online.
    if (this.linux !== null && this.limits !== null && this.linux.hotplugPagesPerBlock > 0) {
      const blocks = Math.ceil(range.pageCount / SECTION_PAGES);
      for (const r of pickPagesByZone(this.free, this.limits, blocks * this.linux.hotplugPagesPerBlock)) this.moveRange(this.free, this.kernel, r);
    }
    return 'ok';
  }

  onlinePages(range: PageRange): number {
    checkRange('onlinePages', range);
    let onlined = 0;
    for (const part of this.offline.intersection(range.startPage, range.pageCount)) {
      this.moveRange(this.offline, this.free, part);
      onlined += part.pageCount;
    }
    // Linux online_pages -> init_per_zone_wmark_min: watermarks follow the memory onlined.
    if (onlined > 0 && this.linux !== null) this.limits = zoneLimits(this.managedPagesByZone());
    return onlined;
  }

  // ---- workload -------------------------------------------------------------------------------

  /** Allocate up to `pages` for the workload from the lowest free memory up; touches them. */
  allocateUsed(pages: number): PageRange[] {
    checkCount('allocateUsed', 'pages', pages);
    let remaining = Math.min(pages, this.allocatablePages());
    const taken: PageRange[] = this.limits !== null ? pickPagesByZone(this.free, this.limits, remaining) : [];
    if (this.limits !== null) remaining = 0;
    for (const r of this.free.ranges()) {
      if (remaining === 0) break;
      const n = Math.min(remaining, r.pageCount);
      taken.push({ startPage: r.startPage, pageCount: n });
      remaining -= n;
    }
    for (const t of taken) {
      this.moveRange(this.free, this.used, t);
      // Writing a page faults its host backing back in.
      this.discarded.subtract(t.startPage, t.pageCount);
    }
    return taken;
  }

  /** Free up to `pages` workload pages, the highest (most recently allocated) first. */
  freeUsed(pages: number): number {
    checkCount('freeUsed', 'pages', pages);
    let freed = 0;
    while (freed < pages) {
      const r = this.used.pop(pages - freed);
      if (r === undefined) break;
      this.free.insert(r.startPage, r.pageCount);
      freed += r.pageCount;
    }
    return freed;
  }

  /**
   * The workload writes `pages` of its memory: up to that many of its pages whose host backing
   * was discarded become resident again, lowest first. Returns how many became resident.
   */
  dirty(pages: number): number {
    checkCount('dirty', 'pages', pages);
    if (pages === 0 || this.discarded.isEmpty || this.used.isEmpty) return 0;
    // Walk whichever tree has fewer ranges, intersecting with the other.
    const [outer, inner] = this.discarded.rangeCount <= this.used.rangeCount ? [this.discarded, this.used] : [this.used, this.discarded];
    const hits: PageRange[] = [];
    let left = pages;
    for (const r of outer.ranges()) {
      if (left === 0) break;
      for (const part of inner.intersection(r.startPage, r.pageCount)) {
        const n = Math.min(left, part.pageCount);
        hits.push({ startPage: part.startPage, pageCount: n });
        left -= n;
        if (left === 0) break;
      }
    }
    for (const h of hits) this.discarded.subtract(h.startPage, h.pageCount);
    return pages - left;
  }

  // ---- lifecycle and inspection ---------------------------------------------------------------

  /**
   * System reset, guest side: back to the boot page states (free boot RAM minus the kernel
   * reservation); the workload, the balloon and all hot-added memory are gone. The host side
   * (mapped slots, discarded backing) is left to releaseDeviceMemory.
   */
  resetToBoot(): void {
    for (const t of this.guestTrees()) t.clear();
    // The swap device's contents die with the guest; the traffic counters are the host's record.
    this.swap.pages = 0;
    this.initBootGuestState();
  }

  /** The ranges in one guest state, ascending (a snapshot). */
  rangesIn(state: TrackedPageState): PageRange[] {
    return this.treeOf(state).toArray();
  }

  /** How many pages of `range` are in each guest state (O(ranges in the window)). */
  stateCounts(range: PageRange): Record<GuestPageState, number> {
    checkRange('stateCounts', range);
    const counts: Record<GuestPageState, number> = { free: 0, kernel: 0, used: 0, ballooned: 0, offline: 0, reserved: 0, absent: 0 };
    let present = 0;
    for (const state of ['free', 'kernel', 'used', 'ballooned', 'offline', 'reserved'] as const) {
      const n = this.treeOf(state)
        .intersection(range.startPage, range.pageCount)
        .reduce((sum, r) => sum + r.pageCount, 0);
      counts[state] = n;
      present += n;
    }
    counts.absent = range.pageCount - present;
    return counts;
  }

  /** Estimated heap bytes of all the bookkeeping: grows with ranges and regions, never with pages. */
  metadataBytes(): number {
    let bytes = MODEL_FIXED_BYTES + REGION_ENTRY_BYTES * this.regions.size;
    for (const t of this.guestTrees()) bytes += t.metadataBytes();
    return bytes + this.discarded.metadataBytes();
  }

  // ---- internals ------------------------------------------------------------------------------

  private initBootGuestState(): void {
    if (this.linux !== null) {
      const layout = linuxBootLayout(this.map, this.linux);
      for (const r of layout.free.ranges()) this.free.insert(r.startPage, r.pageCount);
      for (const r of layout.reserved) this.reserved.insert(r.startPage, r.pageCount);
      for (const r of layout.kernel) this.kernel.insert(r.startPage, r.pageCount);
      this.limits = zoneLimits(this.managedPagesByZone());
      return;
    }
    for (const r of this.map.regions) if (r.kind === 'ram' && r.guestRam !== false) this.free.insert(r.startPage, r.pageCount);
    // The kernel reservation comes from the lowest RAM (the kernel is loaded low).
    for (const t of pickLowest(this.free, this.simpleKernelPages)) this.moveRange(this.free, this.kernel, t);
  }

  private moveRange(from: PageRangeTree, to: PageRangeTree, r: PageRange): void {
    from.subtract(r.startPage, r.pageCount);
    to.insert(r.startPage, r.pageCount);
  }

  private guestTrees(): PageRangeTree[] {
    return [this.free, this.kernel, this.used, this.ballooned, this.offline, this.reserved];
  }

  private treeOf(state: TrackedPageState): PageRangeTree {
    switch (state) {
      case 'free':
        return this.free;
      case 'kernel':
        return this.kernel;
      case 'used':
        return this.used;
      case 'ballooned':
        return this.ballooned;
      case 'offline':
        return this.offline;
      case 'reserved':
        return this.reserved;
    }
  }
}

export { MemoryMapError };
