/**
 * One inbound VMBus packet -> one device event. QEMU reads every payload as a DM message whatever
 * the packet type; it checks lengths against the payload length (msglen, padded to 8), never
 * hdr.size; a payload shorter than the 8-byte header is dropped silently; a type it does not
 * handle gets "unknown DM message %u" whatever its length (hw/hyperv/hv-balloon.c
 * hv_balloon_handle_packet). A handled type that is too short still becomes its own event (without
 * `message`), because QEMU checks the state before the size.
 */
import { decode, decodeHeader, DM_MIN_LENGTH, type DmHeader } from '../../protocol/codec';
import { ProtocolError } from '../../protocol/errors';
import {
  DM_MESSAGE_TYPE_IDS,
  type DmBalloonResponse,
  type DmCapabilitiesReport,
  type DmHotAddResponse,
  type DmMessage,
  type DmStatusReport,
  type DmUnballoonResponse,
  type DmVersionRequest,
} from '../../protocol/messages';
import { WireRanges, type RangeList } from '../../protocol/range-list';
import type { HandledMessageName } from './warnings';

/** PROTO dm_balloon_response: the range array starts at byte 16. */
const BALLOON_RANGES_OFFSET = 16;

interface PacketBase {
  /** QEMU msglen: the VMBus payload length (a multiple of 8). */
  msglen: number;
  header: DmHeader;
}

/** A handled message; `message` is absent (and `error` says why) when the payload is too short. */
interface Handled<N extends HandledMessageName, M> extends PacketBase {
  type: N;
  message?: M;
  error?: ProtocolError;
}

export type DmVersionRequestPacket = Handled<'DM_VERSION_REQUEST', DmVersionRequest>;
export type DmCapabilitiesReportPacket = Handled<'DM_CAPABILITIES_REPORT', DmCapabilitiesReport>;
export type DmStatusReportPacket = Handled<'DM_STATUS_REPORT', DmStatusReport>;
export interface DmBalloonResponsePacket extends Handled<'DM_BALLOON_RESPONSE', DmBalloonResponse> {
  /** range_count and more_pages as the raw header word says (QEMU traces them before checking the length). */
  rangeCount: number;
  morePages: boolean;
  /**
   * The response's ranges read in place from the payload (no object per range), in an event read
   * from the ring when all range_count ranges are there, i.e. exactly when `message` is. The device
   * accounts from these; `message` is then decoded only when something reads it.
   */
  wireRanges?: RangeList;
}
export type DmUnballoonResponsePacket = Handled<'DM_UNBALLOON_RESPONSE', DmUnballoonResponse>;
export type DmHotAddResponsePacket = Handled<'DM_MEM_HOT_ADD_RESPONSE', DmHotAddResponse>;
/** Any type QEMU does not handle (0, 2, 4, 6, 8, 10, 12, 13, 14 and unknown ids). */
export interface DmUnknownPacket extends PacketBase {
  type: 'DM_UNKNOWN';
}

export type DmPacketEvent =
  | DmVersionRequestPacket
  | DmCapabilitiesReportPacket
  | DmStatusReportPacket
  | DmBalloonResponsePacket
  | DmUnballoonResponsePacket
  | DmHotAddResponsePacket
  | DmUnknownPacket;

const HANDLED_BY_ID: ReadonlyMap<number, HandledMessageName> = new Map<number, HandledMessageName>([
  [DM_MESSAGE_TYPE_IDS.DM_VERSION_REQUEST, 'DM_VERSION_REQUEST'],
  [DM_MESSAGE_TYPE_IDS.DM_CAPABILITIES_REPORT, 'DM_CAPABILITIES_REPORT'],
  [DM_MESSAGE_TYPE_IDS.DM_STATUS_REPORT, 'DM_STATUS_REPORT'],
  [DM_MESSAGE_TYPE_IDS.DM_BALLOON_RESPONSE, 'DM_BALLOON_RESPONSE'],
  [DM_MESSAGE_TYPE_IDS.DM_UNBALLOON_RESPONSE, 'DM_UNBALLOON_RESPONSE'],
  [DM_MESSAGE_TYPE_IDS.DM_MEM_HOT_ADD_RESPONSE, 'DM_MEM_HOT_ADD_RESPONSE'],
]);

/** The event for one inbound payload, or undefined for a payload shorter than a DM header. */
export function packetEvent(payload: Uint8Array): DmPacketEvent | undefined {
  let header: DmHeader;
  try {
    header = decodeHeader(payload);
  } catch {
    return undefined;
  }
  const msglen = payload.length;
  const name = HANDLED_BY_ID.get(header.typeId);
  if (name === undefined) return { type: 'DM_UNKNOWN', msglen, header };
  if (name === 'DM_BALLOON_RESPONSE') {
    const inPlace = balloonResponseInPlace(payload, header);
    if (inPlace) return inPlace;
  }

  let message: DmMessage | undefined;
  let error: ProtocolError | undefined;
  try {
    message = decode(payload);
  } catch (e) {
    error = e instanceof ProtocolError ? e : new ProtocolError('BAD_PACKET', String(e));
  }
  const base = { msglen, header, ...(error ? { error } : {}) };
  switch (name) {
    case 'DM_BALLOON_RESPONSE': {
      // PROTO dm_balloon_response: u32 at offset 12, bit 0 more_pages, bits 1-31 range_count.
      const word = msglen >= 16 ? new DataView(payload.buffer, payload.byteOffset + 12, 4).getUint32(0, true) : 0;
      return {
        type: name,
        ...base,
        ...(message?.type === name ? { message } : {}),
        rangeCount: word >>> 1,
        morePages: (word & 1) === 1,
      };
    }
    case 'DM_VERSION_REQUEST':
      return { type: name, ...base, ...(message?.type === name ? { message } : {}) };
    case 'DM_CAPABILITIES_REPORT':
      return { type: name, ...base, ...(message?.type === name ? { message } : {}) };
    case 'DM_STATUS_REPORT':
      return { type: name, ...base, ...(message?.type === name ? { message } : {}) };
    case 'DM_UNBALLOON_RESPONSE':
      return { type: name, ...base, ...(message?.type === name ? { message } : {}) };
    case 'DM_MEM_HOT_ADD_RESPONSE':
      return { type: name, ...base, ...(message?.type === name ? { message } : {}) };
  }
}

/**
 * A balloon response whose ranges are all there (decode's checks for the type: at least 16 bytes,
 * then range_count ranges of 8 bytes at byte 16), with `wireRanges` reading them from the payload
 * and `message` decoded on first read; undefined when decode would refuse it (the general path
 * then builds the event with the error).
 */
function balloonResponseInPlace(payload: Uint8Array, header: DmHeader): DmBalloonResponsePacket | undefined {
  const msglen = payload.length;
  if (msglen < DM_MIN_LENGTH.DM_BALLOON_RESPONSE) return undefined;
  // PROTO dm_balloon_response: u32 at offset 12 (little-endian), bit 0 more_pages, bits 1-31 range_count.
  const word = (payload[12]! | (payload[13]! << 8) | (payload[14]! << 16) | (payload[15]! << 24)) >>> 0;
  const rangeCount = word >>> 1;
  if (msglen < BALLOON_RANGES_OFFSET + 8 * rangeCount) return undefined;
  let message: DmBalloonResponse | undefined;
  const event: DmBalloonResponsePacket = {
    type: 'DM_BALLOON_RESPONSE',
    msglen,
    header,
    get message(): DmBalloonResponse {
      return (message ??= decode(payload) as DmBalloonResponse);
    },
    rangeCount,
    morePages: (word & 1) === 1,
  };
  // Not enumerable: the event's keys, in the same order (what inspectors, JSON and spreads see),
  // stay those of a decoded event; a copy made by spreading falls back to `message`.
  Object.defineProperty(event, 'wireRanges', { value: new WireRanges(payload, BALLOON_RANGES_OFFSET, rangeCount), enumerable: false });
  return event;
}

/** A packet event for a message object (specs and the graph walk build events without a ring). */
export function packetEventFor(message: DmMessage, msglen?: number): DmPacketEvent {
  const header: DmHeader = { typeId: DM_MESSAGE_TYPE_IDS[message.type], size: 0, transId: message.transId };
  switch (message.type) {
    case 'DM_VERSION_REQUEST':
      return { type: message.type, msglen: msglen ?? 16, header, message };
    case 'DM_CAPABILITIES_REPORT':
      return { type: message.type, msglen: msglen ?? 32, header, message };
    case 'DM_STATUS_REPORT':
      return { type: message.type, msglen: msglen ?? 48, header, message };
    case 'DM_BALLOON_RESPONSE':
      return {
        type: message.type,
        msglen: msglen ?? 16 + 8 * message.ranges.length,
        header,
        message,
        rangeCount: message.ranges.length,
        morePages: message.morePages,
      };
    case 'DM_UNBALLOON_RESPONSE':
      return { type: message.type, msglen: msglen ?? 8, header, message };
    case 'DM_MEM_HOT_ADD_RESPONSE':
      return { type: message.type, msglen: msglen ?? 16, header, message };
    default:
      return { type: 'DM_UNKNOWN', msglen: msglen ?? 8, header };
  }
}
