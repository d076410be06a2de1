/**
 * Who sent an event that XState saw arrive from outside. The VM's parts post through the message
 * bus (actors/message-bus.ts), which delivers with `actor.send(event)` on the virtual clock, so
 * XState reports every such delivery with no source. The bus knows the sender and publishes each
 * delivery on `trace$` just before it sends, synchronously; a note taken there names the sender
 * of the very next delivery to that part:
 *
 *   vm.bus.trace$.subscribe((d) => notes.note(d.from, d.to, d.type));
 */
import type { ActorRefLike, ActorSystem, AnyActorRef, InspectionEvent } from 'xstate';
import { actorName } from './inspection-sanitizer';
export class SenderNotes {
  private last: { from: string; to: string; type: string } | undefined;

  /** The next event `type` delivered to `to` from outside any actor comes from `from`. */
  note(from: string, to: string, type: string): void {
    this.last = { from, to, type };
  }

  /** The sender noted for this delivery, if it is the one noted last; the note is used up. */
  take(to: string, type: string): string | undefined {
    const last = this.last;
    if (!last || last.to !== to || last.type !== type) return undefined;
    this.last = undefined;
    return last.from;
  }
}

/**
 * The event with the noted part as its source, for the live inspector (which links events by
 * actor session). Unchanged when it has a source, has no note, or the sender is no actor ('user').
 */
export function withNotedSender(event: InspectionEvent, senders: SenderNotes): InspectionEvent {
  if (event.type !== '@xstate.event' || event.sourceRef) return event;
  const from = senders.take(actorName(event.actorRef), event.event.type);
  if (from === undefined) return event;
  const system = (event.actorRef as ActorRefLike & { system?: ActorSystem<{ actors: Record<string, AnyActorRef> }> }).system;
  const sourceRef: ActorRefLike | undefined = system?.get(from);
  return sourceRef ? { ...event, sourceRef } : event;
}
