/**
 * decode checks lengths as QEMU does: against the payload length (which may carry VMBus padding),
 * never against hdr.size; the hot-add form alone follows hdr.size, as Linux does.
 */

import { decode, decodeHeader, DM_MIN_LENGTH, encode } from '../../protocol/codec';
import { hexToBytes } from '../../protocol/hex';
import { DM_MESSAGE_TYPE_IDS, type DmMessageTypeName } from '../../protocol/messages';
import { errorOf } from './protocol-error';

/** The minimum payload lengths, per QEMU hv-balloon.c and the struct sizes in dynmem-proto.h. */
const MIN_LENGTHS: [DmMessageTypeName, number][] = [
  ['DM_ERROR', 8],
  ['DM_VERSION_REQUEST', 16],
  ['DM_VERSION_RESPONSE', 16],
  ['DM_CAPABILITIES_REPORT', 32],
  ['DM_CAPABILITIES_RESPONSE', 16],
  ['DM_STATUS_REPORT', 48],
  ['DM_BALLOON_REQUEST', 16],
  ['DM_BALLOON_RESPONSE', 16],
  ['DM_UNBALLOON_REQUEST', 16],
  ['DM_UNBALLOON_RESPONSE', 8],
  ['DM_MEM_HOT_ADD_REQUEST', 16],
  ['DM_MEM_HOT_ADD_RESPONSE', 16],
  ['DM_INFO_MESSAGE', 16],
  ['DM_MEM_HOT_REMOVE_REQUEST', 24],
  ['DM_MEM_HOT_REMOVE_RESPONSE', 24],
];

/** A zero-filled message of `length` bytes with the given type id, hdr.size and u32 words written at their offsets. */
function message(typeId: number, length: number, words: Record<number, number> = {}, hdrSize = length): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, typeId, true);
  view.setUint16(2, hdrSize, true);
  for (const [offset, value] of Object.entries(words)) view.setUint32(Number(offset), value, true);
  return bytes;
}


describe('minimum lengths', () => {
  test.each(MIN_LENGTHS)('%s needs %i bytes', (type, length) => {
    const id = DM_MESSAGE_TYPE_IDS[type];
    expect(DM_MIN_LENGTH[type]).toBe(length);
    expect(decode(message(id, length)).type).toBe(type);
    const error = errorOf(() => decode(message(id, length - 1)));
    expect(error.code).toBe('TOO_SHORT');
    // Below 8 bytes there is no type to name yet.
    if (length > 8) expect(error.message).toContain(type);
    expect(error.message).toContain(String(length));
  });

  test('fewer than 8 bytes is too short for a header, whatever the type', () => {
    for (let length = 0; length < 8; length++) {
      expect(errorOf(() => decode(new Uint8Array(length))).code).toBe('TOO_SHORT');
      expect(errorOf(() => decodeHeader(new Uint8Array(length))).code).toBe('TOO_SHORT');
    }
  });
});

describe('hdr.size', () => {
  test('is ignored: a version request decodes the same whatever size it claims', () => {
    const expected = decode(hexToBytes('01001000010000000000020000000000'));
    for (const claimed of [0, 8, 17, 0xffff]) {
      const bytes = hexToBytes('01001000010000000000020000000000');
      bytes[2] = claimed & 0xff;
      bytes[3] = claimed >> 8;
      expect(decode(bytes)).toEqual(expected);
    }
  });

  test('16 picks the hot-add form without region, even when more bytes follow', () => {
    const bytes = message(DM_MESSAGE_TYPE_IDS.DM_MEM_HOT_ADD_REQUEST, 24, { 8: 0x1000, 16: 0x2000 }, 16);
    expect(decode(bytes)).toEqual({ type: 'DM_MEM_HOT_ADD_REQUEST', transId: 0, range: { startPage: 0x1000, pageCount: 0 } });
  });

  test('anything else asks for the 24-byte hot-add form with region', () => {
    for (const claimed of [0, 24, 32]) {
      const bytes = message(DM_MESSAGE_TYPE_IDS.DM_MEM_HOT_ADD_REQUEST, 24, { 8: 0x1000, 16: 0x2000 }, claimed);
      expect(decode(bytes)).toMatchObject({ region: { startPage: 0x2000, pageCount: 0 } });
      expect(errorOf(() => decode(bytes.subarray(0, 16))).code).toBe('TOO_SHORT');
    }
  });
});

describe('range counts', () => {
  test('a balloon response keeps more_pages in bit 0 and range_count in bits 1-31', () => {
    const oneRange = message(DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, 24, { 12: (1 << 1) | 1, 16: 7, 20: 3 << 8 });
    expect(decode(oneRange)).toMatchObject({ morePages: true, ranges: [{ startPage: 7, pageCount: 3 }] });
    const error = errorOf(() => decode(message(DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, 24, { 12: 3 << 1 })));
    expect(error.code).toBe('RANGE_COUNT_MISMATCH');
    expect(error.message).toBe('DM_BALLOON_RESPONSE: range_count 3 needs 40 bytes, message has 24');
  });

  test('an unballoon request has a whole u32 range_count of its own', () => {
    const bytes = message(DM_MESSAGE_TYPE_IDS.DM_UNBALLOON_REQUEST, 32, { 8: 1, 12: 2 });
    expect(decode(bytes)).toMatchObject({ morePages: true, ranges: [{}, {}] });
    expect(errorOf(() => decode(bytes.subarray(0, 31))).code).toBe('RANGE_COUNT_MISMATCH');
  });

  test('a hot-remove response carries its ranges from byte 24', () => {
    const bytes = message(DM_MESSAGE_TYPE_IDS.DM_MEM_HOT_REMOVE_RESPONSE, 32, { 12: 1, 16: 1, 24: 5 });
    expect(decode(bytes)).toMatchObject({ morePages: true, ranges: [{ startPage: 5, pageCount: 0 }] });
    expect(errorOf(() => decode(bytes.subarray(0, 24))).code).toBe('RANGE_COUNT_MISMATCH');
  });

  test('the largest counts are rejected by length alone', () => {
    const balloon = message(DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, 64, { 12: 0xffff_fffe });
    expect(errorOf(() => decode(balloon)).message).toContain('range_count 2147483647');
    const unballoon = message(DM_MESSAGE_TYPE_IDS.DM_UNBALLOON_REQUEST, 64, { 12: 0xffff_ffff });
    expect(errorOf(() => decode(unballoon)).code).toBe('RANGE_COUNT_MISMATCH');
  });
});

describe('info messages', () => {
  const INFO = DM_MESSAGE_TYPE_IDS.DM_INFO_MESSAGE;

  test('info_size beyond the message is too short', () => {
    const error = errorOf(() => decode(message(INFO, 24, { 12: 16 })));
    expect(error.code).toBe('TOO_SHORT');
    expect(error.message).toContain('info_size 16');
  });

  test('an entry whose data runs past info_size is rejected', () => {
    expect(errorOf(() => decode(message(INFO, 32, { 12: 16, 16: 0, 20: 9 }))).code).toBe('INFO_SIZE_MISMATCH');
  });

  test('leftover bytes in info_size too few for an entry header are rejected', () => {
    expect(errorOf(() => decode(message(INFO, 36, { 12: 20, 16: 0, 20: 8 }))).code).toBe('INFO_SIZE_MISMATCH');
  });

  test('type 0 is a max page count only with 8 data bytes; other entries keep their bytes', () => {
    const bytes = message(INFO, 48, { 12: 28, 16: 0, 20: 8, 24: 0x80000, 32: 0, 36: 4, 40: 0xdeadbeef });
    expect(decode(bytes)).toEqual({
      type: 'DM_INFO_MESSAGE',
      transId: 0,
      info: [
        { type: 'MAX_PAGE_COUNT', maxPageCount: 0x80000n },
        { type: 'UNKNOWN', infoType: 0, data: Uint8Array.of(0xef, 0xbe, 0xad, 0xde) },
      ],
    });
  });

  test('an odd-sized info message survives padding to 8 bytes', () => {
    const m = { type: 'DM_INFO_MESSAGE' as const, transId: 4, info: [{ type: 'UNKNOWN' as const, infoType: 9, data: Uint8Array.of(1, 2, 3) }] };
    const bytes = encode(m);
    expect(bytes.length).toBe(27);
    const padded = new Uint8Array(32);
    padded.set(bytes);
    expect(decode(padded)).toEqual(m);
  });
});

describe('other rules', () => {
  test('reserved bits are ignored', () => {
    expect(decode(message(DM_MESSAGE_TYPE_IDS.DM_VERSION_RESPONSE, 16, { 8: 0xffff_fffe, 12: 0xffff_ffff }))).toEqual({
      type: 'DM_VERSION_RESPONSE',
      transId: 0,
      isAccepted: false,
    });
    expect(decode(message(DM_MESSAGE_TYPE_IDS.DM_CAPABILITIES_REPORT, 32, { 8: 0xffff_ff80, 12: 0xffff_ffff }))).toMatchObject({
      caps: { balloon: false, hotAdd: false, hotAddAlignment: 0, hotRemove: false },
    });
  });

  test.each([15, 99, 0xffff])('type id %i is unknown, but its header still reads', (typeId) => {
    const bytes = message(typeId, 8, { 4: 77 });
    const error = errorOf(() => decode(bytes));
    expect(error.code).toBe('UNKNOWN_TYPE');
    expect(error.message).toContain(String(typeId));
    expect(decodeHeader(bytes)).toEqual({ typeId, size: 8, transId: 77 });
  });

  test('something that is not bytes is a ProtocolError too', () => {
    expect(errorOf(() => decode([1, 0, 8, 0] as unknown as Uint8Array)).message).toContain('Uint8Array');
  });
});
