/**
 * virtio-balloon's numbers, from the virtio spec (5.5 Traditional Memory Balloon Device), Linux
 * include/uapi/linux/virtio_balloon.h and drivers/virtio/virtio_balloon.c, and QEMU
 * hw/virtio/virtio-balloon.c. See docs/virtio-balloon.md.
 */

/** VIRTIO_BALLOON_PFN_SHIFT: PFNs in the arrays and num_pages/actual count 4 KiB pages. */
export const VIRTIO_BALLOON_PFN_SHIFT = 12;
/** Linux VIRTIO_BALLOON_ARRAY_PFNS_MAX: at most 256 PFNs (1 MiB) per inflate/deflate buffer. */
export const VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256;
/** Linux VIRTIO_BALLOON_OOM_NR_PAGES: the OOM notifier deflates this many pages per OOM. */
export const VIRTIO_BALLOON_OOM_NR_PAGES = 256;
/** Linux fill_balloon: "Sleep for at least 1/5 of a second before retry." */
export const OUT_OF_PUFF_SLEEP_MS = 200;
/** PFNs are __virtio32 in the arrays: a page above 2^32 pages (16 TiB) cannot be named. */
export const VIRTIO_BALLOON_MAX_PFN = 0xffff_ffff;
/** Bytes of one PFN in a buffer. */
export const PFN_BYTES = 4;
/** Bytes of one stats entry: packed {le16 tag, le64 value}. */
export const STAT_ENTRY_BYTES = 10;

/** Feature bits (virtio spec 5.5.3). */
export const VIRTIO_BALLOON_F_MUST_TELL_HOST = 0;
export const VIRTIO_BALLOON_F_STATS_VQ = 1;
export const VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 2;

/** Virtqueue numbers (virtio spec 5.5.2): inflateq, deflateq, statsq. */
export const VIRTQUEUES = ['inflate', 'deflate', 'stats'] as const;
export type VirtqueueName = (typeof VIRTQUEUES)[number];

/** Stats tags (virtio spec 5.5.6.3) and QEMU's names for them (QEMU balloon_stat_names). */
export const VIRTIO_BALLOON_S = {
  SWAP_IN: 0,
  SWAP_OUT: 1,
  MAJFLT: 2,
  MINFLT: 3,
  MEMFREE: 4,
  MEMTOT: 5,
  AVAIL: 6,
  CACHES: 7,
  HTLB_PGALLOC: 8,
  HTLB_PGFAIL: 9,
} as const;
/** QEMU VIRTIO_BALLOON_S_NR as QEMU's guest-stats property lists them, in tag order. */
export const QEMU_STAT_NAMES: readonly string[] = [
  'stat-swap-in',
  'stat-swap-out',
  'stat-major-faults',
  'stat-minor-faults',
  'stat-free-memory',
  'stat-total-memory',
  'stat-available-memory',
  'stat-disk-caches',
  'stat-htlb-pgalloc',
  'stat-htlb-pgfail',
];
/** QEMU reset_stats: an unset statistic is -1 in a uint64 (2^64 - 1 in guest-stats). */
export const STAT_UNSET = 2n ** 64n - 1n;
/** QEMU balloon_stats_set_poll_interval refuses values above UINT32_MAX. */
export const MAX_STATS_POLL_INTERVAL_S = 0xffff_ffff;
