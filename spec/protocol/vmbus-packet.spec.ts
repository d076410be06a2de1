/** VMBus in-band framing of DM messages, and the ring space a message takes. */

import fc from 'fast-check';
import { decode, encode } from '../../protocol/codec';
import { bytesToHex, hexToBytes } from '../../protocol/hex';
import { decodePacket, encodeInbandPacket, pad8, ringSpaceFor } from '../../protocol/vmbus-packet';
import { errorOf } from './protocol-error';


const VERSION_REQUEST = '01001000010000000000020000000000';

test.each([
  [0, 0],
  [1, 8],
  [8, 8],
  [9, 16],
  [27, 32],
])('pad8(%i) = %i', (n, padded) => {
  expect(pad8(n)).toBe(padded);
});

test.each([
  [16, 40],
  [24, 48],
  [8, 32],
  [48, 72],
  // Linux: a full 4096-byte balloon response takes 4120 bytes of ring.
  [4096, 4120],
  [27, 56],
])('a %i-byte DM message takes %i bytes of ring space', (msglen, space) => {
  expect(ringSpaceFor(msglen)).toBe(space);
});

test('a DM message travels after a 16-byte in-band descriptor', () => {
  const packet = encodeInbandPacket(hexToBytes(VERSION_REQUEST), { transactionId: 1n });
  // type 6, offset8 2, len8 4 (32 bytes), flags 0, transaction id 1
  expect(bytesToHex(packet)).toBe(`0600020004000000${'0100000000000000'}${VERSION_REQUEST}`);
});

test('a payload is padded with zeros to 8 bytes and len8 counts the padding', () => {
  const packet = encodeInbandPacket(Uint8Array.of(1, 2, 3));
  expect(packet.length).toBe(24);
  expect(decodePacket(packet)).toEqual({
    type: 6,
    offset8: 2,
    len8: 3,
    flags: 0,
    transactionId: 0n,
    payload: Uint8Array.of(1, 2, 3, 0, 0, 0, 0, 0),
  });
});

test('the payload of a decoded packet (padding included, as QEMU msglen) decodes to the DM message', () => {
  const message = { type: 'DM_INFO_MESSAGE' as const, transId: 9, info: [{ type: 'UNKNOWN' as const, infoType: 3, data: Uint8Array.of(7, 7, 7) }] };
  const packet = decodePacket(encodeInbandPacket(encode(message), { transactionId: 9n }));
  expect(packet.payload.length).toBe(32);
  expect(decode(packet.payload)).toEqual(message);
});

test('descriptor fields and payload survive a round trip; bytes after the packet are ignored', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.uint8Array({ maxLength: 16 }),
      (payload, transactionId, flags, type, trailer) => {
        const packet = encodeInbandPacket(payload, { transactionId, flags, type });
        const withTrailer = new Uint8Array(packet.length + trailer.length);
        withTrailer.set(packet);
        withTrailer.set(trailer, packet.length);
        const decoded = decodePacket(withTrailer);
        expect(decoded).toMatchObject({ type, flags, transactionId, offset8: 2, len8: packet.length / 8 });
        expect(decoded.payload.subarray(0, payload.length)).toEqual(payload);
        expect(decoded.payload.length).toBe(pad8(payload.length));
      },
    ),
  );
});

describe('bad packets', () => {
  test('fewer than 16 bytes is too short for a descriptor', () => {
    expect(errorOf(() => decodePacket(new Uint8Array(15))).code).toBe('TOO_SHORT');
  });

  test('len8 past the end of the bytes is too short', () => {
    const packet = encodeInbandPacket(new Uint8Array(16));
    expect(errorOf(() => decodePacket(packet.subarray(0, 24))).message).toContain('len8 4');
  });

  test('offset8 inside the descriptor or past len8 is a bad packet', () => {
    const packet = encodeInbandPacket(new Uint8Array(8));
    packet[2] = 1;
    expect(errorOf(() => decodePacket(packet)).code).toBe('BAD_PACKET');
    packet[2] = 4;
    expect(errorOf(() => decodePacket(packet)).code).toBe('BAD_PACKET');
  });

  test.each<[string, object, string]>([
    ['a negative transaction id', { transactionId: -1n }, 'transactionId'],
    ['a transaction id of 2^64', { transactionId: 1n << 64n }, 'transactionId'],
    ['flags of 65536', { flags: 0x10000 }, 'flags'],
    ['a fractional type', { type: 6.5 }, 'type'],
  ])('encoding refuses %s', (_what, options, field) => {
    const error = errorOf(() => encodeInbandPacket(new Uint8Array(8), options));
    expect(error.code).toBe('FIELD_OUT_OF_RANGE');
    expect(error.field).toBe(field);
  });

  test('a payload beyond what a u16 len8 can frame is refused', () => {
    expect(errorOf(() => encodeInbandPacket(new Uint8Array(0xffff * 8))).code).toBe('TOO_LONG');
  });
});
