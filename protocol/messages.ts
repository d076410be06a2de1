/**
 * The Dynamic Memory messages as plain objects: one discriminated union over `type`.
 * Layouts: QEMU include/hw/hyperv/dynmem-proto.h; docs/protocol.md explains each field.
 * 64-bit fields that may exceed 2^53 are `bigint`; everything that fits 32 bits is `number`.
 */

/** The 15 DM message types, by their wire id (PROTO enum dm_message_type). */
export const DM_MESSAGE_TYPE_IDS = {
  DM_ERROR: 0,
  DM_VERSION_REQUEST: 1,
  DM_VERSION_RESPONSE: 2,
  DM_CAPABILITIES_REPORT: 3,
  DM_CAPABILITIES_RESPONSE: 4,
  DM_STATUS_REPORT: 5,
  DM_BALLOON_REQUEST: 6,
  DM_BALLOON_RESPONSE: 7,
  DM_UNBALLOON_REQUEST: 8,
  DM_UNBALLOON_RESPONSE: 9,
  DM_MEM_HOT_ADD_REQUEST: 10,
  DM_MEM_HOT_ADD_RESPONSE: 11,
  DM_INFO_MESSAGE: 12,
  DM_MEM_HOT_REMOVE_REQUEST: 13,
  DM_MEM_HOT_REMOVE_RESPONSE: 14,
} as const;

export type DmMessageTypeName = keyof typeof DM_MESSAGE_TYPE_IDS;
export const DM_MESSAGE_TYPE_NAMES: readonly DmMessageTypeName[] = Object.keys(DM_MESSAGE_TYPE_IDS) as DmMessageTypeName[];

/** One `union dm_mem_page_range`: 40-bit start PFN, 24-bit page count. */
export interface PageRange {
  startPage: number;
  pageCount: number;
}

/** `union dm_version`: major in the high 16 bits, minor in the low 16 bits. */
export interface DmVersion {
  major: number;
  minor: number;
}

/** `union dm_caps`: bits 0, 1, 2-5 and 6; bits 7-63 are reserved and encoded as zero. */
export interface DmCaps {
  balloon: boolean;
  hotAdd: boolean;
  /** n means a hot-add alignment of 2^n MiB (0..15). */
  hotAddAlignment: number;
  hotRemove: boolean;
}

interface Header {
  /** The DM header's trans_id (u32). */
  transId: number;
}

export interface DmError extends Header {
  type: 'DM_ERROR';
}
export interface DmVersionRequest extends Header {
  type: 'DM_VERSION_REQUEST';
  version: DmVersion;
  isLastAttempt: boolean;
}
export interface DmVersionResponse extends Header {
  type: 'DM_VERSION_RESPONSE';
  isAccepted: boolean;
}
export interface DmCapabilitiesReport extends Header {
  type: 'DM_CAPABILITIES_REPORT';
  caps: DmCaps;
  minPageCount: bigint;
  maxPageNumber: bigint;
}
export interface DmCapabilitiesResponse extends Header {
  type: 'DM_CAPABILITIES_RESPONSE';
  isAccepted: boolean;
  hotRemove: boolean;
  suppressPressureReports: boolean;
}
export interface DmStatusReport extends Header {
  type: 'DM_STATUS_REPORT';
  numAvail: bigint;
  numCommitted: bigint;
  pageFileSize: bigint;
  zeroFree: bigint;
  pageFileWrites: number;
  ioDiff: number;
}
export interface DmBalloonRequest extends Header {
  type: 'DM_BALLOON_REQUEST';
  numPages: number;
}
export interface DmBalloonResponse extends Header {
  type: 'DM_BALLOON_RESPONSE';
  morePages: boolean;
  ranges: PageRange[];
}
export interface DmUnballoonRequest extends Header {
  type: 'DM_UNBALLOON_REQUEST';
  morePages: boolean;
  ranges: PageRange[];
}
export interface DmUnballoonResponse extends Header {
  type: 'DM_UNBALLOON_RESPONSE';
}
export interface DmHotAddRequest extends Header {
  type: 'DM_MEM_HOT_ADD_REQUEST';
  range: PageRange;
  /** Present in the 24-byte "with region" form (the one QEMU sends); absent in the 16-byte form. */
  region?: PageRange;
}
export interface DmHotAddResponse extends Header {
  type: 'DM_MEM_HOT_ADD_RESPONSE';
  pageCount: number;
  /** 1 = success, 0 = failure. */
  result: number;
}
export type DmInfoEntry =
  | { type: 'MAX_PAGE_COUNT'; maxPageCount: bigint }
  | { type: 'UNKNOWN'; infoType: number; data: Uint8Array };
export interface DmInfoMessage extends Header {
  type: 'DM_INFO_MESSAGE';
  info: DmInfoEntry[];
}
export interface DmHotRemoveRequest extends Header {
  type: 'DM_MEM_HOT_REMOVE_REQUEST';
  virtualNode: number;
  pageCount: number;
  qosFlags: number;
}
export interface DmHotRemoveResponse extends Header {
  type: 'DM_MEM_HOT_REMOVE_RESPONSE';
  result: number;
  morePages: boolean;
  ranges: PageRange[];
}

export type DmMessage =
  | DmError
  | DmVersionRequest
  | DmVersionResponse
  | DmCapabilitiesReport
  | DmCapabilitiesResponse
  | DmStatusReport
  | DmBalloonRequest
  | DmBalloonResponse
  | DmUnballoonRequest
  | DmUnballoonResponse
  | DmHotAddRequest
  | DmHotAddResponse
  | DmInfoMessage
  | DmHotRemoveRequest
  | DmHotRemoveResponse;

/** The member of the union with a given `type`. */
export type DmMessageOf<T extends DmMessageTypeName> = Extract<DmMessage, { type: T }>;

/** u32 version value from major/minor: (major << 16) | minor. */
export function versionValue(v: DmVersion): number {
  return ((v.major & 0xffff) * 0x10000 + (v.minor & 0xffff)) >>> 0;
}

/** major/minor from a u32 version value. */
export function versionFromValue(value: number): DmVersion {
  return { major: (value >>> 16) & 0xffff, minor: value & 0xffff };
}
