/** fast-check arbitraries for valid DM messages of every type (shared by the protocol specs). */

import fc from 'fast-check';
import type { DmInfoEntry, DmMessage, DmMessageTypeName, PageRange } from '../../protocol/messages';

/** An unsigned integer of `bits` bits (fc.integer stops at 2^31). */
export function uint(bits: number): fc.Arbitrary<number> {
  return fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map(Number);
}

/** fc.record, but with ordinary objects (fc.record's have a null prototype, which toStrictEqual tells apart). */
const record: typeof fc.record = ((model: never, constraints?: never) =>
  fc.record(model, constraints).map((value) => ({ ...(value as object) }))) as typeof fc.record;

export const u32 = uint(32);
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

export const pageRange: fc.Arbitrary<PageRange> = record({ startPage: uint(40), pageCount: uint(24) });
const pageRanges = fc.array(pageRange, { maxLength: 64 });

export const infoEntry: fc.Arbitrary<DmInfoEntry> = fc.oneof(
  record({ type: fc.constant('MAX_PAGE_COUNT' as const), maxPageCount: u64 }),
  record({ type: fc.constant('UNKNOWN' as const), infoType: u32, data: fc.uint8Array({ maxLength: 40 }) })
    // Type 0 with 8 data bytes is the MAX_PAGE_COUNT entry; the UNKNOWN form of it is not encodable.
    .filter((entry) => !(entry.infoType === 0 && entry.data.length === 8)),
);

/** One arbitrary per message type, so each type gets its own property run. */
export const messageArbitraries: { [T in DmMessageTypeName]: fc.Arbitrary<Extract<DmMessage, { type: T }>> } = {
  DM_ERROR: record({ type: fc.constant('DM_ERROR' as const), transId: u32 }),
  DM_VERSION_REQUEST: record({
    type: fc.constant('DM_VERSION_REQUEST' as const),
    transId: u32,
    version: record({ major: uint(16), minor: uint(16) }),
    isLastAttempt: fc.boolean(),
  }),
  DM_VERSION_RESPONSE: record({ type: fc.constant('DM_VERSION_RESPONSE' as const), transId: u32, isAccepted: fc.boolean() }),
  DM_CAPABILITIES_REPORT: record({
    type: fc.constant('DM_CAPABILITIES_REPORT' as const),
    transId: u32,
    caps: record({ balloon: fc.boolean(), hotAdd: fc.boolean(), hotAddAlignment: uint(4), hotRemove: fc.boolean() }),
    minPageCount: u64,
    maxPageNumber: u64,
  }),
  DM_CAPABILITIES_RESPONSE: record({
    type: fc.constant('DM_CAPABILITIES_RESPONSE' as const),
    transId: u32,
    isAccepted: fc.boolean(),
    hotRemove: fc.boolean(),
    suppressPressureReports: fc.boolean(),
  }),
  DM_STATUS_REPORT: record({
    type: fc.constant('DM_STATUS_REPORT' as const),
    transId: u32,
    numAvail: u64,
    numCommitted: u64,
    pageFileSize: u64,
    zeroFree: u64,
    pageFileWrites: u32,
    ioDiff: u32,
  }),
  DM_BALLOON_REQUEST: record({ type: fc.constant('DM_BALLOON_REQUEST' as const), transId: u32, numPages: u32 }),
  DM_BALLOON_RESPONSE: record({
    type: fc.constant('DM_BALLOON_RESPONSE' as const),
    transId: u32,
    morePages: fc.boolean(),
    ranges: pageRanges,
  }),
  DM_UNBALLOON_REQUEST: record({
    type: fc.constant('DM_UNBALLOON_REQUEST' as const),
    transId: u32,
    morePages: fc.boolean(),
    ranges: pageRanges,
  }),
  DM_UNBALLOON_RESPONSE: record({ type: fc.constant('DM_UNBALLOON_RESPONSE' as const), transId: u32 }),
  DM_MEM_HOT_ADD_REQUEST: record(
    { type: fc.constant('DM_MEM_HOT_ADD_REQUEST' as const), transId: u32, range: pageRange, region: pageRange },
    { requiredKeys: ['type', 'transId', 'range'] },
  ),
  DM_MEM_HOT_ADD_RESPONSE: record({
    type: fc.constant('DM_MEM_HOT_ADD_RESPONSE' as const),
    transId: u32,
    pageCount: u32,
    result: u32,
  }),
  DM_INFO_MESSAGE: record({
    type: fc.constant('DM_INFO_MESSAGE' as const),
    transId: u32,
    info: fc.array(infoEntry, { maxLength: 6 }),
  }),
  DM_MEM_HOT_REMOVE_REQUEST: record({
    type: fc.constant('DM_MEM_HOT_REMOVE_REQUEST' as const),
    transId: u32,
    virtualNode: u32,
    pageCount: u32,
    qosFlags: u32,
  }),
  DM_MEM_HOT_REMOVE_RESPONSE: record({
    type: fc.constant('DM_MEM_HOT_REMOVE_RESPONSE' as const),
    transId: u32,
    result: u32,
    morePages: fc.boolean(),
    ranges: pageRanges,
  }),
};

export const anyMessage: fc.Arbitrary<DmMessage> = fc.oneof(
  ...(Object.values(messageArbitraries) as fc.Arbitrary<DmMessage>[]),
);
