/**
 * How a machine talks to the other parts without doing I/O itself: it posts an event to a part
 * by systemId. The runtime's message bus (actors/message-bus.ts) implements this and delivers on
 * the virtual clock, ordered by (due time, send order); a spec can pass a recording stub.
 */
import type { PartId, PartInbox } from './part-events';

/** Any event a part can receive. */
export interface PostedEvent {
  type: string;
}

export interface Outbox {
  /** Deliver `event` to part `to` after `delayMs` of virtual time (0: next in order at this instant). */
  post<P extends PartId>(to: P, event: PartInbox[P], delayMs?: number): void;
  /** The virtual time now, in ms. */
  now(): number;
}
