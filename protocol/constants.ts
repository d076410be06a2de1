/**
 * Named constants of the Dynamic Memory protocol and of QEMU's hv-balloon device.
 * Each carries its upstream source: QEMU `hw/hyperv/hv-balloon.c` (HVB), `include/hw/hyperv/dynmem-proto.h`
 * (PROTO), Linux `drivers/hv/hv_balloon.c` (LNX), `hw/hyperv/vmbus.c` (VMBUS), `monitor/monitor.c` (MON).
 */

/** PROTO/HVB: every DM count is in 4 KiB pages (HV_BALLOON_PAGE_SIZE). */
export const PAGE_SIZE = 4096;
/** HVB HV_BALLOON_PFN_SHIFT: bytes >> 12 = pages. */
export const PAGE_SHIFT = 12;

/** HVB HV_BALLOON_HR_CHUNK_PAGES: most pages asked in one DM_BALLOON_REQUEST (Windows ignores larger ones). */
export const BALLOON_CHUNK_PAGES = 585_728;
/** HVB HV_BALLOON_HA_CHUNK_PAGES: most pages per hot-add request (unless the alignment is larger) and per unballoon range. */
export const HOT_ADD_CHUNK_PAGES = 524_288;
/** HVB HV_BALLOON_HA_CHUNK_SIZE: the same 2 GiB in bytes. */
export const HOT_ADD_CHUNK_BYTES = 2 * 1024 ** 3;
/** HVB HV_BALLOON_HA_MEMSLOT_SIZE_ALIGN: memslot sizes are multiples of 128 MiB. */
export const MEMSLOT_SIZE_ALIGN_BYTES = 128 * 1024 ** 2;
/** HVB HV_BALLOON_POST_INIT_WAIT: virtual-clock quiet period after the capabilities exchange. */
export const POST_INIT_WAIT_MS = 50_000;
/** HVB/MD: the memdev window is placed at a multiple of 32 GiB (the largest alignment a guest can ask: 2^15 MiB). */
export const DEVICE_MEMORY_ALIGN_BYTES = 32 * 1024 ** 3;
/** MD MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT: memslots for all memory devices together. */
export const MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT = 256;
/** MD MEMORY_DEVICES_SAFE_MAX_MEMSLOTS: below this many hypervisor memslots a device gets one. */
export const MEMORY_DEVICES_SAFE_MAX_MEMSLOTS = 509;
/** MON: HV_BALLOON_STATUS_REPORT events are throttled to one per this many ms. */
export const STATUS_EVENT_RATE_LIMIT_MS = 1000;

/** LNX: a guest DM message buffer is 4096 bytes, so a balloon response holds (4096 - 16) / 8 ranges. */
export const GUEST_MESSAGE_MAX_BYTES = 4096;
/** LNX: (4096 - 16) / 8 = 510 page ranges per balloon response. */
export const MAX_RANGES_PER_MESSAGE = 510;
/** LNX dm_ring_size: each ring's data area is 16 KiB (plus a 4 KiB header page). */
export const DEFAULT_RING_DATA_BYTES = 16_384;

/** PROTO union dm_mem_page_range: start_page is 40 bits (the AMD64 PFN limit). */
export const MAX_START_PAGE = 2 ** 40 - 1;
/** PROTO union dm_mem_page_range: page_cnt is 24 bits. */
export const MAX_PAGE_COUNT = 2 ** 24 - 1;
/** PROTO struct dm_header: size is a u16. */
export const MAX_MESSAGE_BYTES = 65_535;
/** PROTO struct dm_header: 8 bytes (type u16, size u16, trans_id u32). */
export const DM_HEADER_BYTES = 8;

/** HVB HV_BALLOON_GUID: the DM device class GUID on VMBus. */
export const HV_BALLOON_GUID = '525074DC-8985-46e2-8057-A307DC18A502';

/** PROTO DYNMEM_PROTOCOL_VERSION_1 = WIN7 = 0.3. */
export const DYNMEM_PROTOCOL_VERSION_WIN7 = 0x0000_0003;
/** PROTO DYNMEM_PROTOCOL_VERSION_2 = WIN8 = 1.0. */
export const DYNMEM_PROTOCOL_VERSION_WIN8 = 0x0001_0000;
/** PROTO DYNMEM_PROTOCOL_VERSION_3 = WIN10 = 2.0 (current). */
export const DYNMEM_PROTOCOL_VERSION_WIN10 = 0x0002_0000;

/** VMBUSP VMBUS_PACKET_DATA_INBAND: the packet type every DM message travels in. */
export const VMBUS_PACKET_DATA_INBAND = 0x6;
/** VMBUSP VMBUS_PACKET_COMP: accepted by QEMU's recv_peek. */
export const VMBUS_PACKET_COMP = 0xb;
/** VMBUSP VMBUS_PACKET_DATA_USING_GPA_DIRECT: accepted by QEMU's recv_peek. */
export const VMBUS_PACKET_DATA_USING_GPA_DIRECT = 0x9;
/** VMBUSP: the in-band packet descriptor is 16 bytes. */
export const VMBUS_PACKET_HEADER_BYTES = 16;
/** RB hv_ringbuffer_write / VMBUS: every packet is followed by an 8-byte trailer (previous write index). */
export const VMBUS_PACKET_TRAILER_BYTES = 8;

/** LNX pressure_report_delay: the first 45 post_status calls are dropped. */
export const PRESSURE_REPORT_DELAY_CALLS = 45;
/** LNX dm_thread_func: the status thread wakes once a second. */
export const STATUS_PERIOD_MS = 1000;
/** LNX balloon_connect_vsp: one 5 s wait covers version negotiation, another the capabilities exchange. */
export const GUEST_HANDSHAKE_TIMEOUT_MS = 5000;
/** LNX balloon_up: a full ring is retried every 20 ms with a fresh trans_id. */
export const GUEST_RING_FULL_RETRY_MS = 20;
/** LNX hv_mem_hot_add: wait up to 5 s for each added block to be onlined. */
export const GUEST_ONLINE_WAIT_MS = 5000;
