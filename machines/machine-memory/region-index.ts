/**
 * The guest-physical regions of one VM as the host's memory core sees them (QEMU's flat view, as
 * far as hv-balloon looks at it): the static map (machines/pc-memory-map.ts) plus the memdev
 * slots hv-balloon maps, in an ordered map from start page to region. MachineMemory answers the
 * host view's section lookups and slot mapping from it; nothing here is per page.
 */
import BTree from 'sorted-btree';
import { PAGE_SIZE } from '../../protocol/constants';
import type { PageRange } from '../../protocol/messages';
import type { MemorySection, RegionKind } from '../memory-views';
import type { MapRegionKind, PcMemoryMap } from '../pc-memory-map';

export interface RegionEntry {
  startPage: number;
  pageCount: number;
  kind: MapRegionKind;
  name: string;
  hostPageSize: number;
  hostAligned: boolean;
  /** A memdev slot mapped by mapDeviceMemory (not part of the static map). */
  slot: boolean;
  /** Smaller than a page (the HPET): found with pageCount 0, as QEMU's section size rounds down. */
  subPage: boolean;
}

/** A memdev slot as MachineMemory.mappedSlots lists it. */
export interface MappedSlot extends PageRange {
  name: string;
}

function rangeEnd(r: PageRange): number {
  return r.startPage + r.pageCount;
}

export class RegionIndex {
  private readonly regions = new BTree<number, RegionEntry>();
  /** Host RAM pages mapped into the guest (boot RAM the guest sees + mapped memdev slots). */
  mappedRamPages = 0;

  /** The static map's regions; RAM is backed by pages of `hostPageSize`. */
  constructor(map: PcMemoryMap, hostPageSize: number) {
    for (const r of map.regions) {
      this.regions.set(r.startPage, {
        startPage: r.startPage,
        pageCount: r.pageCount,
        kind: r.kind,
        name: r.name,
        hostPageSize: r.kind === 'ram' ? hostPageSize : PAGE_SIZE,
        hostAligned: true,
        slot: false,
        subPage: r.subPageBytes !== undefined,
      });
      if (r.kind === 'ram') this.mappedRamPages += r.pageCount;
    }
  }

  /** Regions in the index (static ones and mapped slots). */
  get size(): number {
    return this.regions.size;
  }

  /** The region containing `page`, if any. */
  at(page: number): RegionEntry | undefined {
    const below = this.regions.getPairOrNextLower(page);
    return below !== undefined && rangeEnd(below[1]) > page ? below[1] : undefined;
  }

  /** The section covering `page` within [page, page + maxPages) (HostMemoryView.findSection, arguments checked). */
  findSection(page: number, maxPages: number): MemorySection {
    const windowEnd = page + maxPages;
    const at = this.at(page);
    if (at !== undefined) {
      const kind: RegionKind = at.kind;
      return {
        kind,
        startPage: page,
        // QEMU hv_balloon_handle_remove_ranges: a section smaller than a page is 0 pages long.
        pageCount: at.subPage ? 0 : Math.min(rangeEnd(at), windowEnd) - page,
        name: at.name,
        hostPageSize: at.hostPageSize,
        hostAligned: at.hostAligned,
      };
    }
    const next = this.regions.nextHigherPair(page);
    const holeEnd = next === undefined ? windowEnd : Math.min(next[0], windowEnd);
    return { kind: 'unmapped', startPage: page, pageCount: holeEnd - page, name: 'unmapped', hostPageSize: PAGE_SIZE, hostAligned: false };
  }

  /** Whether every page of `range` is RAM. */
  allRam(range: PageRange): boolean {
    const end = rangeEnd(range);
    for (let p = range.startPage; p < end; ) {
      const at = this.at(p);
      if (at === undefined || at.kind !== 'ram') return false;
      p = rangeEnd(at);
    }
    return true;
  }

  /** A region overlapping `range`, if any (the highest one starting below its end). */
  clashWith(range: PageRange): RegionEntry | undefined {
    const clash = this.regions.getPairOrNextLower(rangeEnd(range) - 1);
    return clash !== undefined && rangeEnd(clash[1]) > range.startPage ? clash[1] : undefined;
  }

  /** Map a memdev slot (the caller checked that nothing overlaps it). */
  addSlot(range: PageRange, name: string, hostPageSize: number, hostAligned: boolean): void {
    this.regions.set(range.startPage, {
      startPage: range.startPage,
      pageCount: range.pageCount,
      kind: 'ram',
      name,
      hostPageSize,
      hostAligned,
      slot: true,
      subPage: false,
    });
    this.mappedRamPages += range.pageCount;
  }

  /** Unmap every memdev slot that overlaps `window`; returns them. */
  removeSlots(window: PageRange): RegionEntry[] {
    const end = rangeEnd(window);
    const slots: RegionEntry[] = [];
    const before = this.regions.getPairOrNextLower(window.startPage);
    if (before !== undefined && before[1].slot && rangeEnd(before[1]) > window.startPage) slots.push(before[1]);
    this.regions.forRange(window.startPage, end, false, (_k, v) => {
      if (v.slot && v !== slots[0]) slots.push(v);
    });
    for (const s of slots) {
      this.regions.delete(s.startPage);
      this.mappedRamPages -= s.pageCount;
    }
    return slots;
  }

  /** The memdev slots currently mapped, ascending. */
  slots(): MappedSlot[] {
    const out: MappedSlot[] = [];
    for (const [, v] of this.regions.entries()) if (v.slot) out.push({ startPage: v.startPage, pageCount: v.pageCount, name: v.name });
    return out;
  }

  /** Whether a region of the static map (not a slot) overlaps `range`. */
  staticRegionIn(range: PageRange): boolean {
    const first = this.at(range.startPage);
    if (first !== undefined && !first.slot) return true;
    for (const [, entry] of this.regions.getRange(range.startPage, rangeEnd(range), false)) {
      if (!entry.slot) return true;
    }
    return false;
  }
}
