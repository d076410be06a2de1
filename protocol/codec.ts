/**
 * The Dynamic Memory wire codec: DmMessage <-> bytes, for all 15 message types.
 * Layouts: QEMU include/hw/hyperv/dynmem-proto.h (docs/protocol.md explains them). Everything is
 * little-endian, bit-fields are allocated from the least significant bit (GCC on x86).
 * `decode` throws only ProtocolError, whatever the bytes; `encode` throws only ProtocolError, whatever the fields.
 */

import { DM_HEADER_BYTES } from './constants';
import { describeValue, ProtocolError } from './errors';
import {
  encodedLength,
  INFO_BLOB_OFFSET,
  INFO_ENTRY_HEADER_BYTES,
  INFO_TYPE_MAX_PAGE_COUNT,
  RANGE_ARRAY_OFFSET,
  readMessage,
} from './fields';
import {
  DM_MESSAGE_TYPE_IDS,
  versionFromValue,
  versionValue,
  type DmCaps,
  type DmInfoEntry,
  type DmMessage,
  type DmMessageTypeName,
  type PageRange,
} from './messages';
import { wireRangeCount, wireRangeStart } from './range-list';

/** The 8-byte `dm_header`, readable even when the type is unknown. */
export interface DmHeader {
  /** u16 message type id; 0..14 are known. */
  typeId: number;
  /** u16 hdr.size as the sender wrote it (QEMU ignores it on receive; Linux uses it for the hot-add form). */
  size: number;
  /** u32 trans_id. */
  transId: number;
}

/**
 * The fewest payload bytes a message of each type may have, as QEMU hv-balloon.c checks them against
 * the VMBus payload length (QEMU only checks the guest->host types; the others use their struct size).
 * The range-carrying types and DM_INFO_MESSAGE then need more, as their counts say.
 */
export const DM_MIN_LENGTH: Readonly<Record<DmMessageTypeName, number>> = {
  DM_ERROR: 8,
  DM_VERSION_REQUEST: 16,
  DM_VERSION_RESPONSE: 16,
  DM_CAPABILITIES_REPORT: 32,
  DM_CAPABILITIES_RESPONSE: 16,
  DM_STATUS_REPORT: 48,
  DM_BALLOON_REQUEST: 16,
  DM_BALLOON_RESPONSE: 16,
  DM_UNBALLOON_REQUEST: 16,
  DM_UNBALLOON_RESPONSE: 8,
  DM_MEM_HOT_ADD_REQUEST: 16,
  DM_MEM_HOT_ADD_RESPONSE: 16,
  DM_INFO_MESSAGE: 16,
  DM_MEM_HOT_REMOVE_REQUEST: 24,
  DM_MEM_HOT_REMOVE_RESPONSE: 24,
};

const TYPE_NAME_BY_ID: readonly DmMessageTypeName[] = (() => {
  const names: DmMessageTypeName[] = [];
  for (const [name, id] of Object.entries(DM_MESSAGE_TYPE_IDS) as [DmMessageTypeName, number][]) names[id] = name;
  return names;
})();

/** The type name of a wire type id, or undefined for ids the protocol does not define. */
export function messageTypeName(typeId: number): DmMessageTypeName | undefined {
  return TYPE_NAME_BY_ID[typeId];
}

const TWO_POW_32 = 2 ** 32;
/** Linux hv_balloon.c: a hot-add request with hdr.size == 16 is the short form without region. */
const HOT_ADD_SHORT_SIZE = 16;
const HOT_ADD_WITH_REGION_SIZE = 24;

function checkBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `bytes: expected a Uint8Array, got ${describeValue(bytes)}`, 'bytes');
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads the 8-byte header; throws TOO_SHORT below 8 bytes (QEMU drops such packets). */
export function decodeHeader(bytes: Uint8Array): DmHeader {
  checkBytes(bytes);
  if (bytes.length < DM_HEADER_BYTES) {
    throw new ProtocolError('TOO_SHORT', `message has ${bytes.length} bytes, a DM header needs ${DM_HEADER_BYTES}`);
  }
  // Little-endian fields read byte by byte: every packet's header is read (by the device and by the
  // VM's message counts), and a DataView per read costs more than the read.
  return {
    typeId: bytes[0]! | (bytes[1]! << 8),
    size: bytes[2]! | (bytes[3]! << 8),
    transId: (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0,
  };
}

/**
 * Bytes (a VMBus payload, which may carry up to 7 bytes of padding or more) to a message.
 * Lengths are checked against `bytes.length`, never hdr.size, as QEMU does; bytes beyond what the
 * type needs are ignored, as are reserved bits.
 */
export function decode(bytes: Uint8Array): DmMessage {
  const header = decodeHeader(bytes);
  const type = messageTypeName(header.typeId);
  if (type === undefined) {
    throw new ProtocolError('UNKNOWN_TYPE', `unknown message type ${header.typeId} (the protocol defines 0..${TYPE_NAME_BY_ID.length - 1})`);
  }
  const length = bytes.length;
  // `why` is a function so that its text is built only for a message that fails.
  const need = (bytesNeeded: number, why: () => string, code: 'TOO_SHORT' | 'RANGE_COUNT_MISMATCH' = 'TOO_SHORT'): void => {
    if (length < bytesNeeded) throw new ProtocolError(code, `${type}: ${why()}needs ${bytesNeeded} bytes, message has ${length}`);
  };
  need(DM_MIN_LENGTH[type], () => '');
  const view = viewOf(bytes);
  const transId = header.transId;

  // Reads range_count ranges at the type's range offset, after checking they are all there.
  const ranges = (count: number): PageRange[] => {
    const offset = RANGE_ARRAY_OFFSET[type] ?? 0;
    need(offset + 8 * count, () => `range_count ${count} `, 'RANGE_COUNT_MISMATCH');
    const out: PageRange[] = new Array<PageRange>(count);
    for (let i = 0; i < count; i++) out[i] = readRange(view, offset + 8 * i);
    return out;
  };

  switch (type) {
    case 'DM_ERROR':
    case 'DM_UNBALLOON_RESPONSE':
      return { type, transId };
    case 'DM_VERSION_REQUEST':
      return {
        type,
        transId,
        version: versionFromValue(view.getUint32(8, true)),
        isLastAttempt: bit(view.getUint32(12, true), 0),
      };
    case 'DM_VERSION_RESPONSE':
      return { type, transId, isAccepted: bit(view.getUint32(8, true), 0) };
    case 'DM_CAPABILITIES_REPORT':
      return {
        type,
        transId,
        caps: readCaps(view.getUint32(8, true)),
        minPageCount: view.getBigUint64(16, true),
        maxPageNumber: view.getBigUint64(24, true),
      };
    case 'DM_CAPABILITIES_RESPONSE': {
      const word = view.getUint32(8, true);
      return { type, transId, isAccepted: bit(word, 0), hotRemove: bit(word, 1), suppressPressureReports: bit(word, 2) };
    }
    case 'DM_STATUS_REPORT':
      return {
        type,
        transId,
        numAvail: view.getBigUint64(8, true),
        numCommitted: view.getBigUint64(16, true),
        pageFileSize: view.getBigUint64(24, true),
        zeroFree: view.getBigUint64(32, true),
        pageFileWrites: view.getUint32(40, true),
        ioDiff: view.getUint32(44, true),
      };
    case 'DM_BALLOON_REQUEST':
      return { type, transId, numPages: view.getUint32(8, true) };
    case 'DM_BALLOON_RESPONSE': {
      // PROTO: bit 0 more_pages, bits 1-31 range_count, in one u32.
      const word = view.getUint32(12, true);
      return { type, transId, morePages: bit(word, 0), ranges: ranges(word >>> 1) };
    }
    case 'DM_UNBALLOON_REQUEST':
      // PROTO: here range_count is a whole u32 of its own.
      return { type, transId, morePages: bit(view.getUint32(8, true), 0), ranges: ranges(view.getUint32(12, true)) };
    case 'DM_MEM_HOT_ADD_REQUEST': {
      const range = readRange(view, 8);
      if (header.size === HOT_ADD_SHORT_SIZE) return { type, transId, range };
      need(HOT_ADD_WITH_REGION_SIZE, () => `hdr.size ${header.size} (the form with region) `);
      return { type, transId, range, region: readRange(view, 16) };
    }
    case 'DM_MEM_HOT_ADD_RESPONSE':
      return { type, transId, pageCount: view.getUint32(8, true), result: view.getUint32(12, true) };
    case 'DM_INFO_MESSAGE': {
      const infoSize = view.getUint32(12, true);
      need(INFO_BLOB_OFFSET + infoSize, () => `info_size ${infoSize} `);
      return { type, transId, info: readInfo(bytes, view, INFO_BLOB_OFFSET, INFO_BLOB_OFFSET + infoSize) };
    }
    case 'DM_MEM_HOT_REMOVE_REQUEST':
      return {
        type,
        transId,
        virtualNode: view.getUint32(8, true),
        pageCount: view.getUint32(12, true),
        qosFlags: view.getUint32(16, true),
      };
    case 'DM_MEM_HOT_REMOVE_RESPONSE': {
      const result = view.getUint32(8, true);
      const count = view.getUint32(12, true);
      return { type, transId, result, morePages: bit(view.getUint32(16, true), 0), ranges: ranges(count) };
    }
  }
}

/**
 * A message to its canonical bytes: hdr.size is the encoded length, reserved bits are zero.
 * Throws ProtocolError FIELD_OUT_OF_RANGE naming any field that does not fit its wire field, and
 * TOO_LONG above 65535 bytes (hdr.size is a u16).
 */
export function encode(message: DmMessage): Uint8Array {
  const m = readMessage(message, 'value');
  const size = encodedLength(m);
  const bytes = new Uint8Array(size);
  const view = viewOf(bytes);
  view.setUint16(0, DM_MESSAGE_TYPE_IDS[m.type], true);
  view.setUint16(2, size, true);
  view.setUint32(4, m.transId, true);

  const writeRanges = (ranges: readonly PageRange[], offset: number): void => {
    for (let i = 0; i < ranges.length; i++) writeRange(view, offset + 8 * i, ranges[i]!);
  };

  switch (m.type) {
    case 'DM_ERROR':
    case 'DM_UNBALLOON_RESPONSE':
      break;
    case 'DM_VERSION_REQUEST':
      view.setUint32(8, versionValue(m.version), true);
      view.setUint32(12, flag(m.isLastAttempt, 0), true);
      break;
    case 'DM_VERSION_RESPONSE':
      view.setUint32(8, flag(m.isAccepted, 0), true);
      break;
    case 'DM_CAPABILITIES_REPORT':
      view.setUint32(8, capsWord(m.caps), true);
      view.setBigUint64(16, m.minPageCount, true);
      view.setBigUint64(24, m.maxPageNumber, true);
      break;
    case 'DM_CAPABILITIES_RESPONSE':
      view.setUint32(8, flag(m.isAccepted, 0) | flag(m.hotRemove, 1) | flag(m.suppressPressureReports, 2), true);
      break;
    case 'DM_STATUS_REPORT':
      view.setBigUint64(8, m.numAvail, true);
      view.setBigUint64(16, m.numCommitted, true);
      view.setBigUint64(24, m.pageFileSize, true);
      view.setBigUint64(32, m.zeroFree, true);
      view.setUint32(40, m.pageFileWrites, true);
      view.setUint32(44, m.ioDiff, true);
      break;
    case 'DM_BALLOON_REQUEST':
      view.setUint32(8, m.numPages, true);
      break;
    case 'DM_BALLOON_RESPONSE':
      view.setUint32(12, (m.ranges.length * 2 + flag(m.morePages, 0)) >>> 0, true);
      writeRanges(m.ranges, 16);
      break;
    case 'DM_UNBALLOON_REQUEST':
      view.setUint32(8, flag(m.morePages, 0), true);
      view.setUint32(12, m.ranges.length, true);
      writeRanges(m.ranges, 16);
      break;
    case 'DM_MEM_HOT_ADD_REQUEST':
      writeRange(view, 8, m.range);
      if (m.region !== undefined) writeRange(view, 16, m.region);
      break;
    case 'DM_MEM_HOT_ADD_RESPONSE':
      view.setUint32(8, m.pageCount, true);
      view.setUint32(12, m.result, true);
      break;
    case 'DM_INFO_MESSAGE':
      view.setUint32(12, size - INFO_BLOB_OFFSET, true);
      writeInfo(bytes, view, INFO_BLOB_OFFSET, m.info);
      break;
    case 'DM_MEM_HOT_REMOVE_REQUEST':
      view.setUint32(8, m.virtualNode, true);
      view.setUint32(12, m.pageCount, true);
      view.setUint32(16, m.qosFlags, true);
      break;
    case 'DM_MEM_HOT_REMOVE_RESPONSE':
      view.setUint32(8, m.result, true);
      view.setUint32(12, m.ranges.length, true);
      view.setUint32(16, flag(m.morePages, 0), true);
      writeRanges(m.ranges, 24);
      break;
  }
  return bytes;
}

function bit(word: number, index: number): boolean {
  return ((word >>> index) & 1) === 1;
}

function flag(value: boolean, index: number): number {
  return value ? 1 << index : 0;
}

// PROTO union dm_caps: bit 0 balloon, bit 1 hot_add, bits 2-5 hot_add_alignment, bit 6 hot_remove.
function readCaps(word: number): DmCaps {
  return { balloon: bit(word, 0), hotAdd: bit(word, 1), hotAddAlignment: (word >>> 2) & 0xf, hotRemove: bit(word, 6) };
}

function capsWord(caps: DmCaps): number {
  return flag(caps.balloon, 0) | flag(caps.hotAdd, 1) | (caps.hotAddAlignment << 2) | flag(caps.hotRemove, 6);
}

// PROTO union dm_mem_page_range (range-list.ts reads its two fields; the device reads them in place).
function readRange(view: DataView, offset: number): PageRange {
  return { startPage: wireRangeStart(view, offset), pageCount: wireRangeCount(view, offset) };
}

function writeRange(view: DataView, offset: number, range: PageRange): void {
  view.setUint32(offset, range.startPage % TWO_POW_32, true);
  view.setUint32(offset + 4, Math.floor(range.startPage / TWO_POW_32) + range.pageCount * 256, true);
}

// PROTO struct dm_info_header { u32 type; u32 data_size; u8 data[]; }, entries back to back.
function readInfo(bytes: Uint8Array, view: DataView, start: number, end: number): DmInfoEntry[] {
  const entries: DmInfoEntry[] = [];
  let offset = start;
  while (offset < end) {
    const left = end - offset;
    const index = entries.length;
    if (left < INFO_ENTRY_HEADER_BYTES) {
      throw new ProtocolError(
        'INFO_SIZE_MISMATCH',
        `DM_INFO_MESSAGE: info[${index}] needs an ${INFO_ENTRY_HEADER_BYTES}-byte header, info_size leaves ${left}`,
        `info[${index}]`,
      );
    }
    const infoType = view.getUint32(offset, true);
    const dataSize = view.getUint32(offset + 4, true);
    const dataStart = offset + INFO_ENTRY_HEADER_BYTES;
    if (dataSize > end - dataStart) {
      throw new ProtocolError(
        'INFO_SIZE_MISMATCH',
        `DM_INFO_MESSAGE: info[${index}] data_size ${dataSize} exceeds the ${end - dataStart} bytes info_size leaves`,
        `info[${index}].dataSize`,
      );
    }
    // Linux hv_balloon.c: a max-page-count entry counts only when its data_size is 8.
    if (infoType === INFO_TYPE_MAX_PAGE_COUNT && dataSize === 8) {
      entries.push({ type: 'MAX_PAGE_COUNT', maxPageCount: view.getBigUint64(dataStart, true) });
    } else {
      entries.push({ type: 'UNKNOWN', infoType, data: new Uint8Array(bytes.subarray(dataStart, dataStart + dataSize)) });
    }
    offset = dataStart + dataSize;
  }
  return entries;
}

function writeInfo(bytes: Uint8Array, view: DataView, start: number, info: readonly DmInfoEntry[]): void {
  let offset = start;
  for (const entry of info) {
    const dataStart = offset + INFO_ENTRY_HEADER_BYTES;
    if (entry.type === 'MAX_PAGE_COUNT') {
      view.setUint32(offset, INFO_TYPE_MAX_PAGE_COUNT, true);
      view.setUint32(offset + 4, 8, true);
      view.setBigUint64(dataStart, entry.maxPageCount, true);
      offset = dataStart + 8;
    } else {
      view.setUint32(offset, entry.infoType, true);
      view.setUint32(offset + 4, entry.data.length, true);
      bytes.set(entry.data, dataStart);
      offset = dataStart + entry.data.length;
    }
  }
}
