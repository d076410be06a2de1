/**
 * The field schema of every DM message, and one validating reader built on it.
 * The reader serves two callers: `encode` (checks a typed message before writing it) and
 * `messageFromJson` (turns parsed JSON into a message). Both must reject exactly the values that
 * do not fit the wire, with the same message naming the field, so they share this code.
 * Internal to protocol/: not re-exported from index.ts.
 */

import {
  DM_HEADER_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_PAGE_COUNT,
  MAX_START_PAGE,
} from './constants';
import { describeValue, ProtocolError } from './errors';
import { hexToBytes } from './hex';
import {
  DM_MESSAGE_TYPE_IDS,
  type DmCaps,
  type DmInfoEntry,
  type DmMessage,
  type DmMessageOf,
  type DmMessageTypeName,
  type DmVersion,
  type PageRange,
} from './messages';

/** How a body field is represented on the wire and in JSON. */
export type FieldKind =
  | 'bool'
  | 'u32'
  | 'u64'
  | 'version'
  | 'caps'
  | 'range'
  | 'optionalRange'
  | 'ranges'
  | 'info';

type BodyKey<T extends DmMessageTypeName> = Exclude<keyof DmMessageOf<T>, 'type' | 'transId'> & string;

export interface FieldSpec<T extends DmMessageTypeName> {
  readonly name: BodyKey<T>;
  readonly kind: FieldKind;
}

/** The body fields of each message type, in wire order (after type and transId). */
export const MESSAGE_FIELDS: { readonly [T in DmMessageTypeName]: readonly FieldSpec<T>[] } = {
  DM_ERROR: [],
  DM_VERSION_REQUEST: [
    { name: 'version', kind: 'version' },
    { name: 'isLastAttempt', kind: 'bool' },
  ],
  DM_VERSION_RESPONSE: [{ name: 'isAccepted', kind: 'bool' }],
  DM_CAPABILITIES_REPORT: [
    { name: 'caps', kind: 'caps' },
    { name: 'minPageCount', kind: 'u64' },
    { name: 'maxPageNumber', kind: 'u64' },
  ],
  DM_CAPABILITIES_RESPONSE: [
    { name: 'isAccepted', kind: 'bool' },
    { name: 'hotRemove', kind: 'bool' },
    { name: 'suppressPressureReports', kind: 'bool' },
  ],
  DM_STATUS_REPORT: [
    { name: 'numAvail', kind: 'u64' },
    { name: 'numCommitted', kind: 'u64' },
    { name: 'pageFileSize', kind: 'u64' },
    { name: 'zeroFree', kind: 'u64' },
    { name: 'pageFileWrites', kind: 'u32' },
    { name: 'ioDiff', kind: 'u32' },
  ],
  DM_BALLOON_REQUEST: [{ name: 'numPages', kind: 'u32' }],
  DM_BALLOON_RESPONSE: [
    { name: 'morePages', kind: 'bool' },
    { name: 'ranges', kind: 'ranges' },
  ],
  DM_UNBALLOON_REQUEST: [
    { name: 'morePages', kind: 'bool' },
    { name: 'ranges', kind: 'ranges' },
  ],
  DM_UNBALLOON_RESPONSE: [],
  DM_MEM_HOT_ADD_REQUEST: [
    { name: 'range', kind: 'range' },
    { name: 'region', kind: 'optionalRange' },
  ],
  DM_MEM_HOT_ADD_RESPONSE: [
    { name: 'pageCount', kind: 'u32' },
    { name: 'result', kind: 'u32' },
  ],
  DM_INFO_MESSAGE: [{ name: 'info', kind: 'info' }],
  DM_MEM_HOT_REMOVE_REQUEST: [
    { name: 'virtualNode', kind: 'u32' },
    { name: 'pageCount', kind: 'u32' },
    { name: 'qosFlags', kind: 'u32' },
  ],
  DM_MEM_HOT_REMOVE_RESPONSE: [
    { name: 'result', kind: 'u32' },
    { name: 'morePages', kind: 'bool' },
    { name: 'ranges', kind: 'ranges' },
  ],
};

/** The body fields of one message type, by plain name (for code that walks messages generically). */
export function fieldsOf(type: DmMessageTypeName): readonly { readonly name: string; readonly kind: FieldKind }[] {
  return MESSAGE_FIELDS[type];
}

/** Bytes before the first page range, for the types that carry a range array. */
export const RANGE_ARRAY_OFFSET: Partial<Record<DmMessageTypeName, number>> = {
  DM_BALLOON_RESPONSE: 16,
  DM_UNBALLOON_REQUEST: 16,
  DM_MEM_HOT_REMOVE_RESPONSE: 24,
};

/** PROTO: a DM_INFO_MESSAGE's info blob starts at byte 16; each entry has an 8-byte header. */
export const INFO_BLOB_OFFSET = 16;
export const INFO_ENTRY_HEADER_BYTES = 8;
/** PROTO INFO_TYPE_MAX_PAGE_CNT. */
export const INFO_TYPE_MAX_PAGE_COUNT = 0;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffff_ffff;
export const U64_MAX = (1n << 64n) - 1n;
/** PROTO dm_caps: hot_add_alignment is 4 bits. */
export const MAX_HOT_ADD_ALIGNMENT = 15;

export function isMessageTypeName(value: unknown): value is DmMessageTypeName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DM_MESSAGE_TYPE_IDS, value);
}

/**
 * `value` mode checks a typed message (u64 fields are bigint, data is Uint8Array, extra keys ignored);
 * `json` mode reads parsed JSON (u64 fields are decimal strings or safe integers, data is hex,
 * extra keys are rejected because they are usually typos).
 */
export type ReadMode = 'value' | 'json';

/**
 * Validates `value` as a message and returns a canonical copy (in `value` mode a range array is
 * checked in place and kept, not copied: encode writes it right away); throws ProtocolError naming
 * the field.
 */
export function readMessage(value: unknown, mode: ReadMode): DmMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `message: expected an object, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (!isMessageTypeName(type)) {
    throw new ProtocolError(
      'UNKNOWN_TYPE',
      `type: expected one of ${Object.keys(DM_MESSAGE_TYPE_IDS).join(', ')}, got ${describeValue(type)}`,
      'type',
    );
  }
  const reader = new FieldReader(mode, type);
  const fields = fieldsOf(type);
  if (mode === 'json') reader.checkKeys(record, '', ['type', 'transId', ...fields.map((f) => f.name)]);
  const out: Record<string, unknown> = { type, transId: reader.uint(record.transId, 'transId', U32_MAX, 'u32') };
  for (const field of fields) {
    const read = reader.field(field.kind, record[field.name], field.name);
    if (read !== undefined) out[field.name] = read;
  }
  const message = out as unknown as DmMessage;
  const length = encodedLength(message);
  if (length > MAX_MESSAGE_BYTES) {
    throw new ProtocolError('TOO_LONG', `${type}: needs ${length} bytes, more than a DM message can hold (${MAX_MESSAGE_BYTES}, hdr.size is a u16)`);
  }
  return message;
}

/** The number of bytes `encode` writes for a (valid) message; hdr.size carries it. */
export function encodedLength(message: DmMessage): number {
  switch (message.type) {
    case 'DM_ERROR':
    case 'DM_UNBALLOON_RESPONSE':
      return DM_HEADER_BYTES;
    case 'DM_VERSION_REQUEST':
    case 'DM_VERSION_RESPONSE':
    case 'DM_CAPABILITIES_RESPONSE':
    case 'DM_BALLOON_REQUEST':
    case 'DM_MEM_HOT_ADD_RESPONSE':
      return 16;
    case 'DM_MEM_HOT_ADD_REQUEST':
      return message.region === undefined ? 16 : 24;
    case 'DM_MEM_HOT_REMOVE_REQUEST':
      return 24;
    case 'DM_CAPABILITIES_REPORT':
      return 32;
    case 'DM_STATUS_REPORT':
      return 48;
    case 'DM_BALLOON_RESPONSE':
    case 'DM_UNBALLOON_REQUEST':
    case 'DM_MEM_HOT_REMOVE_RESPONSE':
      return (RANGE_ARRAY_OFFSET[message.type] ?? 0) + 8 * message.ranges.length;
    case 'DM_INFO_MESSAGE':
      return INFO_BLOB_OFFSET + infoBlobLength(message.info);
  }
}

export function infoBlobLength(info: readonly DmInfoEntry[]): number {
  let total = 0;
  for (const entry of info) total += INFO_ENTRY_HEADER_BYTES + (entry.type === 'MAX_PAGE_COUNT' ? 8 : entry.data.length);
  return total;
}

/** Whether `value` is a typed-mode page range whose fields fit the wire (FieldReader.range's checks, without building anything). */
function fitsWireRange(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const { startPage, pageCount } = value as Record<string, unknown>;
  if (typeof startPage !== 'number' || !Number.isInteger(startPage) || startPage < 0 || startPage > MAX_START_PAGE) return false;
  if (typeof pageCount !== 'number' || !Number.isInteger(pageCount) || pageCount < 0 || pageCount > MAX_PAGE_COUNT) return false;
  return true;
}

const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;
const DECIMAL_PATTERN = /^[0-9]+$/;

class FieldReader {
  constructor(
    private readonly mode: ReadMode,
    private readonly typeName: DmMessageTypeName,
  ) {}

  field(kind: FieldKind, value: unknown, path: string): unknown {
    switch (kind) {
      case 'bool':
        return this.bool(value, path);
      case 'u32':
        return this.uint(value, path, U32_MAX, 'u32');
      case 'u64':
        return this.u64(value, path);
      case 'version':
        return this.version(value, path);
      case 'caps':
        return this.caps(value, path);
      case 'range':
        return this.range(value, path);
      case 'optionalRange':
        return value === undefined ? undefined : this.range(value, path);
      case 'ranges':
        return this.ranges(value, path);
      case 'info':
        return this.info(value, path);
    }
  }

  fail(path: string, expected: string, got: unknown): never {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `${this.typeName} ${path}: expected ${expected}, got ${describeValue(got)}`, path);
  }

  bool(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'true or false', value);
    return value;
  }

  uint(value: unknown, path: string, max: number, what: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      this.fail(path, `an integer 0..${max} (${what})`, value);
    }
    return value;
  }

  u64(value: unknown, path: string): bigint {
    const expected = this.mode === 'json' ? 'an integer 0..2^64-1 (u64, a decimal string above 2^53)' : 'a bigint 0..2^64-1 (u64)';
    let result: bigint | undefined;
    if (typeof value === 'bigint') result = value;
    else if (this.mode === 'json' && typeof value === 'number' && Number.isSafeInteger(value)) result = BigInt(value);
    else if (this.mode === 'json' && typeof value === 'string' && DECIMAL_PATTERN.test(value)) result = BigInt(value);
    if (result === undefined || result < 0n || result > U64_MAX) this.fail(path, expected, value);
    return result;
  }

  object(value: unknown, path: string, keys: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      this.fail(path, `an object with ${keys.join(', ')}`, value);
    }
    const record = value as Record<string, unknown>;
    this.checkKeys(record, path, keys);
    return record;
  }

  checkKeys(record: Record<string, unknown>, path: string, keys: readonly string[]): void {
    if (this.mode !== 'json') return;
    for (const key of Object.keys(record)) {
      if (!keys.includes(key)) {
        const where = path === '' ? key : `${path}.${key}`;
        throw new ProtocolError(
          'UNKNOWN_FIELD',
          `${this.typeName} ${where}: unknown field (${path === '' ? this.typeName : path} has ${keys.join(', ')})`,
          where,
        );
      }
    }
  }

  version(value: unknown, path: string): DmVersion {
    const v = this.object(value, path, ['major', 'minor']);
    return {
      major: this.uint(v.major, `${path}.major`, U16_MAX, 'u16'),
      minor: this.uint(v.minor, `${path}.minor`, U16_MAX, 'u16'),
    };
  }

  caps(value: unknown, path: string): DmCaps {
    const c = this.object(value, path, ['balloon', 'hotAdd', 'hotAddAlignment', 'hotRemove']);
    return {
      balloon: this.bool(c.balloon, `${path}.balloon`),
      hotAdd: this.bool(c.hotAdd, `${path}.hotAdd`),
      hotAddAlignment: this.uint(c.hotAddAlignment, `${path}.hotAddAlignment`, MAX_HOT_ADD_ALIGNMENT, '4 bits: 2^n MiB'),
      hotRemove: this.bool(c.hotRemove, `${path}.hotRemove`),
    };
  }

  range(value: unknown, path: string): PageRange {
    const r = this.object(value, path, ['startPage', 'pageCount']);
    return {
      startPage: this.uint(r.startPage, `${path}.startPage`, MAX_START_PAGE, '40 bits'),
      pageCount: this.uint(r.pageCount, `${path}.pageCount`, MAX_PAGE_COUNT, '24 bits'),
    };
  }

  ranges(value: unknown, path: string): PageRange[] {
    if (!Array.isArray(value)) this.fail(path, 'an array of page ranges', value);
    // Size check first: a huge array must fail fast, not be walked.
    const offset = RANGE_ARRAY_OFFSET[this.typeName] ?? 0;
    const maxRanges = Math.floor((MAX_MESSAGE_BYTES - offset) / 8);
    if (value.length > maxRanges) {
      throw new ProtocolError(
        'TOO_LONG',
        `${this.typeName} ${path}: ${value.length} ranges need ${offset + 8 * value.length} bytes; a DM message holds at most ${maxRanges} (${MAX_MESSAGE_BYTES} bytes)`,
        path,
      );
    }
    if (this.mode === 'value') {
      // Hot path (a balloon response carries up to 8,189 ranges): check each range inline, name
      // its path only for one that fails, through the general reader (same error text), and copy
      // nothing: encode writes the checked array at once.
      for (let i = 0; i < value.length; i++) {
        const range: unknown = value[i];
        if (!fitsWireRange(range)) this.range(range, `${path}[${i}]`);
      }
      return value as PageRange[];
    }
    const out = new Array<PageRange>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = this.range(value[i], `${path}[${i}]`);
    return out;
  }

  info(value: unknown, path: string): DmInfoEntry[] {
    if (!Array.isArray(value)) this.fail(path, 'an array of info entries', value);
    const maxEntries = Math.floor((MAX_MESSAGE_BYTES - INFO_BLOB_OFFSET) / INFO_ENTRY_HEADER_BYTES);
    if (value.length > maxEntries) {
      throw new ProtocolError('TOO_LONG', `${this.typeName} ${path}: ${value.length} info entries do not fit in a DM message (${MAX_MESSAGE_BYTES} bytes)`, path);
    }
    return value.map((entry: unknown, i) => this.infoEntry(entry, `${path}[${i}]`));
  }

  private infoEntry(value: unknown, path: string): DmInfoEntry {
    const kind = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
    if (kind === 'MAX_PAGE_COUNT') {
      const e = this.object(value, path, ['type', 'maxPageCount']);
      return { type: 'MAX_PAGE_COUNT', maxPageCount: this.u64(e.maxPageCount, `${path}.maxPageCount`) };
    }
    if (kind !== 'UNKNOWN') this.fail(`${path}.type`, '"MAX_PAGE_COUNT" or "UNKNOWN"', kind);
    const e = this.object(value, path, ['type', 'infoType', 'data']);
    const infoType = this.uint(e.infoType, `${path}.infoType`, U32_MAX, 'u32');
    const data = this.bytes(e.data, `${path}.data`);
    if (infoType === INFO_TYPE_MAX_PAGE_COUNT && data.length === 8) {
      // Decoding would read it back as MAX_PAGE_COUNT, so encode(m) would not round-trip.
      this.fail(`${path}.infoType`, 'not 0 with 8 data bytes (that entry is written as {"type": "MAX_PAGE_COUNT"})', infoType);
    }
    return { type: 'UNKNOWN', infoType, data };
  }

  private bytes(value: unknown, path: string): Uint8Array {
    const limit = MAX_MESSAGE_BYTES - INFO_BLOB_OFFSET - INFO_ENTRY_HEADER_BYTES;
    let bytes: Uint8Array | undefined;
    if (value instanceof Uint8Array) bytes = value;
    else if (this.mode === 'json' && typeof value === 'string' && HEX_PATTERN.test(value)) bytes = hexToBytes(value, path);
    if (bytes === undefined) this.fail(path, this.mode === 'json' ? 'hex digits, two per byte' : 'a Uint8Array', value);
    if (bytes.length > limit) this.fail(path, `at most ${limit} bytes`, bytes);
    return new Uint8Array(bytes);
  }
}
