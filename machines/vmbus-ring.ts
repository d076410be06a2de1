/**
 * A VMBus ring buffer and the two channel endpoints over a pair of them. The rings are shared
 * memory between host and guest, so the endpoints read and write them synchronously, as the real
 * drivers do; only the *signals* (interrupts) travel as messages, through the channel statechart.
 * The ring knows nothing of DM: it carries in-band packets of opaque bytes.
 *
 * Space rules (QEMU hw/hyperv/vmbus.c, Linux drivers/hv/ring_buffer.c): a packet takes
 * 16 + pad8(payload) + 8 bytes; a write needs strictly more free space than that (a ring never
 * becomes exactly full); a writer that cannot reserve room records `pending_send_sz`, and the
 * reader signals it once it has freed at least that much.
 */
import { DEFAULT_RING_DATA_BYTES, VMBUS_PACKET_DATA_INBAND } from '../protocol/constants';
import { pad8, ringSpaceFor } from '../protocol/vmbus-packet';
import type { Outbox } from './outbox';
import type { ChannelSide } from './part-events';

export { ringSpaceFor };

/** One packet as it sits in a ring. */
export interface RingPacket {
  /** VMBus packet type (6 = in-band data). */
  packetType: number;
  /** VMBus transaction id (QEMU sets it to the DM trans_id; Linux sends 0). */
  transactionId: bigint;
  /** The payload as the reader sees it: padded to a multiple of 8 (QEMU's msglen). */
  payload: Uint8Array;
  /** Bytes of ring space it takes. */
  space: number;
}

export class VmbusRing {
  private readonly packets: RingPacket[] = [];
  private head = 0;
  /** Bytes written and not yet released by the reader (published read index). */
  private used = 0;
  /** Bytes the reader has popped since its last `releaseConsumed`. */
  private consumed = 0;
  /** Bytes a writer has reserved ahead of sending (QEMU vmbus_channel_reserve). */
  private reservedBytes = 0;
  /** The writer's pending_send_sz: the room it waits for, 0 if none. */
  private pendingSendBytes = 0;
  private totalPackets = 0;

  constructor(readonly dataBytes: number = DEFAULT_RING_DATA_BYTES) {
    if (!Number.isInteger(dataBytes) || dataBytes < 64 || dataBytes % 8 !== 0) {
      throw new RangeError(`ring data size must be a multiple of 8 bytes >= 64, got ${dataBytes}`);
    }
  }

  freeBytes(): number {
    return this.dataBytes - this.used;
  }
  get pendingSendSize(): number {
    return this.pendingSendBytes;
  }
  get reserved(): number {
    return this.reservedBytes;
  }
  /** Packets waiting to be read. */
  get length(): number {
    return this.packets.length - this.head;
  }
  /** Packets ever written. */
  get written(): number {
    return this.totalPackets;
  }

  /** Whether `bytes` more of ring space fit now (strictly less than the free space). */
  fits(bytes: number): boolean {
    return bytes < this.freeBytes();
  }

  /**
   * QEMU vmbus_channel_reserve: make sure room for one more packet of `payloadBytes` (on top of what
   * is already reserved) stays available. On failure record pending_send_sz and return false.
   */
  reserve(payloadBytes: number): boolean {
    const needed = this.reservedBytes + ringSpaceFor(payloadBytes);
    if (!this.fits(needed)) {
      this.pendingSendBytes = needed;
      return false;
    }
    this.reservedBytes = needed;
    return true;
  }

  /** Write one packet. Uses a reservation if there is one; false (ENOSPC/EAGAIN) if it does not fit. */
  write(payload: Uint8Array, transactionId: bigint, packetType = VMBUS_PACKET_DATA_INBAND): boolean {
    const space = ringSpaceFor(payload.length);
    const fromReservation = this.reservationFor(space);
    if (fromReservation < 0) {
      this.pendingSendBytes = this.reservedBytes + space;
      return false;
    }
    this.reservedBytes -= fromReservation;
    const padded = new Uint8Array(pad8(payload.length));
    padded.set(payload);
    this.packets.push({ packetType, transactionId, payload: padded, space });
    this.used += space;
    this.totalPackets++;
    return true;
  }

  /** The next unread packet, without taking it. */
  peek(): RingPacket | undefined {
    return this.head < this.packets.length ? this.packets[this.head] : undefined;
  }

  /** Take the next packet; its space is freed only at `releaseConsumed` (QEMU recv_done). */
  pop(): RingPacket | undefined {
    const p = this.peek();
    if (!p) return undefined;
    this.head++;
    this.consumed += p.space;
    if (this.head === this.packets.length) {
      // Drained (the usual case): hold no packet the reader has taken.
      this.packets.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.packets.length) {
      this.packets.splice(0, this.head);
      this.head = 0;
    }
    return p;
  }

  /**
   * Publish the read index: free what was popped. Returns the bytes freed and whether a writer
   * waiting on pending_send_sz should now be signalled (the flag is cleared when it is).
   */
  releaseConsumed(): { freed: number; wakeWriter: boolean } {
    const freed = this.consumed;
    this.used -= freed;
    this.consumed = 0;
    let wakeWriter = false;
    if (this.writerMayGoOn()) {
      this.pendingSendBytes = 0;
      wakeWriter = true;
    }
    return { freed, wakeWriter };
  }

  /**
   * Whether writing a packet of `payloadBytes` now would succeed and leave room for a further
   * packet of `nextPayloadBytes` (what `write` then `fits(reserved + ringSpaceFor(next))` would say),
   * without changing the ring.
   */
  roomAfterWrite(payloadBytes: number, nextPayloadBytes: number): boolean {
    const space = ringSpaceFor(payloadBytes);
    const fromReservation = this.reservationFor(space);
    if (fromReservation < 0) return false;
    return this.reservedBytes - fromReservation + ringSpaceFor(nextPayloadBytes) < this.dataBytes - this.used - space;
  }

  /** `releaseConsumed` now would free nothing and wake no writer. */
  releaseIsNoop(): boolean {
    return this.consumed === 0 && !this.writerMayGoOn();
  }

  /** The part of the reservation a write of `space` bytes uses, or -1 when the write does not fit. */
  private reservationFor(space: number): number {
    const fromReservation = Math.min(space, this.reservedBytes);
    if (fromReservation < space && !this.fits(space - fromReservation + this.reservedBytes)) return -1;
    return fromReservation;
  }

  /** A writer waits on pending_send_sz and that much room is free now. */
  private writerMayGoOn(): boolean {
    return this.pendingSendBytes > 0 && this.fits(this.pendingSendBytes);
  }

  /** Drop everything (channel close or reset). */
  clear(): void {
    this.packets.length = 0;
    this.head = 0;
    this.used = 0;
    this.consumed = 0;
    this.reservedBytes = 0;
    this.pendingSendBytes = 0;
  }
}

/** What an endpoint reports for tracing: one packet sent. */
export interface PacketTrace {
  from: ChannelSide;
  payload: Uint8Array;
  transactionId: bigint;
}

/**
 * The shared state of one channel: two rings and whether it is open. The channel statechart
 * opens and closes it; the endpoints read and write it.
 */
export class ChannelLink {
  readonly hostToGuest: VmbusRing;
  readonly guestToHost: VmbusRing;
  private isOpen = false;
  /** Set while a signal to that side is in flight and it has not drained its ring since. */
  private readonly signalPending: Record<ChannelSide, boolean> = { host: false, guest: false };
  onPacket: ((trace: PacketTrace) => void) | undefined;

  constructor(ringDataBytes: number = DEFAULT_RING_DATA_BYTES) {
    this.hostToGuest = new VmbusRing(ringDataBytes);
    this.guestToHost = new VmbusRing(ringDataBytes);
  }

  get open(): boolean {
    return this.isOpen;
  }
  setOpen(open: boolean): void {
    this.isOpen = open;
    if (!open) {
      this.hostToGuest.clear();
      this.guestToHost.clear();
      this.signalPending.host = false;
      this.signalPending.guest = false;
    }
  }

  /** Mark a signal to `side` as in flight; false if one already is (no need for another). */
  claimSignal(side: ChannelSide): boolean {
    if (this.signalPending[side]) return false;
    this.signalPending[side] = true;
    return true;
  }
  /** `side` is draining its inbound ring: a later write must signal it again. */
  drained(side: ChannelSide): void {
    this.signalPending[side] = false;
  }

  endpoint(side: ChannelSide, outbox: Outbox): ChannelEndpoint {
    return new ChannelEndpoint(this, side, outbox);
  }
}

/** Result of `send`: bytes written (> 0), or -1 for ENOSPC/EAGAIN, or 0 when the channel is closed. */
export type SendResult = number;

/** One side's view of a channel: its outbound ring for writing, its inbound ring for reading. */
export class ChannelEndpoint {
  private readonly out: VmbusRing;
  private readonly in: VmbusRing;
  private readonly peer: ChannelSide;

  constructor(
    private readonly link: ChannelLink,
    readonly side: ChannelSide,
    private readonly outbox: Outbox,
  ) {
    this.out = side === 'host' ? link.hostToGuest : link.guestToHost;
    this.in = side === 'host' ? link.guestToHost : link.hostToGuest;
    this.peer = side === 'host' ? 'guest' : 'host';
  }

  get isOpen(): boolean {
    return this.link.open;
  }
  get outbound(): VmbusRing {
    return this.out;
  }
  get inbound(): VmbusRing {
    return this.in;
  }

  /** Room for a packet of `payloadBytes` in the outbound ring right now (no side effect). */
  hasRoomFor(payloadBytes: number): boolean {
    return this.link.open && this.out.fits(this.out.reserved + ringSpaceFor(payloadBytes));
  }

  /** QEMU vmbus_channel_reserve; on failure the reader will signal once room is freed. */
  reserve(payloadBytes: number): boolean {
    return this.link.open && this.out.reserve(payloadBytes);
  }

  /** Write one in-band packet and signal the peer (once per drain). */
  send(payload: Uint8Array, transactionId: bigint = 0n): SendResult {
    if (!this.link.open) return 0;
    if (!this.out.write(payload, transactionId)) return -1;
    this.link.onPacket?.({ from: this.side, payload, transactionId });
    if (this.link.claimSignal(this.peer)) this.outbox.post('channel', { type: 'channel.signal', from: this.side });
    return ringSpaceFor(payload.length);
  }

  /** Take the next inbound packet, if any. Call `receiveDone` after a batch. */
  receive(): RingPacket | undefined {
    if (!this.link.open) return undefined;
    this.link.drained(this.side);
    return this.in.pop();
  }

  /** The channel is open and a send of `payloadBytes` now would go out and leave room to reserve `nextPayloadBytes`. */
  hasRoomAfterSend(payloadBytes: number, nextPayloadBytes: number): boolean {
    return this.link.open && this.out.roomAfterWrite(payloadBytes, nextPayloadBytes);
  }

  /**
   * A receive now would take no packet, and the recv_done after it would free nothing and wake no
   * writer: reading the channel now changes nothing the peer can see (the device's loop runs two
   * handlers in one step on this; hv-balloon-device/event-loop.ts).
   */
  nothingToReceive(): boolean {
    return this.in.length === 0 && this.in.releaseIsNoop();
  }

  /** QEMU recv_done: publish the read index; signal the writer if it waits for room. Returns bytes freed. */
  receiveDone(): number {
    const { freed, wakeWriter } = this.in.releaseConsumed();
    if (wakeWriter && this.link.open) this.outbox.post('channel', { type: 'channel.signal', from: this.side });
    return freed;
  }
}
