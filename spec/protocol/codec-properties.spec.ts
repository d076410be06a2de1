/** Properties of the codec over random messages and random bytes. */

import fc from 'fast-check';
import { decode, DM_MIN_LENGTH, encode } from '../../protocol/codec';
import { ProtocolError } from '../../protocol/errors';
import { DM_MESSAGE_TYPE_IDS, type DmMessage, type DmMessageTypeName } from '../../protocol/messages';
import { anyMessage, messageArbitraries } from './arbitraries';

const typeNames = Object.keys(messageArbitraries) as DmMessageTypeName[];

/** decode's outcome: the message, or the ProtocolError; anything else thrown fails the property. */
function tryDecode(bytes: Uint8Array): DmMessage | ProtocolError {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

describe('round trip', () => {
  test.each(typeNames)('%s: decode(encode(m)) deep-equals m', (type) => {
    fc.assert(
      fc.property(messageArbitraries[type], (message) => {
        expect(decode(encode(message))).toStrictEqual(message);
      }),
    );
  });

  test('hdr.size is the encoded length and the type id is in byte 0', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const bytes = encode(message);
        expect(bytes[2] | (bytes[3] << 8)).toBe(bytes.length);
        expect(bytes[0] | (bytes[1] << 8)).toBe(DM_MESSAGE_TYPE_IDS[message.type]);
        expect(bytes.length).toBeGreaterThanOrEqual(DM_MIN_LENGTH[message.type]);
      }),
    );
  });

  test('trailing bytes (VMBus padding or more) do not change what decodes', () => {
    fc.assert(
      fc.property(anyMessage, fc.uint8Array({ minLength: 1, maxLength: 24 }), (message, extra) => {
        const bytes = encode(message);
        const padded = new Uint8Array(bytes.length + extra.length);
        padded.set(bytes);
        padded.set(extra, bytes.length);
        expect(decode(padded)).toStrictEqual(message);
      }),
    );
  });

  test('every cut-short encoding is rejected as too short, never misread', () => {
    fc.assert(
      fc.property(
        anyMessage.chain((message) => {
          const bytes = encode(message);
          return fc.tuple(fc.constant(bytes), fc.integer({ min: 0, max: bytes.length - 1 }));
        }),
        ([bytes, cut]) => {
          const outcome = tryDecode(bytes.subarray(0, cut));
          expect(outcome).toBeInstanceOf(ProtocolError);
          expect(['TOO_SHORT', 'RANGE_COUNT_MISMATCH']).toContain((outcome as ProtocolError).code);
        },
      ),
    );
  });

  test('decode reads from a subarray at any byte offset', () => {
    fc.assert(
      fc.property(anyMessage, fc.integer({ min: 1, max: 7 }), (message, offset) => {
        const bytes = encode(message);
        const backing = new Uint8Array(offset + bytes.length);
        backing.set(bytes, offset);
        expect(decode(backing.subarray(offset))).toStrictEqual(message);
      }),
    );
  });
});

describe('random bytes', () => {
  /** Lengths 0..5000, both small-biased and spread over the whole span. */
  const bytesUpTo5000 = fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.uint8Array({ maxLength: 5000, size: 'max' }));
  const randomBytes = bytesUpTo5000;
  /** Random bytes whose type id is a real one, so decoding gets past the header. */
  const typedBytes = fc
    .tuple(fc.integer({ min: 0, max: 14 }), bytesUpTo5000)
    .map(([typeId, body]) => {
      const bytes = new Uint8Array(Math.max(2, body.length));
      bytes.set(body);
      bytes[0] = typeId;
      bytes[1] = 0;
      return bytes;
    });
  /** Small range and info counts, so range-carrying messages sometimes decode successfully. */
  const smallCountBytes = fc
    .tuple(fc.integer({ min: 0, max: 14 }), fc.integer({ min: 0, max: 12 }), fc.uint8Array({ minLength: 16, maxLength: 200 }))
    .map(([typeId, count, body]) => {
      const bytes = new Uint8Array(body);
      const view = new DataView(bytes.buffer);
      view.setUint16(0, typeId, true);
      view.setUint32(12, typeId === 7 ? count * 2 + (body[12] & 1) : typeId === 12 ? count * 4 : count, true);
      return bytes;
    });

  test.each([
    ['any bytes', randomBytes],
    ['bytes with a known type id', typedBytes],
    ['bytes with a known type id and small counts', smallCountBytes],
  ])('%s: decode returns a message or throws ProtocolError, nothing else', (_name, bytes) => {
    fc.assert(
      fc.property(bytes, (b) => {
        tryDecode(b);
      }),
      { numRuns: 500 },
    );
  });

  test('whatever decodes re-encodes to bytes that decode the same', () => {
    fc.assert(
      fc.property(fc.oneof(typedBytes, smallCountBytes), (bytes) => {
        const outcome = tryDecode(bytes);
        if (outcome instanceof ProtocolError) return;
        expect(decode(encode(outcome))).toStrictEqual(outcome);
      }),
      { numRuns: 500 },
    );
  });

  test('a range_count near 2^31 is rejected without building the ranges', () => {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, true);
    view.setUint32(12, 0xffff_fffe, true); // range_count 2^31 - 1
    expect(() => decode(bytes)).toThrow(expect.objectContaining({ code: 'RANGE_COUNT_MISMATCH' }));
  });
});
