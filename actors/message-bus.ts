/**
 * The bus between the parts of a VM. XState's `sendTo` delivers synchronously and depth-first
 * (measured in xstate 5.33); the bus instead schedules every message on the virtual clock, so
 * delivery is ordered by (virtual time, send order) across the whole machine. Every delivery is
 * published on `trace$`, the base of traces, reports and the inspector.
 */
// Subject from its own module, not rxjs's index (~300 modules): every sweep worker and CLI start loads this.
import { Subject } from 'rxjs/internal/Subject';
import type { Outbox, PendingPost, PostedEvent } from '../machines/outbox';
import type { PartId, PartInbox } from '../machines/part-events';
import type { VirtualClock } from './virtual-clock';

/** Anything that takes events: an XState actor ref, or a plain function in a spec. */
export interface Receiver {
  send(event: PostedEvent): void;
}

/** One delivered message. `size` is the DM payload size when the event carries a packet. */
export interface BusDelivery {
  time: number;
  from: PartId | 'user';
  to: PartId;
  type: string;
  size?: number;
}

export class MessageBus {
  readonly trace$ = new Subject<BusDelivery>();
  private readonly receivers = new Map<PartId, Receiver>();
  private delivered = 0;

  constructor(readonly clock: VirtualClock) {}

  /** Attach the receiver of a part (the runtime calls this once the actor exists). */
  attach(part: PartId, receiver: Receiver): void {
    this.receivers.set(part, receiver);
  }

  detach(part: PartId): void {
    this.receivers.delete(part);
  }

  /** Messages delivered so far. */
  get deliveredCount(): number {
    return this.delivered;
  }

  /** Schedule `event` for `to` after `delayMs` of virtual time. */
  post<P extends PartId>(from: PartId | 'user', to: P, event: PartInbox[P], delayMs = 0): void {
    this.clock.setTimeout(() => this.deliver(from, to, event), delayMs);
  }

  /** Post `event` for `to` when `delayMs` have passed, from a timer that fires then (Outbox.postWhenDue). */
  postWhenDue<P extends PartId>(from: PartId | 'user', to: P, event: PartInbox[P], delayMs: number): PendingPost {
    let pending = true;
    let wake: (() => void) | undefined;
    const timer = this.clock.setTimeout(() => {
      pending = false;
      this.post(from, to, event, 0);
      wake?.();
    }, delayMs);
    return {
      get pending() {
        return pending;
      },
      cancel: () => {
        if (!pending) return;
        pending = false;
        this.clock.clearTimeout(timer);
      },
      whenPosted: (fn) => {
        wake = fn;
      },
    };
  }

  /** The Outbox a machine of part `from` posts through. */
  outboxFor(from: PartId): Outbox {
    return {
      post: (to, event, delayMs) => this.post(from, to, event, delayMs),
      postWhenDue: (to, event, delayMs) => this.postWhenDue(from, to, event, delayMs),
      now: () => this.clock.now(),
    };
  }

  private deliver(from: PartId | 'user', to: PartId, event: PostedEvent): void {
    const receiver = this.receivers.get(to);
    if (!receiver) return; // a part that is gone (stopped VM) drops its mail, like a detached device
    this.delivered++;
    if (this.trace$.observed) this.trace$.next({ time: this.clock.now(), from, to, type: event.type });
    receiver.send(event);
  }
}
