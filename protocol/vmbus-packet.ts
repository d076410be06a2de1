/**
 * VMBus packet framing for DM messages: the 16-byte descriptor in front of every payload, the
 * padding to 8 bytes, and the ring space a packet takes (QEMU hw/hyperv/vmbus.c, vmbus-proto.h).
 */

import {
  VMBUS_PACKET_DATA_INBAND,
  VMBUS_PACKET_HEADER_BYTES,
  VMBUS_PACKET_TRAILER_BYTES,
} from './constants';
import { describeValue, ProtocolError } from './errors';
import { U16_MAX, U64_MAX } from './fields';

/** A decoded VMBus packet: the descriptor's fields and the payload they frame. */
export interface VmbusPacket {
  /** u16 packet type (6 = in-band data). */
  type: number;
  /** u16 payload offset in 8-byte units (2 for the plain 16-byte descriptor). */
  offset8: number;
  /** u16 packet length (descriptor + padded payload) in 8-byte units. */
  len8: number;
  /** u16 flags (1 = completion requested). */
  flags: number;
  /** u64 VMBus transaction id; hv-balloon sets it to the DM trans_id. */
  transactionId: bigint;
  /**
   * Bytes offset8*8 .. len8*8: the DM message with its padding, i.e. QEMU's `msglen` bytes,
   * which is what the DM length checks apply to.
   */
  payload: Uint8Array;
}

export interface InbandPacketOptions {
  /** Default 0n. */
  transactionId?: bigint;
  /** Default 0: no completion requested, as both QEMU and Linux send DM messages. */
  flags?: number;
  /** Default VMBUS_PACKET_DATA_INBAND (6). */
  type?: number;
}

/** The descriptor is 16 bytes, so the payload starts at offset8 = 2. */
const INBAND_OFFSET8 = VMBUS_PACKET_HEADER_BYTES / 8;
/** len8 is a u16 count of 8-byte units. */
const MAX_PACKET_BYTES = U16_MAX * 8;

/** n rounded up to a multiple of 8: payloads are padded to 8-byte units. */
export function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Ring bytes one packet with an `msglen`-byte payload takes: descriptor + padded payload + the
 * 8-byte trailer (QEMU vmbus.c reserve; Linux hv_ringbuffer_write). 16-byte DM message -> 40, 24 -> 48.
 */
export function ringSpaceFor(msglen: number): number {
  return VMBUS_PACKET_HEADER_BYTES + pad8(msglen) + VMBUS_PACKET_TRAILER_BYTES;
}

/** Frames a payload as an in-band packet: 16-byte descriptor, payload, zero padding to 8 bytes. */
export function encodeInbandPacket(payload: Uint8Array, options: InbandPacketOptions = {}): Uint8Array {
  const { transactionId = 0n, flags = 0, type = VMBUS_PACKET_DATA_INBAND } = options;
  if (!(payload instanceof Uint8Array)) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `VMBus packet payload: expected a Uint8Array, got ${describeValue(payload)}`, 'payload');
  }
  checkU16(type, 'type');
  checkU16(flags, 'flags');
  if (typeof transactionId !== 'bigint' || transactionId < 0n || transactionId > U64_MAX) {
    throw new ProtocolError(
      'FIELD_OUT_OF_RANGE',
      `VMBus packet transactionId: expected a bigint 0..2^64-1 (u64), got ${describeValue(transactionId)}`,
      'transactionId',
    );
  }
  const length = VMBUS_PACKET_HEADER_BYTES + pad8(payload.length);
  if (length > MAX_PACKET_BYTES) {
    throw new ProtocolError('TOO_LONG', `VMBus packet: a ${payload.length}-byte payload needs ${length} bytes, len8 (u16) allows ${MAX_PACKET_BYTES}`);
  }
  const packet = new Uint8Array(length);
  const view = new DataView(packet.buffer);
  view.setUint16(0, type, true);
  view.setUint16(2, INBAND_OFFSET8, true);
  view.setUint16(4, length / 8, true);
  view.setUint16(6, flags, true);
  view.setBigUint64(8, transactionId, true);
  packet.set(payload, VMBUS_PACKET_HEADER_BYTES);
  return packet;
}

/**
 * Reads a packet's descriptor and returns its payload (a copy). `bytes` may extend past the packet
 * (e.g. a trailer); the packet itself must be complete.
 */
export function decodePacket(bytes: Uint8Array): VmbusPacket {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `VMBus packet: expected a Uint8Array, got ${describeValue(bytes)}`, 'bytes');
  }
  if (bytes.length < VMBUS_PACKET_HEADER_BYTES) {
    throw new ProtocolError('TOO_SHORT', `VMBus packet: has ${bytes.length} bytes, a descriptor needs ${VMBUS_PACKET_HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(0, true);
  const offset8 = view.getUint16(2, true);
  const len8 = view.getUint16(4, true);
  const flags = view.getUint16(6, true);
  const transactionId = view.getBigUint64(8, true);
  if (offset8 * 8 < VMBUS_PACKET_HEADER_BYTES) {
    throw new ProtocolError('BAD_PACKET', `VMBus packet: offset8 ${offset8} points inside the ${VMBUS_PACKET_HEADER_BYTES}-byte descriptor`, 'offset8');
  }
  if (offset8 > len8) {
    throw new ProtocolError('BAD_PACKET', `VMBus packet: offset8 ${offset8} is past the packet's end (len8 ${len8})`, 'offset8');
  }
  if (len8 * 8 > bytes.length) {
    throw new ProtocolError('TOO_SHORT', `VMBus packet: len8 ${len8} needs ${len8 * 8} bytes, got ${bytes.length}`, 'len8');
  }
  return { type, offset8, len8, flags, transactionId, payload: new Uint8Array(bytes.subarray(offset8 * 8, len8 * 8)) };
}

function checkU16(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > U16_MAX) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `VMBus packet ${field}: expected an integer 0..${U16_MAX} (u16), got ${describeValue(value)}`, field);
  }
}
