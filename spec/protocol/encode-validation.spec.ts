/** encode refuses any value that does not fit its wire field, naming the field and the value. */

import { decode, encode } from '../../protocol/codec';
import type { ProtocolErrorCode } from '../../protocol/errors';
import type { DmMessage, PageRange } from '../../protocol/messages';
import { errorOf } from './protocol-error';


const range = (startPage: number, pageCount: number): PageRange => ({ startPage, pageCount });
const balloonResponse = (ranges: PageRange[]): DmMessage => ({ type: 'DM_BALLOON_RESPONSE', transId: 1, morePages: false, ranges });
const capsReport = (hotAddAlignment: number, maxPageNumber: bigint): DmMessage => ({
  type: 'DM_CAPABILITIES_REPORT',
  transId: 2,
  caps: { balloon: true, hotAdd: true, hotAddAlignment, hotRemove: false },
  minPageCount: 0n,
  maxPageNumber,
});

/** [what, message, field path, value as the error shows it] */
const OUT_OF_RANGE: [string, DmMessage, string, string][] = [
  ['start page of 2^40', balloonResponse([range(0, 1), range(2 ** 40, 1)]), 'ranges[1].startPage', '1099511627776'],
  ['page count of 2^24', { type: 'DM_MEM_HOT_ADD_REQUEST', transId: 0, range: range(0, 2 ** 24) }, 'range.pageCount', '16777216'],
  ['negative region start', { type: 'DM_MEM_HOT_ADD_REQUEST', transId: 0, range: range(0, 1), region: range(-1, 1) }, 'region.startPage', '-1'],
  ['fractional page count', { type: 'DM_UNBALLOON_REQUEST', transId: 0, morePages: false, ranges: [range(8, 0.5)] }, 'ranges[0].pageCount', '0.5'],
  ['negative trans id', { type: 'DM_ERROR', transId: -1 }, 'transId', '-1'],
  ['trans id of 2^32', { type: 'DM_UNBALLOON_RESPONSE', transId: 2 ** 32 }, 'transId', '4294967296'],
  ['fractional num_pages', { type: 'DM_BALLOON_REQUEST', transId: 0, numPages: 1.5 }, 'numPages', '1.5'],
  ['NaN page count', { type: 'DM_MEM_HOT_ADD_RESPONSE', transId: 0, pageCount: NaN, result: 1 }, 'pageCount', 'NaN'],
  [
    'u32 io_diff of 2^32',
    { type: 'DM_STATUS_REPORT', transId: 0, numAvail: 0n, numCommitted: 0n, pageFileSize: 0n, zeroFree: 0n, pageFileWrites: 0, ioDiff: 2 ** 32 },
    'ioDiff',
    '4294967296',
  ],
  ['major version of 65536', { type: 'DM_VERSION_REQUEST', transId: 0, version: { major: 65536, minor: 0 }, isLastAttempt: false }, 'version.major', '65536'],
  ['negative minor version', { type: 'DM_VERSION_REQUEST', transId: 0, version: { major: 2, minor: -1 }, isLastAttempt: false }, 'version.minor', '-1'],
  ['hot-add alignment of 16', capsReport(16, 0n), 'caps.hotAddAlignment', '16'],
  ['u64 of 2^64', capsReport(7, 1n << 64n), 'maxPageNumber', '18446744073709551616n'],
  [
    'negative u64',
    { type: 'DM_STATUS_REPORT', transId: 0, numAvail: -1n, numCommitted: 0n, pageFileSize: 0n, zeroFree: 0n, pageFileWrites: 0, ioDiff: 0 },
    'numAvail',
    '-1n',
  ],
  ['u64 given as a number', capsReport(7, 5 as unknown as bigint), 'maxPageNumber', '5'],
  ['max page count of 2^64', { type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'MAX_PAGE_COUNT', maxPageCount: 1n << 64n }] }, 'info[0].maxPageCount', '18446744073709551616n'],
  ['negative hot-remove qos flags', { type: 'DM_MEM_HOT_REMOVE_REQUEST', transId: 0, virtualNode: 0, pageCount: 1, qosFlags: -3 }, 'qosFlags', '-3'],
  ['a string for a flag', { type: 'DM_VERSION_RESPONSE', transId: 0, isAccepted: 'yes' as unknown as boolean }, 'isAccepted', '"yes"'],
  ['a missing field', { type: 'DM_MEM_HOT_REMOVE_RESPONSE', transId: 0, result: 1, morePages: false } as unknown as DmMessage, 'ranges', 'nothing'],
];

describe('out-of-range fields', () => {
  test.each(OUT_OF_RANGE)('%s is rejected, naming the field and the value', (_what, message, field, shown) => {
    const error = errorOf(() => encode(message));
    expect(error.code).toBe('FIELD_OUT_OF_RANGE');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${message.type} ${field}: `);
    expect(error.message).toContain(`got ${shown}`);
  });

  test('the largest value of every bit-field encodes and decodes exactly', () => {
    const message: DmMessage = {
      type: 'DM_MEM_HOT_ADD_REQUEST',
      transId: 2 ** 32 - 1,
      range: range(2 ** 40 - 1, 2 ** 24 - 1),
      region: range(2 ** 40 - 1, 2 ** 24 - 1),
    };
    expect(decode(encode(message))).toEqual(message);
    expect(decode(encode(capsReport(15, (1n << 64n) - 1n)))).toEqual(capsReport(15, (1n << 64n) - 1n));
  });

  test('an UNKNOWN info entry of type 0 with 8 data bytes is refused: it would decode as MAX_PAGE_COUNT', () => {
    const error = errorOf(() => encode({ type: 'DM_INFO_MESSAGE', transId: 0, info: [{ type: 'UNKNOWN', infoType: 0, data: new Uint8Array(8) }] }));
    expect(error.field).toBe('info[0].infoType');
  });

  test('an unknown message type is refused', () => {
    const error = errorOf(() => encode({ type: 'DM_BOGUS', transId: 0 } as unknown as DmMessage));
    expect(error.code).toBe('UNKNOWN_TYPE');
    expect(error.message).toContain('"DM_BOGUS"');
  });
});

describe('message size', () => {
  const ranges = (n: number): PageRange[] => Array.from({ length: n }, (_, i) => range(i, 1));
  const expectCode = (message: DmMessage, code: ProtocolErrorCode): void => expect(errorOf(() => encode(message)).code).toBe(code);

  test('the largest balloon response that fits hdr.size (8189 ranges, 65528 bytes) encodes', () => {
    const bytes = encode(balloonResponse(ranges(8189)));
    expect(bytes.length).toBe(65528);
    expect(bytes[2] | (bytes[3] << 8)).toBe(65528);
  });

  test('one more range does not fit a u16 hdr.size', () => {
    expectCode(balloonResponse(ranges(8190)), 'TOO_LONG');
    expect(errorOf(() => encode(balloonResponse(ranges(8190)))).message).toContain('8190 ranges');
  });

  test('a huge range array is refused before it is walked', () => {
    const huge = new Array<PageRange>(2 ** 31 - 1);
    expectCode(balloonResponse(huge), 'TOO_LONG');
  });

  test('info data too large for one message is refused', () => {
    const entry = { type: 'UNKNOWN' as const, infoType: 1, data: new Uint8Array(40_000) };
    expectCode({ type: 'DM_INFO_MESSAGE', transId: 0, info: [entry, entry] }, 'TOO_LONG');
  });
});
