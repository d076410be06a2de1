/**
 * Linux x86-64 memory zones and their watermarks, in 4 KiB pages (Linux mm/page_alloc.c
 * calculate_min_free_kbytes, __setup_per_zone_wmarks, setup_per_zone_lowmem_reserve,
 * calculate_totalreserve_pages; mm/khugepaged.c set_recommended_min_free_kbytes). Pure integer
 * arithmetic on per-zone page counts.
 */

export type ZoneName = 'DMA' | 'DMA32' | 'Normal';
/** Zones from the lowest up. */
export const ZONES: readonly ZoneName[] = ['DMA', 'DMA32', 'Normal'];
/** The order the page allocator tries them for a movable/highuser allocation (zonelist: highest first). */
export const ZONELIST: readonly ZoneName[] = ['Normal', 'DMA32', 'DMA'];

/** First page of each zone: DMA below 16 MiB, DMA32 below 4 GiB, Normal above. */
export const ZONE_START: Readonly<Record<ZoneName, number>> = { DMA: 0, DMA32: 0x1000, Normal: 0x10_0000 };
/** One past the last page of each zone (Normal is unbounded). */
export const ZONE_END: Readonly<Record<ZoneName, number>> = { DMA: 0x1000, DMA32: 0x10_0000, Normal: Number.MAX_SAFE_INTEGER };

export function zoneOfPage(page: number): ZoneName {
  return page < ZONE_START.DMA32 ? 'DMA' : page < ZONE_START.Normal ? 'DMA32' : 'Normal';
}

export interface ZoneWatermarks {
  min: number;
  low: number;
  high: number;
  /** The largest lowmem_reserve[] of the zone (what it keeps back from allocations that could use a higher zone). */
  lowmemReserve: number;
}

export interface ZoneLimits {
  zones: Record<ZoneName, ZoneWatermarks>;
  /** totalreserve_pages: what si_mem_available() subtracts from free memory. */
  totalReserve: number;
  /** Sums over the zones. */
  min: number;
  low: number;
  high: number;
}

/** Linux sysctl_lowmem_reserve_ratio for DMA, DMA32 (Normal's is unused: no higher zone here). */
const LOWMEM_RESERVE_RATIO: Readonly<Record<ZoneName, number>> = { DMA: 256, DMA32: 256, Normal: 32 };
/** vm.watermark_scale_factor default. */
const WATERMARK_SCALE_FACTOR = 10;
/** pageblock_nr_pages with 2 MiB pageblocks; MIGRATE_PCPTYPES. */
const PAGEBLOCK_PAGES = 512;
const MIGRATE_PCPTYPES = 3;

/**
 * The watermarks Linux sets from each zone's managed pages: min_free_kbytes = sqrt(16 x lowmem KiB)
 * in [128, 262144] KiB, raised by khugepaged (THP enabled, as on Debian) to room for
 * 2 + 3 x 3 pageblocks per populated zone, capped at 5 % of memory; split over the zones by size;
 * low/high add max(min/4, managed x 0.1 %) each.
 */
export function zoneLimits(managed: Readonly<Record<ZoneName, number>>): ZoneLimits {
  const total = ZONES.reduce((s, z) => s + managed[z], 0);
  // calculate_min_free_kbytes: before any watermark exists, nr_free_buffer_pages() is the managed total.
  let minFreeKb = Math.min(262_144, Math.max(128, Math.floor(Math.sqrt(total * 4 * 16))));
  // khugepaged set_recommended_min_free_kbytes.
  const populated = ZONES.filter((z) => managed[z] > 0).length;
  const pageblockFloorKb = (PAGEBLOCK_PAGES * populated * 2 + PAGEBLOCK_PAGES * populated * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES) * 4;
  const recommended = Math.min(pageblockFloorKb, Math.floor(total / 20) * 4);
  if (recommended > minFreeKb) minFreeKb = recommended;
  const pagesMin = Math.floor(minFreeKb / 4);

  const zones = {} as Record<ZoneName, ZoneWatermarks>;
  let above = 0;
  // setup_per_zone_lowmem_reserve: a zone keeps back (managed pages of the zones above) / ratio.
  const reserve: Record<ZoneName, number> = { DMA: 0, DMA32: 0, Normal: 0 };
  for (let i = ZONES.length - 1; i >= 0; i--) {
    const z = ZONES[i] as ZoneName;
    reserve[z] = managed[z] > 0 ? Math.floor(above / LOWMEM_RESERVE_RATIO[z]) : 0;
    above += managed[z];
  }
  let totalReserve = 0;
  const sum = { min: 0, low: 0, high: 0 };
  for (const z of ZONES) {
    const m = managed[z];
    const min = total === 0 ? 0 : Math.floor((pagesMin * m) / total);
    const step = Math.max(Math.floor(min / 4), Math.floor((m * WATERMARK_SCALE_FACTOR) / 10_000));
    const w: ZoneWatermarks = { min, low: min + step, high: min + 2 * step, lowmemReserve: reserve[z] };
    zones[z] = w;
    // calculate_totalreserve_pages: the high watermark plus the largest reserve, at most the zone.
    totalReserve += Math.min(m, w.high + w.lowmemReserve);
    sum.min += w.min;
    sum.low += w.low;
    sum.high += w.high;
  }
  return { zones, totalReserve, ...sum };
}
