/**
 * The one error type of the wire layer. Every failure of decode, encode, packet framing or JSON
 * conversion is a ProtocolError with a machine-readable code and a message naming the field.
 */

export type ProtocolErrorCode =
  /** Fewer bytes than the message type (or a header, or a VMBus descriptor) needs. */
  | 'TOO_SHORT'
  /** A range_count asks for more ranges than the message carries. */
  | 'RANGE_COUNT_MISMATCH'
  /** A DM_INFO_MESSAGE whose info entries do not exactly fill info_size. */
  | 'INFO_SIZE_MISMATCH'
  /** A message type id above 14, or an unknown type name in JSON. */
  | 'UNKNOWN_TYPE'
  /** A field value that does not fit its wire field: wrong type, missing, negative, fractional, too large. */
  | 'FIELD_OUT_OF_RANGE'
  /** A JSON message with a key the message type does not have (usually a typo). */
  | 'UNKNOWN_FIELD'
  /** A message or packet larger than its length field can describe. */
  | 'TOO_LONG'
  /** A VMBus packet descriptor whose offsets contradict each other. */
  | 'BAD_PACKET';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  /**
   * @param code what went wrong, for programs
   * @param message what went wrong, for people: names the message type, the field and the value
   * @param field the field's path inside the message (e.g. `ranges[1].pageCount`), when one field is at fault
   */
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A short, printable form of any value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return truncate(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
