/**
 * Counting XState events through XState's inspection API: every event delivered to any actor of
 * the VM — sent, forwarded and delayed ones (`@xstate.event`) and events an actor raises for
 * itself, which XState processes from its internal queue without an `@xstate.event` (seen as a
 * `@xstate.microstep` on an event object the actor has not seen yet). Eventless transitions are
 * microsteps on the same event and count as microsteps, not events. So replacing `self.send` by
 * `raise` does not make the count smaller; only doing fewer steps does.
 */
import type { InspectionEvent } from 'xstate';

export class XStateEventCounter {
  /** Events delivered while counting. */
  events = 0;
  /** Of those, the ones that went through XState's system (`@xstate.event`: sent, forwarded, delayed), raised ones not. */
  sentEvents = 0;
  /** Microsteps (transitions taken, eventless ones included) while counting. */
  microsteps = 0;
  /** Events per part (the actor's systemId: device, guest, vcpu, channel, memctl, vm). */
  readonly byPart = new Map<string, number>();
  counting = false;
  /** Per actor, every event object it was given (an actor may be given a new one before it handles the last). */
  private readonly seenEvents = new Map<string, WeakSet<object>>();

  readonly inspect = (e: InspectionEvent): void => {
    if (e.type === '@xstate.event') {
      // Reported when sent: an actor that sends itself the next event while handling one reports
      // it before the microsteps of the one in hand, so remember all, not only the last.
      this.seen(e.actorRef.sessionId).add(e.event);
      if (this.counting) {
        this.count(e.actorRef);
        this.sentEvents++;
      }
    } else if (e.type === '@xstate.microstep') {
      const seen = this.seen(e.actorRef.sessionId);
      if (!seen.has(e.event)) {
        seen.add(e.event);
        if (this.counting) this.count(e.actorRef);
      }
      if (this.counting) this.microsteps++;
    }
  };

  private seen(sessionId: string): WeakSet<object> {
    let set = this.seenEvents.get(sessionId);
    if (set === undefined) this.seenEvents.set(sessionId, (set = new WeakSet<object>()));
    return set;
  }

  private count(actor: object): void {
    this.events++;
    const part = (actor as { systemId?: string }).systemId ?? 'other';
    this.byPart.set(part, (this.byPart.get(part) ?? 0) + 1);
  }
}
