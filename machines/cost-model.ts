/**
 * The cost model: how much virtual time each kind of guest work costs the vCPU. ONE table
 * ({@link DEFAULT_COST_TABLE}), every figure with its source or marked as an assumption.
 *
 * Calibration (the QEMU hv-balloon commit message, qemu-devel v5 3/3 patch, 2023-06-12): on a
 * Windows Server 2019 guest with its memory dirtied, hv-balloon balloons at 230 GB/min and
 * unballoons 200 GB in about 1 s; "almost all the time is spent waiting for the guest to free
 * pages", host processing is "nearly instantaneous". So the guest-side per-page costs are derived
 * from those two rates:
 * - pageAllocated: ballooning B = 230 GB (decimal, 230e9 bytes) as the Linux driver does it
 *   ({@link balloonReferenceWork}: 2 MiB units, 510 ranges per message, 585,728-page requests)
 *   must cost 60 s; the assumed per-range and per-message costs are subtracted first.
 * - pageFreed: unballooning 200 GB as QEMU sends it ({@link unballoonReferenceWork}: one range of
 *   at most 524,288 pages per request, one response) must cost 1 s.
 * Everything else is an assumption, marked as such, and can be overridden from the VM config.
 *
 * Resolution: costs are summed in nanoseconds and returned in ms rounded to the nearest
 * microsecond ({@link COST_RESOLUTION_MS}); the virtual clock takes fractional ms.
 */
import { BALLOON_CHUNK_PAGES, HOT_ADD_CHUNK_PAGES, MAX_RANGES_PER_MESSAGE, PAGE_SIZE } from '../protocol/constants';
import type { CostKind, WorkItem } from './part-events';

export interface CostEntry {
  /** Virtual nanoseconds per unit of work. */
  nsPerUnit: number;
  /** What one unit is. */
  unit: string;
  /** Where the figure comes from ("assumption: ..." when it is one). */
  source: string;
}

export type CostTable = Readonly<Record<CostKind, CostEntry>>;

/** Per-kind overrides in ns per unit (the VM config's `costModel`). */
export type CostOverrides = Partial<Record<CostKind, number>>;

/** Costs are rounded to 1 µs. */
export const COST_RESOLUTION_MS = 0.001;

export const COST_KINDS: readonly CostKind[] = [
  'pageAllocated',
  'pageFreed',
  'pageDirtied',
  'rangeAllocated',
  'rangeFreed',
  'messageHandled',
  'messageSent',
  'blockAdded',
  'pageOnlined',
  'pageSwapped',
  'pfnQueued',
  'pfnHandled',
  'bufferRoundTrip',
];

/** QEMU hv-balloon commit message: balloon rate (Windows Server 2019 guest, memory dirtied). */
export const REFERENCE_BALLOON_BYTES_PER_MINUTE = 230e9;
/** QEMU hv-balloon commit message: 200 GB unballooned in about 1 s. */
export const REFERENCE_UNBALLOON_BYTES = 200e9;
export const REFERENCE_UNBALLOON_SECONDS = 1;

const UNIT_PAGES_2M = 512;

// Assumptions (no measurement found); each is small next to the derived per-page costs.
/** assumption: one order-9 alloc_pages() plus split_page() bookkeeping for a 2 MiB unit. */
const ASSUMED_RANGE_ALLOCATED_NS = 2_000;
/** assumption: handing one range back (loop setup, one config_event completion). */
const ASSUMED_RANGE_FREED_NS = 1_000;
/** assumption: building and vmbus_sendpacket()ing one DM message (ring write + signal hypercall). */
const ASSUMED_MESSAGE_SENT_NS = 10_000;
/** assumption: taking the channel interrupt, copying a DM message out of the ring, dispatching it. */
const ASSUMED_MESSAGE_HANDLED_NS = 10_000;
/** assumption: writing a 4 KiB page incl. a first-touch fault on discarded backing (~4 GB/s). */
const ASSUMED_PAGE_DIRTIED_NS = 1_000;
/** assumption: add_memory() of one 128 MiB block (memmap allocation, resources, sysfs device). */
const ASSUMED_BLOCK_ADDED_NS = 2_000_000;
/** assumption: onlining one page (struct page init and freeing it to the buddy allocator). */
const ASSUMED_PAGE_ONLINED_NS = 40;
/** assumption: one 4 KiB page to or from a swap device (NVMe random 4 KiB I/O, ~20 us, partly overlapped). */
const ASSUMED_PAGE_SWAPPED_NS = 20_000;

// virtio-balloon's mechanisms (docs/virtio-balloon.md#the-cost-model). None is fitted to the seed's
// virtio figures (70 GB/min, 200 GB back in ~2.5 min): those must come out of these.
/**
 * assumption: Linux virtio_balloon.c fill_balloon/leak_balloon do per page: balloon_page_enqueue or
 * balloon_page_dequeue (the balloon's irq-safe lock, page flags, a list move), set_page_pfns, and
 * adjust_managed_page_count.
 */
const ASSUMED_PFN_QUEUED_NS = 500;
/**
 * assumption: QEMU virtio-balloon.c virtio_balloon_handle_output does per PFN one
 * memory_region_find() (flat-view lookup, region reference) and one qemu_madvise() of one 4 KiB
 * page (DONTNEED on inflate via ram_block_discard_range, WILLNEED on deflate): a syscall with
 * Spectre/Meltdown mitigations on a Broadwell-era Xeon, plus the page-table walk.
 */
const ASSUMED_PFN_HANDLED_NS = 2_000;
/**
 * assumption: one virtqueue buffer there and back: the kick (an I/O write, a VM exit, ioeventfd),
 * waking QEMU's main loop, virtio_notify through irqfd, the guest's interrupt, and waking the
 * balloon work that sleeps in wait_event (Linux tell_host): two cross-thread wake-ups on a busy host.
 */
const ASSUMED_BUFFER_ROUND_TRIP_NS = 80_000;

function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/**
 * The work the Linux driver charges to balloon `bytes` (Linux hv_balloon.c balloon_up): one
 * messageHandled per DM_BALLOON_REQUEST (at most 585,728 pages each), 2 MiB units (one
 * rangeAllocated + 512 pageAllocated each), one messageSent per response of at most 510 ranges.
 */
export function balloonReferenceWork(bytes: number): WorkItem[] {
  const pages = Math.round(bytes / PAGE_SIZE);
  const units = ceilDiv(pages, UNIT_PAGES_2M);
  return [
    { kind: 'messageHandled', count: ceilDiv(pages, BALLOON_CHUNK_PAGES) },
    { kind: 'rangeAllocated', count: units },
    { kind: 'pageAllocated', count: pages },
    { kind: 'messageSent', count: ceilDiv(units, MAX_RANGES_PER_MESSAGE) },
  ];
}

/**
 * The work the guest charges to unballoon `bytes` as QEMU asks it (QEMU hv-balloon.c
 * hv_balloon_unballoon_posting): one request per range of at most 524,288 pages (messageHandled +
 * rangeFreed), every page freed, one DM_UNBALLOON_RESPONSE.
 */
export function unballoonReferenceWork(bytes: number): WorkItem[] {
  const pages = Math.round(bytes / PAGE_SIZE);
  const requests = ceilDiv(pages, HOT_ADD_CHUNK_PAGES);
  return [
    { kind: 'messageHandled', count: requests },
    { kind: 'rangeFreed', count: requests },
    { kind: 'pageFreed', count: pages },
    { kind: 'messageSent', count: 1 },
  ];
}

/** virtio-balloon's buffer size (Linux VIRTIO_BALLOON_ARRAY_PFNS_MAX). */
const VIRTIO_PFNS_PER_BUFFER = 256;

/**
 * The work Linux's virtio_balloon and QEMU's virtio-balloon do to inflate `bytes` (fill_balloon,
 * tell_host, virtio_balloon_handle_output): every page allocated and queued by the guest and
 * handled by the host, one round trip per 256 PFNs. Round trips are waited for, not vCPU work.
 */
export function virtioInflateReferenceWork(bytes: number): WorkItem[] {
  const pages = Math.round(bytes / PAGE_SIZE);
  return [
    { kind: 'pageAllocated', count: pages },
    { kind: 'pfnQueued', count: pages },
    { kind: 'pfnHandled', count: pages },
    { kind: 'bufferRoundTrip', count: ceilDiv(pages, VIRTIO_PFNS_PER_BUFFER) },
  ];
}

/** The same for a deflate (leak_balloon): the host is told first, then every page is freed. */
export function virtioDeflateReferenceWork(bytes: number): WorkItem[] {
  const pages = Math.round(bytes / PAGE_SIZE);
  return [
    { kind: 'pfnQueued', count: pages },
    { kind: 'pfnHandled', count: pages },
    { kind: 'bufferRoundTrip', count: ceilDiv(pages, VIRTIO_PFNS_PER_BUFFER) },
    { kind: 'pageFreed', count: pages },
  ];
}

function countOf(work: WorkItem[], kind: CostKind): number {
  return work.filter((w) => w.kind === kind).reduce((sum, w) => sum + w.count, 0);
}

// Solve the per-page costs from the reference rates, after the assumed fixed costs.
const balloonRef = balloonReferenceWork(REFERENCE_BALLOON_BYTES_PER_MINUTE);
const DERIVED_PAGE_ALLOCATED_NS =
  (60e9 -
    countOf(balloonRef, 'messageHandled') * ASSUMED_MESSAGE_HANDLED_NS -
    countOf(balloonRef, 'rangeAllocated') * ASSUMED_RANGE_ALLOCATED_NS -
    countOf(balloonRef, 'messageSent') * ASSUMED_MESSAGE_SENT_NS) /
  countOf(balloonRef, 'pageAllocated');

const unballoonRef = unballoonReferenceWork(REFERENCE_UNBALLOON_BYTES);
const DERIVED_PAGE_FREED_NS =
  (REFERENCE_UNBALLOON_SECONDS * 1e9 -
    countOf(unballoonRef, 'messageHandled') * ASSUMED_MESSAGE_HANDLED_NS -
    countOf(unballoonRef, 'rangeFreed') * ASSUMED_RANGE_FREED_NS -
    countOf(unballoonRef, 'messageSent') * ASSUMED_MESSAGE_SENT_NS) /
  countOf(unballoonRef, 'pageFreed');

/** The cost table. */
export const DEFAULT_COST_TABLE: CostTable = Object.freeze({
  pageAllocated: {
    nsPerUnit: DERIVED_PAGE_ALLOCATED_NS,
    unit: '4 KiB page',
    source: 'derived: balloonReferenceWork(230 GB) = 60 s, i.e. 230 GB/min [QEMU hv-balloon commit message, qemu-devel v5 3/3, 2023-06-12]',
  },
  pageFreed: {
    nsPerUnit: DERIVED_PAGE_FREED_NS,
    unit: '4 KiB page',
    source: 'derived: unballoonReferenceWork(200 GB) = 1 s [QEMU hv-balloon commit message, qemu-devel v5 3/3, 2023-06-12]',
  },
  pageDirtied: {
    nsPerUnit: ASSUMED_PAGE_DIRTIED_NS,
    unit: '4 KiB page',
    source: 'assumption: 4 KiB write at ~4 GB/s incl. a first-touch fault',
  },
  rangeAllocated: {
    nsPerUnit: ASSUMED_RANGE_ALLOCATED_NS,
    unit: 'range',
    source: 'assumption: one order-9 alloc_pages() + split_page()',
  },
  rangeFreed: {
    nsPerUnit: ASSUMED_RANGE_FREED_NS,
    unit: 'range',
    source: 'assumption: per-range loop setup in balloon_down()',
  },
  messageHandled: {
    nsPerUnit: ASSUMED_MESSAGE_HANDLED_NS,
    unit: 'DM message',
    source: 'assumption: channel interrupt + copy out of the ring + dispatch',
  },
  messageSent: {
    nsPerUnit: ASSUMED_MESSAGE_SENT_NS,
    unit: 'DM message',
    source: 'assumption: build + vmbus_sendpacket() (ring write, signal hypercall)',
  },
  blockAdded: {
    nsPerUnit: ASSUMED_BLOCK_ADDED_NS,
    unit: 'memory block (128 MiB)',
    source: 'assumption: add_memory() of one block (memmap, resources, sysfs)',
  },
  pageOnlined: {
    nsPerUnit: ASSUMED_PAGE_ONLINED_NS,
    unit: '4 KiB page',
    source: 'assumption: struct page init + free to the buddy allocator',
  },
  pageSwapped: {
    nsPerUnit: ASSUMED_PAGE_SWAPPED_NS,
    unit: '4 KiB page',
    source: 'assumption: a swap-in or swap-out of one page (NVMe random 4 KiB I/O, ~20 us)',
  },
  pfnQueued: {
    nsPerUnit: ASSUMED_PFN_QUEUED_NS,
    unit: 'PFN (virtio-balloon, guest)',
    source: 'assumption: balloon_page_enqueue/dequeue + set_page_pfns + adjust_managed_page_count [Linux virtio_balloon.c]',
  },
  pfnHandled: {
    nsPerUnit: ASSUMED_PFN_HANDLED_NS,
    unit: 'PFN (virtio-balloon, host)',
    source: 'assumption: memory_region_find + one madvise() of 4 KiB [QEMU virtio-balloon.c virtio_balloon_handle_output]',
  },
  bufferRoundTrip: {
    nsPerUnit: ASSUMED_BUFFER_ROUND_TRIP_NS,
    unit: 'virtqueue buffer',
    source: 'assumption: kick VM exit + QEMU wake-up + irqfd interrupt + waking the guest worker [Linux virtio_balloon.c tell_host]',
  },
});

/** Bad cost-model override or work item; `field` names it. */
export class CostModelError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'CostModelError';
  }
}

function isCostKind(kind: string): kind is CostKind {
  return (COST_KINDS as readonly string[]).includes(kind);
}

/** The table with the VM config's overrides applied (validated: known kinds, finite ns >= 0). */
export function resolveCostTable(overrides?: CostOverrides): CostTable {
  if (overrides === undefined) return DEFAULT_COST_TABLE;
  const table: Record<CostKind, CostEntry> = { ...DEFAULT_COST_TABLE };
  for (const [key, value] of Object.entries(overrides)) {
    if (!isCostKind(key)) {
      throw new CostModelError(`costModel.${key}`, `costModel.${key} is not a cost kind (known: ${COST_KINDS.join(', ')})`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new CostModelError(`costModel.${key}`, `costModel.${key} must be a finite number of ns >= 0, got ${String(value)}`);
    }
    table[key] = { ...table[key], nsPerUnit: value, source: 'override from the VM config' };
  }
  return Object.freeze(table);
}

/** Virtual nanoseconds of `work` under `table` (validates each item). */
export function costNs(work: readonly WorkItem[], table: CostTable = DEFAULT_COST_TABLE): number {
  let ns = 0;
  for (const item of work) {
    if (!isCostKind(item.kind)) {
      throw new CostModelError('work.kind', `work.kind must be a cost kind (known: ${COST_KINDS.join(', ')}), got ${String(item.kind)}`);
    }
    if (!Number.isSafeInteger(item.count) || item.count < 0) {
      throw new CostModelError(`work.${item.kind}`, `work ${item.kind} count must be a non-negative integer, got ${String(item.count)}`);
    }
    ns += table[item.kind].nsPerUnit * item.count;
  }
  return ns;
}

/** Round ns to the model's resolution (1 µs) and express in ms. */
export function nsToMs(ns: number): number {
  return Math.round(ns / 1000) / 1000;
}

/**
 * What `work` costs in virtual ms, rounded to 1 µs. `overrides` are ns-per-unit figures (the VM
 * config's cost model) or an already resolved table.
 */
export function costOf(work: readonly WorkItem[], overrides?: CostOverrides | CostTable): number {
  const table = overrides !== undefined && isResolvedTable(overrides) ? overrides : resolveCostTable(overrides);
  return nsToMs(costNs(work, table));
}

function isResolvedTable(value: CostOverrides | CostTable): value is CostTable {
  return COST_KINDS.every((k) => typeof (value as Record<string, unknown>)[k] === 'object');
}

/** Bytes per minute the table balloons at, by the reference work (for docs and checks). */
export function balloonBytesPerMinute(table: CostTable = DEFAULT_COST_TABLE, sampleBytes = 230e9): number {
  return (sampleBytes / costNs(balloonReferenceWork(sampleBytes), table)) * 60e9;
}

/** Seconds the table takes to unballoon `bytes` by the reference work. */
export function unballoonSeconds(bytes: number, table: CostTable = DEFAULT_COST_TABLE): number {
  return costNs(unballoonReferenceWork(bytes), table) / 1e9;
}

/** Bytes per minute virtio-balloon inflates at under `table` (the mechanisms, summed). */
export function virtioInflateBytesPerMinute(table: CostTable = DEFAULT_COST_TABLE, sampleBytes = 200e9): number {
  return (sampleBytes / costNs(virtioInflateReferenceWork(sampleBytes), table)) * 60e9;
}

/** Seconds virtio-balloon takes to deflate `bytes` under `table`. */
export function virtioDeflateSeconds(bytes: number, table: CostTable = DEFAULT_COST_TABLE): number {
  return costNs(virtioDeflateReferenceWork(bytes), table) / 1e9;
}

/** The table as Markdown (docs/memory-model.md embeds this output). */
export function costTableMarkdown(table: CostTable = DEFAULT_COST_TABLE): string {
  const lines = ['| cost kind | ns per unit | unit | source |', '|---|---:|---|---|'];
  for (const kind of COST_KINDS) {
    const e = table[kind];
    const ns = Number.isInteger(e.nsPerUnit) ? String(e.nsPerUnit) : e.nsPerUnit.toFixed(3);
    lines.push(`| \`${kind}\` | ${ns} | ${e.unit} | ${e.source} |`);
  }
  return lines.join('\n');
}
