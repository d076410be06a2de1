/**
 * Watches a VM and turns what happens into ViewEvents (view-model.ts): each part's state (from its
 * actor's snapshots), the bus and DM packets, memory, QEMU's warnings, QMP events, the guest log.
 * Used by the live view server, by `run --record` and by the HTML report's collector. It only
 * reads the VM (subscriptions and queries); it never changes what the VM does.
 */
import type { AnyActorRef } from 'xstate';
import { decode } from '../../protocol/codec';
import { bytesToHex } from '../../protocol/hex';
import { messageToJson, type JsonValue } from '../../protocol/json';
import { PAGE_SIZE } from '../../protocol/constants';
import { deviceCounters, queryBalloon, type DeviceSnapshotLike } from '../../machines/hv-balloon-device/queries';
import { findMachine } from '../diagram/machine-registry';
import { describeStatechart, type ChartState } from '../diagram/statechart-diagram';
import { bigintReplacer, toQmpJson } from '../qmp/qmp-json';
import type { ScenarioStepResult } from '../scenario/scenario';
import type { Vm, VmTraceRecord } from '../vm/create-vm';
import { VIEW_PARTS, ViewLog, type ViewEvent, type ViewPart } from './view-model';

/** XState ids of every active state for a snapshot value, read against the machine's chart. */
export function activeStateIds(root: ChartState, value: unknown): string[] {
  const out: string[] = [];
  const visit = (state: ChartState, v: unknown): void => {
    if (typeof v === 'string') {
      const child = state.children.find((c) => c.key === v);
      if (child) out.push(child.id);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    for (const [key, sub] of Object.entries(v as Record<string, unknown>)) {
      const child = state.children.find((c) => c.key === key);
      if (!child) continue;
      out.push(child.id);
      visit(child, sub);
    }
  };
  visit(root, value);
  return out;
}

/** A part's state as one line: the device's QEMU state name; for the others, the active leaves' paths. */
function stateText(root: ChartState, active: readonly string[]): string {
  const byId = new Map<string, ChartState>();
  const walk = (s: ChartState): void => {
    byId.set(s.id, s);
    s.children.forEach(walk);
  };
  walk(root);
  const leaves = active.map((id) => byId.get(id)).filter((s): s is ChartState => s !== undefined && s.children.length === 0);
  // The device's states carry QEMU's names; elsewhere a leaf with its parent reads best (work.idle).
  return leaves.map((s) => (/^S_/.test(s.key) ? s.key : s.path.slice(-2).join('.'))).join(', ');
}

/** A value as plain JSON (bigints as their digits), so events can be sent and saved as they are. */
function plainJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value, bigintReplacer)) as JsonValue;
}

const CHARTS = new Map<ViewPart, ChartState>(
  VIEW_PARTS.map((part) => [part, describeStatechart(findMachine(part)!.machine).root] as const),
);

export interface ViewRecorderOptions {
  /** Keep the events in `log` (default true); false: only hand them to listeners (the report keeps its own digest). */
  keep?: boolean;
  /** A listener from the start, so it also gets the parts' first states and the first memory sample. */
  onEvent?: (e: ViewEvent) => void;
}

export class ViewRecorder {
  readonly log = new ViewLog();
  private readonly keep: boolean;
  private readonly listeners = new Set<(e: ViewEvent) => void>();
  private readonly lastState = new Map<ViewPart, string>();
  private lastMemory = '';
  private status: { available: number; committed: number } | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly vm: Vm,
    options: ViewRecorderOptions = {},
  ) {
    this.keep = options.keep ?? true;
    if (options.onEvent) this.listeners.add(options.onEvent);
    const trace = vm.trace$.subscribe((r) => this.onTrace(r));
    this.unsubscribe.push(() => trace.unsubscribe());
    for (const part of VIEW_PARTS) {
      const ref = vm.root.system.get(part) as AnyActorRef | undefined;
      if (!ref) continue;
      const sub = ref.subscribe({ next: (snapshot: { value: unknown }) => this.onSnapshot(part, snapshot.value), error: () => undefined });
      this.unsubscribe.push(() => sub.unsubscribe());
      this.onSnapshot(part, (ref.getSnapshot() as { value: unknown }).value);
    }
    this.sampleMemory();
  }

  /** Called with every new event (the live view streams them). */
  onEvent(listener: (e: ViewEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A command's result (scenario step, a control of the view, its console). */
  step(step: ScenarioStepResult | { at: number; command: string; reply: string; ok: boolean }): void {
    const command = typeof step.command === 'string' ? step.command : JSON.stringify(step.command);
    let reply: string;
    let ok: boolean;
    if ('ok' in step) {
      reply = step.reply;
      ok = step.ok;
    } else if (typeof step.reply === 'string') {
      reply = step.reply.trimEnd();
      ok = true;
    } else {
      reply = toQmpJson(step.reply);
      ok = !('error' in step.reply);
    }
    this.emit({ kind: 'step', t: step.at, command, reply, ok });
    this.sampleMemory();
  }

  /** Takes a memory sample now (after time passed without device activity). */
  sampleMemory(): void {
    const dev = this.device();
    const t = this.vm.now();
    const m = dev
      ? {
          // QEMU: target 0 means none was set yet.
          target: dev.context.target > 0 ? dev.context.target * PAGE_SIZE : null,
          actual: queryBalloon(dev).actual,
          available: this.status?.available ?? null,
          committed: this.status?.committed ?? null,
          hotAdded: (dev.context.ourRange?.added ?? 0) * PAGE_SIZE,
        }
      : { target: null, actual: null, available: null, committed: null, hotAdded: null };
    const key = JSON.stringify(m);
    if (key === this.lastMemory) return;
    this.lastMemory = key;
    this.emit({ kind: 'memory', t, ...m });
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.listeners.clear();
  }

  private device(): DeviceSnapshotLike | undefined {
    try {
      return (this.vm.root.system.get('device') as AnyActorRef | undefined)?.getSnapshot() as DeviceSnapshotLike | undefined;
    } catch {
      return undefined;
    }
  }

  private emit(e: ViewEvent): void {
    if (this.keep) this.log.push(e);
    for (const l of this.listeners) l(e);
  }

  private onSnapshot(part: ViewPart, value: unknown): void {
    const key = JSON.stringify(value);
    if (this.lastState.get(part) === key) return;
    this.lastState.set(part, key);
    const root = CHARTS.get(part)!;
    const active = activeStateIds(root, value);
    this.emit({ kind: 'state', t: this.vm.now(), part, state: stateText(root, active), active });
    if (part === 'device') {
      const dev = this.device();
      if (dev) {
        const counters = { ...deviceCounters(dev), messages: this.vm.messageCounts() };
        this.emit({ kind: 'counters', t: this.vm.now(), counters: plainJson(counters) });
      }
      this.sampleMemory();
    }
  }

  private onTrace(r: VmTraceRecord): void {
    switch (r.kind) {
      case 'bus':
        // DM packets are shown once, as packets (below); the bus's channel hops would repeat them.
        this.emit({ kind: 'message', t: r.time, from: r.from, to: r.to, type: r.type });
        return;
      case 'packet': {
        let fields: JsonValue;
        try {
          fields = messageToJson(decode(r.payload));
        } catch (err) {
          fields = `(malformed: ${(err as Error).message})`;
        }
        this.emit({
          kind: 'message',
          t: r.time,
          from: r.from === 'host' ? 'device' : 'guest',
          to: r.from === 'host' ? 'guest' : 'device',
          type: r.type,
          packet: { dir: r.from, transId: r.transId, size: r.size, fields, hex: bytesToHex(r.payload) },
        });
        return;
      }
      case 'device':
        if (r.event.type === 'warning') this.emit({ kind: 'warning', t: r.time, text: r.event.text, repeat: r.event.repeat });
        else if (r.event.type === 'trace') this.sampleMemory();
        return;
      case 'guest': {
        const e = r.event;
        if (e.type === 'misbehaviour') this.emit({ kind: 'guest-log', t: r.time, level: 'misbehaviour', text: e.text });
        else this.emit({ kind: 'guest-log', t: r.time, level: e.level, text: e.text });
        return;
      }
      case 'qmp-event': {
        const { event, data } = r.event;
        // u64s above 2^53 - 1 come as bigints (QMP prints them exactly); in view events, as digit strings.
        const isU64 = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
        if (event === 'HV_BALLOON_STATUS_REPORT' && isU64(data?.available) && isU64(data?.committed)) {
          this.status = { available: Number(data.available), committed: Number(data.committed) };
        }
        if (event === 'RESET') this.status = null;
        this.emit({ kind: 'qmp-event', t: r.time, event, ...(data === undefined ? {} : { data: plainJson(data) }) });
        this.sampleMemory();
        return;
      }
      case 'failure':
        this.emit({ kind: 'failure', t: r.time, text: r.message });
        return;
    }
  }
}
