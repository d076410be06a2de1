/** The golden byte vectors are the contract: every valid one decodes to its values and encodes back to its bytes. */

import { decode, encode } from '../../protocol/codec';
import { ProtocolError } from '../../protocol/errors';
import { bytesToHex, hexToBytes } from '../../protocol/hex';
import { messageFromJson, messageToJson } from '../../protocol/json';
import { vectors } from './vectors';

/** The vectors write small u64 values as numbers; messageToJson always prints u64 values as strings. */
const U64_FIELDS = new Set(['minPageCount', 'maxPageNumber', 'numAvail', 'numCommitted', 'pageFileSize', 'zeroFree', 'maxPageCount']);

function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => normalise(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v, k)]));
  }
  return U64_FIELDS.has(key) && typeof value === 'number' ? String(value) : value;
}

describe('valid golden vectors', () => {
  test.each(vectors.valid)('$name: decodes to its values', ({ hex, message }) => {
    expect(messageToJson(decode(hexToBytes(hex)))).toEqual(normalise(message));
  });

  test.each(vectors.valid)('$name: decoding then encoding gives back its exact bytes', ({ hex }) => {
    expect(bytesToHex(encode(decode(hexToBytes(hex))))).toBe(hex);
  });

  test.each(vectors.valid)('$name: its values encode to its exact bytes', ({ hex, message }) => {
    expect(bytesToHex(encode(messageFromJson(message)))).toBe(hex);
  });
});

describe('invalid golden vectors', () => {
  test.each(vectors.invalid)('$name: decode throws ProtocolError $error', ({ hex, error }) => {
    const thrown = catchError(() => decode(hexToBytes(hex)));
    expect(thrown).toBeInstanceOf(ProtocolError);
    expect((thrown as ProtocolError).code).toBe(error);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
