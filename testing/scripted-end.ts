/**
 * One end of the DM channel driven by a test instead of a statechart: it reads every packet the
 * other end wrote (decoded when the bytes decode, kept raw either way), answers the ones a script
 * asked it to, and writes DM messages or raw bytes into its outbound ring. The device testbed's
 * guest and the guest testbed's host are both one of these.
 */
import type { VirtualClock } from '../actors/virtual-clock';
import type { ChannelEndpoint } from '../machines/vmbus-ring';
import { decode, encode } from '../protocol/codec';
import type { DmMessage, DmMessageOf, DmMessageTypeName } from '../protocol/messages';

/** A packet this end read from its inbound ring. */
export interface ReceivedPacket {
  /** Virtual ms at which it was read. */
  timeMs: number;
  /** The payload (the DM message's bytes, without VMBus framing). */
  bytes: Uint8Array;
  /** The decoded message, or undefined when the bytes do not decode (`error` says why). */
  message: DmMessage | undefined;
  error: string | undefined;
}

/** Answers one message type: called with the message and the end, it may send() replies. */
export type Responder<T extends DmMessageTypeName, End> = (message: DmMessageOf<T>, end: End) => void;

export abstract class ScriptedEnd<Self extends ScriptedEnd<Self>> {
  /** Everything read so far, in order. */
  readonly received: ReceivedPacket[] = [];
  /** Read the inbound ring whenever the other side signals (off: let it fill up, then drain()). */
  autoRead = true;
  private readonly responders = new Map<DmMessageTypeName, (message: DmMessage, end: Self) => void>();

  protected constructor(
    /** This end of the channel (machines' ChannelEndpoint): rings, signalling. */
    readonly endpoint: ChannelEndpoint,
    protected readonly clock: VirtualClock,
  ) {}

  /** Write one DM message (encoded) or raw bytes into the outbound ring; the endpoint's result (> 0 written, -1 full, 0 closed). */
  send(message: DmMessage | Uint8Array): number {
    if (message instanceof Uint8Array) return this.endpoint.send(message, 0n);
    return this.endpoint.send(encode(message), BigInt(message.transId));
  }

  /** From now on, answer every message of `type` with `responder` (replaces an earlier one for that type). */
  respond<T extends DmMessageTypeName>(type: T, responder: Responder<T, Self>): this {
    this.responders.set(type, responder as (message: DmMessage, end: Self) => void);
    return this;
  }

  /** Read everything in the inbound ring now (freeing ring room, which may wake the other side); returns what was read. */
  drain(): ReceivedPacket[] {
    const got: ReceivedPacket[] = [];
    for (let p = this.endpoint.receive(); p; p = this.endpoint.receive()) {
      const entry: ReceivedPacket = { timeMs: this.clock.now(), bytes: p.payload, message: undefined, error: undefined };
      try {
        entry.message = decode(p.payload);
      } catch (err) {
        entry.error = err instanceof Error ? err.message : String(err);
      }
      got.push(entry);
    }
    this.endpoint.receiveDone();
    for (const entry of got) {
      this.received.push(entry);
      if (entry.message) this.answer(entry.message);
    }
    return got;
  }

  /** The decoded messages of one type read so far, in order. */
  messages<T extends DmMessageTypeName>(type: T): DmMessageOf<T>[] {
    return this.received.flatMap((r) => (r.message?.type === type ? [r.message as DmMessageOf<T>] : []));
  }

  /** The last decoded message read (of `type`, if given). */
  last<T extends DmMessageTypeName>(type: T): DmMessageOf<T> | undefined;
  last(): DmMessage | undefined;
  last(type?: DmMessageTypeName): DmMessage | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const m = this.received[i].message;
      if (m && (type === undefined || m.type === type)) return m;
    }
    return undefined;
  }

  /** A built-in answer (the handshake), before the script's responder. */
  protected answerBuiltIn(_message: DmMessage): void {}

  private answer(message: DmMessage): void {
    this.answerBuiltIn(message);
    this.responders.get(message.type)?.(message, this as unknown as Self);
  }
}
