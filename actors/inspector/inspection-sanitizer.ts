/**
 * Makes XState inspection events fit for the live inspector. The parts keep big mutable models
 * (page-range trees, memory views, the outbox) in their context; the Stately inspector would
 * serialize all of it on every snapshot, and later (it converts on a setTimeout), after the
 * simulation has moved on. So each event is reduced here, at the moment it happens, to plain
 * JSON-sized data: class instances become "[ClassName]", actor refs "[actor name]", byte arrays
 * a short hex preview, and deep or long structures are cut.
 *
 * Pure; loaded by specs. The ESM-only inspector package is never imported here.
 */
import type { ActorRefLike, AnyEventObject, InspectionEvent, Snapshot } from 'xstate';

export interface SanitizeLimits {
  /** Nesting kept below the context (or event) object. */
  depth: number;
  /** Items kept per array and keys per object. */
  items: number;
  /** Characters kept per string. */
  chars: number;
  /** Bytes shown in a byte-array preview. */
  bytes: number;
}

export const DEFAULT_SANITIZE_LIMITS: SanitizeLimits = { depth: 4, items: 50, chars: 200, bytes: 32 };

/** What we read of an actor ref at run time (XState's Actor has all of these). */
interface ActorFacts {
  sessionId: string;
  id?: string;
  systemId?: string;
  logic?: { config?: { id?: unknown } };
  _parent?: { sessionId: string };
}

function facts(ref: ActorRefLike): ActorFacts {
  return ref as unknown as ActorFacts;
}

/**
 * The name users know an actor by: its systemId (the VM's part names: device, channel, guest,
 * memctl, vcpu), else its id, else the id of its machine.
 */
export function actorName(ref: ActorRefLike): string {
  const actor = facts(ref);
  if (typeof actor.systemId === 'string' && actor.systemId !== '') return actor.systemId;
  if (typeof actor.id === 'string' && actor.id !== '' && actor.id !== actor.sessionId) return actor.id;
  const machineId = actor.logic?.config?.id;
  return typeof machineId === 'string' && machineId !== '' ? machineId : actor.sessionId;
}

function isActorRef(value: object): value is ActorRefLike {
  const v = value as Partial<ActorFacts> & { send?: unknown };
  return typeof v.sessionId === 'string' && typeof v.send === 'function';
}

function hexPreview(bytes: Uint8Array, limit: number): string {
  const shown = Array.from(bytes.subarray(0, limit), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `[Uint8Array ${bytes.length} bytes: ${shown}${bytes.length > limit ? ' …' : ''}]`;
}

/** A JSON-safe, size-bounded copy of `value`. */
export function sanitizeValue(value: unknown, limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS, depth = 0): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') return value.length > limits.chars ? `${value.slice(0, limits.chars)}…` : value;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'undefined') return undefined;
  if (typeof value === 'function') return '[function]';
  if (typeof value === 'symbol') return value.toString();
  if (value instanceof Uint8Array) return hexPreview(value, limits.bytes);
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (isActorRef(value)) return `[actor ${actorName(value)}]`;
  if (Array.isArray(value)) {
    if (depth >= limits.depth) return `[Array(${value.length})]`;
    const kept = value.slice(0, limits.items).map((item) => sanitizeValue(item, limits, depth + 1));
    if (value.length > limits.items) kept.push(`… ${value.length - limits.items} more`);
    return kept;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // A model object (range tree, memory view, outbox, clock…): named, not dumped.
    const name = (value as object).constructor?.name;
    return `[${name && name !== 'Object' ? name : 'object'}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (depth >= limits.depth) return `[object with ${entries.length} keys]`;
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, limits.items)) out[key] = sanitizeValue(item, limits, depth + 1);
  if (entries.length > limits.items) out['…'] = `${entries.length - limits.items} more keys`;
  return out;
}

/** The snapshot as the inspector shows it: state value, status and a bounded copy of the context. */
export function sanitizeSnapshot(snapshot: Snapshot<unknown>, limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS): Snapshot<unknown> {
  const raw = snapshot as Snapshot<unknown> & { value?: unknown; context?: unknown; children?: Record<string, unknown>; tags?: Iterable<string> };
  const out: Record<string, unknown> = { status: raw.status };
  if ('value' in raw) out.value = raw.value;
  if ('context' in raw) out.context = sanitizeValue(raw.context, limits);
  if (raw.children) {
    out.children = Object.fromEntries(Object.entries(raw.children).map(([k, child]) => [k, sanitizeValue(child, limits)]));
  }
  if (raw.tags) out.tags = Array.from(raw.tags);
  if (raw.status === 'done' && 'output' in raw) out.output = sanitizeValue(raw.output, limits);
  if (raw.status === 'error' && 'error' in raw) out.error = String(raw.error);
  return out as unknown as Snapshot<unknown>;
}

export function sanitizeEvent(event: AnyEventObject, limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS): AnyEventObject {
  const copy = sanitizeValue(event, limits) as Record<string, unknown>;
  return { ...copy, type: event.type };
}

/**
 * A stand-in for an actor ref carrying what the inspector reads: session ids (for links), the
 * machine definition (for its diagram), the actor's name (systemId first) and its snapshot.
 * XState reports a new actor before it sets the actor's systemId and first snapshot, so the
 * name and the snapshot of a new actor are read when the inspector converts the event (as the
 * inspector itself does); snapshots of later events are passed in, taken when they happen.
 */
function standIn(ref: ActorRefLike, limits: SanitizeLimits): ActorRefLike {
  const actor = facts(ref);
  return {
    sessionId: actor.sessionId,
    get id(): string {
      return actorName(ref);
    },
    get systemId(): string | undefined {
      return facts(ref).systemId;
    },
    // The definition draws the chart; a static initial context in it could be a whole model.
    logic: actor.logic?.config ? { config: { ...actor.logic.config, context: undefined } } : actor.logic,
    _parent: actor._parent ? { sessionId: actor._parent.sessionId } : undefined,
    send: () => undefined,
    getSnapshot: () => {
      const snapshot = ref.getSnapshot() as Snapshot<unknown> | undefined;
      return snapshot ? sanitizeSnapshot(snapshot, limits) : { status: 'active' };
    },
  } as unknown as ActorRefLike;
}

/**
 * The event to hand to the Stately inspector, reduced now; undefined for kinds its adapter drops
 * anyway (microsteps, actions), which saves a deferred conversion per event.
 */
export function prepareForInspector(event: InspectionEvent, limits: SanitizeLimits = DEFAULT_SANITIZE_LIMITS): InspectionEvent | undefined {
  switch (event.type) {
    case '@xstate.actor':
      return { ...event, actorRef: standIn(event.actorRef, limits) };
    case '@xstate.event':
      return {
        ...event,
        event: sanitizeEvent(event.event, limits),
        actorRef: standIn(event.actorRef, limits),
        sourceRef: event.sourceRef ? standIn(event.sourceRef, limits) : undefined,
      };
    case '@xstate.snapshot':
      return {
        ...event,
        event: sanitizeEvent(event.event, limits),
        snapshot: sanitizeSnapshot(event.snapshot, limits),
        actorRef: standIn(event.actorRef, limits),
      };
    default:
      return undefined;
  }
}
