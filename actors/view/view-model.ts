/**
 * The one data model of the live view, of recorded runs (`run --record`, `view run.json`) and of
 * the HTML report: a run is a list of timed ViewEvents (a part changed state, a message crossed,
 * memory moved, a warning, a step, a QMP event). What the screen shows at a virtual time — the
 * snapshot — is a fold of the events up to it (`snapshotAt`), so the live view, a replay scrubbed
 * back and the report all read the same thing the same way.
 */
import type { JsonValue } from '../../protocol/json';

/** The parts of a VM that are statecharts, in the order the view shows them. */
export const VIEW_PARTS = ['device', 'channel', 'guest', 'memctl', 'vcpu'] as const;
export type ViewPart = (typeof VIEW_PARTS)[number];

/** A DM packet as the view shows it when opened: decoded fields and the bytes. */
export interface ViewPacket {
  /** host: the device sent it; guest: the guest driver did. */
  dir: 'host' | 'guest';
  transId: number;
  size: number;
  /** The message as JSON (protocol/json.ts), or an error text for a malformed one. */
  fields: JsonValue;
  hex: string;
}

export type ViewEvent =
  /** A part's active states changed: `active` holds XState ids of every active state (leaves and their ancestors). */
  | { kind: 'state'; t: number; part: ViewPart; state: string; active: string[] }
  /** A message between two parts (the VM's bus), or a DM packet on the channel (`packet`). */
  | { kind: 'message'; t: number; from: string; to: string; type: string; packet?: ViewPacket }
  /** Memory, in bytes; null where the VM does not know it (no device, no status report yet). */
  | { kind: 'memory'; t: number; target: number | null; actual: number | null; available: number | null; committed: number | null; hotAdded: number | null }
  /** A QEMU warning (warn_report) of the device. */
  | { kind: 'warning'; t: number; text: string; repeat: number }
  /** A command from the scenario, the view's controls or its console, and its reply. */
  | { kind: 'step'; t: number; command: string; reply: string; ok: boolean }
  | { kind: 'qmp-event'; t: number; event: string; data?: JsonValue }
  | { kind: 'guest-log'; t: number; level: string; text: string }
  /** The device's counters (x-sim-counters' device part and the message counts), after each device state change. */
  | { kind: 'counters'; t: number; counters: JsonValue }
  /** The simulation stopped because a part threw (a bug): every later command reports it. */
  | { kind: 'failure'; t: number; text: string };

export type ViewEventKind = ViewEvent['kind'];

/** What GET /api/snapshot returns: the VM as it is at `virtualTimeMs`. */
export interface ViewSnapshot {
  virtualTimeMs: number;
  parts: Partial<Record<ViewPart, { state: string; active: string[] }>>;
  actualBytes: number | null;
  memory: { target: number | null; actual: number | null; available: number | null; committed: number | null; hotAdded: number | null } | null;
  counters: JsonValue | null;
  /** live: a running VM; replay: a recorded run. */
  mode: 'live' | 'replay';
  /** Live only: whether virtual time follows the wall clock now, and how fast. */
  clock?: { running: boolean; speed: number };
  runState?: string;
}

/** A recorded run: what `run --record` writes and `view run.json` reads. */
export interface ViewRecording {
  format: typeof RECORDING_FORMAT;
  version: 1;
  scenario: { name: string; description?: string; source?: string; untilMs: number };
  endMs: number;
  /** Events dropped in the middle of a very long run (see ViewLog); 0 normally. */
  omitted: number;
  events: ViewEvent[];
}

export const RECORDING_FORMAT = 'hv-balloon-sim-recording';

/** The VM at time `t`, folded from events in time order (those after `t` are ignored). */
export function snapshotAt(events: readonly ViewEvent[], t: number, mode: ViewSnapshot['mode']): ViewSnapshot {
  const snap: ViewSnapshot = { virtualTimeMs: t, parts: {}, actualBytes: null, memory: null, counters: null, mode };
  for (const e of events) {
    if (e.t > t) break;
    if (e.kind === 'state') snap.parts[e.part] = { state: e.state, active: e.active };
    else if (e.kind === 'memory') {
      snap.memory = { target: e.target, actual: e.actual, available: e.available, committed: e.committed, hotAdded: e.hotAdded };
      snap.actualBytes = e.actual;
    } else if (e.kind === 'counters') snap.counters = e.counters;
  }
  return snap;
}

/**
 * The events of a run, bounded: state, memory, step, warning and counters events are what a replay
 * needs to rebuild any moment, so they are kept (up to `keepMax`); the chatty rest (messages,
 * status-report events, guest log) keeps its first `chattyHead` and last `chattyTail`.
 */
export class ViewLog {
  private readonly kept: ViewEvent[] = [];
  private readonly chattyHead: ViewEvent[] = [];
  private chattyTail: ViewEvent[] = [];
  private omittedCount = 0;

  constructor(
    private readonly limits: { keepMax: number; chattyHead: number; chattyTail: number } = { keepMax: 200_000, chattyHead: 5_000, chattyTail: 20_000 },
  ) {}

  push(e: ViewEvent): void {
    if (e.kind === 'message' || e.kind === 'qmp-event' || e.kind === 'guest-log') {
      if (this.chattyHead.length < this.limits.chattyHead) this.chattyHead.push(e);
      else {
        this.chattyTail.push(e);
        // Trim in batches: an array shift per event would be quadratic.
        if (this.chattyTail.length > this.limits.chattyTail * 1.5) {
          const drop = this.chattyTail.length - this.limits.chattyTail;
          this.chattyTail = this.chattyTail.slice(drop);
          this.omittedCount += drop;
        }
      }
      return;
    }
    if (this.kept.length < this.limits.keepMax) this.kept.push(e);
    else this.omittedCount++;
  }

  get omitted(): number {
    return this.omittedCount;
  }

  /** Every kept event in time order (ties keep the order they came in). */
  events(): ViewEvent[] {
    const chatty = [...this.chattyHead, ...this.chattyTail];
    const out: ViewEvent[] = [];
    let i = 0;
    let j = 0;
    const kept = this.kept;
    while (i < kept.length || j < chatty.length) {
      if (j >= chatty.length || (i < kept.length && kept[i]!.t <= chatty[j]!.t)) out.push(kept[i++]!);
      else out.push(chatty[j++]!);
    }
    return out;
  }
}
