/** Bytes <-> hexadecimal text, as the JSON form and the CLI print and read them. */

import { ProtocolError } from './errors';

const HEX_DIGITS = '0123456789abcdef';

/** Lowercase hex, two digits per byte, no separators. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX_DIGITS[byte >> 4] + HEX_DIGITS[byte & 15];
  return out;
}

/**
 * Strict hex (either case, no separators, even length) to bytes.
 * @param field names the input in the error message
 */
export function hexToBytes(text: string, field = 'hex'): Uint8Array {
  if (text.length % 2 !== 0) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `${field}: expected an even number of hex digits, got ${text.length}`, field);
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < text.length; i += 2) {
    const hi = hexDigit(text, i, field);
    const lo = hexDigit(text, i + 1, field);
    bytes[i / 2] = hi * 16 + lo;
  }
  return bytes;
}

function hexDigit(text: string, index: number, field: string): number {
  const value = HEX_DIGITS.indexOf(text[index].toLowerCase());
  if (value < 0) {
    throw new ProtocolError(
      'FIELD_OUT_OF_RANGE',
      `${field}: ${JSON.stringify(text[index])} at position ${index} is not a hex digit`,
      field,
    );
  }
  return value;
}
