/**
 * The channel callback's actions (Linux balloon_onchannelcallback): read one packet and decode
 * it (`draining` dispatches it on its type). Balloon down (Linux balloon_down), which runs right
 * there, is in balloon-down-actions.ts.
 */
import { decode } from '../../protocol/codec';
import { GUEST_MESSAGE_MAX_BYTES } from '../../protocol/constants';
import { ProtocolError } from '../../protocol/errors';
import { DM_MESSAGE_TYPE_IDS, type DmMessage } from '../../protocol/messages';
import type { ChannelEndpoint, RingPacket } from '../vmbus-ring';
import { line, messageTypeId } from './driver-context';
import { driverSetup } from './driver-setup';
import type { DmGuestDriverContext, LogLevel, PacketRead } from './driver-types';

/** Read and decode the next packet of the inbound ring (Linux: vmbus_recvpacket, then the header's type). */
export function readNextPacket(endpoint: ChannelEndpoint): PacketRead {
  const packet = endpoint.receive();
  if (packet === undefined) return { kind: 'empty' };
  // Linux frees ring space per packet read.
  endpoint.receiveDone();
  const payload = packet.payload;
  if (payload.length > GUEST_MESSAGE_MAX_BYTES) {
    // Linux: a DM message longer than its 4096-byte buffer is not copied; the zeroed buffer reads as type 0.
    return { kind: 'bad', typeId: 0, text: `Unhandled message: type: 0 (${payload.length}-byte packet)` };
  }
  try {
    return { kind: 'packet', message: decode(payload), bytes: payload.length };
  } catch (err) {
    const typeId = payload.length >= 2 ? payload[0]! | (payload[1]! << 8) : null;
    const why = err instanceof ProtocolError ? err.message : String(err);
    return {
      kind: 'bad',
      typeId,
      text: err instanceof ProtocolError && err.code === 'UNKNOWN_TYPE' ? `Unhandled message: type: ${typeId}` : `dropped malformed message: ${why}`,
    };
  }
}

/** Packets a guard already decoded (the guards of one step peek at the same packet): the message, or null if malformed. */
const peekedPackets = new WeakMap<RingPacket, DmMessage | null>();

/**
 * The next inbound packet, decoded, if it is a well-formed message of `type` that `readNextPacket`
 * would read as such (not taken from the ring). Anything else (empty ring, closed channel, an
 * oversized or malformed packet, another type) is null: `draining` reads and dispatches it.
 */
export function peekMessageOfType<T extends DmMessage['type']>(endpoint: ChannelEndpoint, type: T): Extract<DmMessage, { type: T }> | null {
  if (!endpoint.isOpen) return null;
  const packet = endpoint.inbound.peek();
  if (packet === undefined) return null;
  const p = packet.payload;
  if (p.length > GUEST_MESSAGE_MAX_BYTES || p.length < 2 || (p[0]! | (p[1]! << 8)) !== DM_MESSAGE_TYPE_IDS[type]) return null;
  let m = peekedPackets.get(packet);
  if (m === undefined) {
    try {
      m = decode(p);
    } catch {
      m = null; // malformed: draining logs and drops it
    }
    peekedPackets.set(packet, m);
  }
  return m !== null && m.type === type ? (m as Extract<DmMessage, { type: T }>) : null;
}

/** Take the packet `peekMessageOfType` saw, as `readNextPacket` reads it (Linux frees ring space per packet). */
export function takePeekedMessage(endpoint: ChannelEndpoint, message: DmMessage): PacketRead {
  const packet = endpoint.receive();
  endpoint.receiveDone();
  return { kind: 'packet', message, bytes: packet?.payload.length ?? 0 };
}

/** The message `draining` is dispatching, if the last read was one. */
function readMessage(context: DmGuestDriverContext): DmMessage | null {
  const read = context.receive.read;
  return read?.kind === 'packet' ? read.message : null;
}

export const receiveActions = {
  /**
   * Read one packet; `draining` dispatches what was read (its eventless transitions). The read is
   * kept in place, not assigned: it only lives until the dispatch, and every dispatch re-enters
   * `draining` with an assign (countMessage, logBadPacket) or leaves it, so XState looks again.
   */
  readPacket: driverSetup.createAction(({ context }) => {
    context.receive.read = readNextPacket(context.parts.endpoint);
  }),
  logBadPacket: driverSetup.enqueueActions(({ context, enqueue }) => {
    const read = context.receive.read;
    if (read?.kind !== 'bad') return;
    enqueue.assign({ stats: { ...context.stats, messagesReceived: context.stats.messagesReceived + 1, messagesDropped: context.stats.messagesDropped + 1 } });
    enqueue.emit(line(context, 'warn', read.text));
  }),
  countMessage: driverSetup.assign(({ context }) => ({
    stats: { ...context.stats, messagesReceived: context.stats.messagesReceived + 1 },
  })),
  raiseVersionResponse: driverSetup.raise(({ context }) => {
    const m = readMessage(context);
    return { type: 'guest.version-response' as const, accepted: m?.type === 'DM_VERSION_RESPONSE' && m.isAccepted };
  }),
  raiseCapsResponse: driverSetup.raise(({ context }) => {
    const read = readMessage(context);
    const m = read?.type === 'DM_CAPABILITIES_RESPONSE' ? read : null;
    return {
      type: 'guest.caps-response' as const,
      accepted: m?.isAccepted ?? false,
      hotRemove: m?.hotRemove ?? false,
      suppressPressureReports: m?.suppressPressureReports ?? false,
    };
  }),
  raiseBalloonRequest: driverSetup.raise(({ context }) => {
    const m = readMessage(context);
    return { type: 'guest.balloon-request' as const, numPages: m?.type === 'DM_BALLOON_REQUEST' ? m.numPages : 0 };
  }),
  raiseHotAddRequest: driverSetup.raise(({ context }) => {
    const read = readMessage(context);
    const m = read?.type === 'DM_MEM_HOT_ADD_REQUEST' ? read : null;
    const range = m === null ? { startPage: 0, pageCount: 0 } : { ...m.range };
    return {
      type: 'guest.hot-add-request' as const,
      request: m?.region === undefined ? { range } : { range, region: { ...m.region } },
    };
  }),
  recordInfo: driverSetup.enqueueActions(({ context, enqueue }) => {
    const m = readMessage(context);
    if (m?.type !== 'DM_INFO_MESSAGE') return;
    // Linux reads only the first info entry; no reply is ever sent.
    const info = m.info[0];
    if (info?.type === 'MAX_PAGE_COUNT') {
      const pages = Number(info.maxPageCount);
      enqueue.assign({ connection: { ...context.connection, maxDynamicPageCount: pages } });
      enqueue.emit(line(context, 'info', `Max. dynamic memory size: ${Math.floor(pages / 256)} MB`));
    } else if (info !== undefined && info.infoType !== 0) {
      enqueue.emit(line(context, 'warn', `Received Unknown type: ${info.infoType}`));
    }
  }),
  /** A message nobody handles in this state: log why and drop it (no reply). */
  dropMessage: driverSetup.enqueueActions(({ context, enqueue }) => {
    const m = readMessage(context);
    if (m === null) return;
    let level: LogLevel = 'warn';
    let text: string;
    switch (m.type) {
      case 'DM_VERSION_RESPONSE':
      case 'DM_CAPABILITIES_RESPONSE':
        text = `unexpected ${m.type} outside the handshake, ignored`;
        break;
      case 'DM_UNBALLOON_REQUEST':
        if (context.profile.hibernation) {
          level = 'info';
          text = 'Ignore balloon-down request!';
          break;
        }
        text = `${m.type} before the driver is initialized, ignored`;
        break;
      case 'DM_BALLOON_REQUEST':
      case 'DM_MEM_HOT_ADD_REQUEST':
        text = `${m.type} before the driver is initialized, ignored`;
        break;
      default:
        // DM_ERROR, hot-remove (Linux does not implement it) and guest->host types.
        text = `Unhandled message: type: ${messageTypeId(m)}`;
    }
    enqueue.emit(line(context, level, text));
    enqueue.assign({ stats: { ...context.stats, messagesDropped: context.stats.messagesDropped + 1 } });
  }),
};
