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

/** A message to be posted later (Outbox.postWhenDue), until its time comes. */
export interface PendingPost {
  /** Its time has not come yet: it can still be called off. */
  readonly pending: boolean;
  /** Call it off (no effect once it has been posted). */
  cancel(): void;
  /**
   * Run `wake` right after the message is posted, from the same timer: the sender is woken at the
   * very place in the instant's order its own timer would have had (unless it is called off).
   */
  whenPosted(wake: () => void): void;
}

export interface Outbox {
  /** Deliver `event` to part `to` after `delayMs` of virtual time (0: next in order at this instant). */
  post<P extends PartId>(to: P, event: PartInbox[P], delayMs?: number): void;
  /**
   * Post `event` to `to` when `delayMs` of virtual time have passed, from a timer that fires then:
   * among the messages due at that instant it takes the place a post made from the sender's own
   * timer would (post(to, event, delayMs) would take its place now). Optional: a part that gets
   * an Outbox without it (a recording stub) uses a timer of its own and post().
   */
  postWhenDue?<P extends PartId>(to: P, event: PartInbox[P], delayMs: number): PendingPost;
  /** The virtual time now, in ms. */
  now(): number;
}
