/**
 * Collects what an HTML report shows while `runScenario` runs: it reads the VM's trace records
 * (DM packets, device state changes and warnings, guest log lines, QMP events) and samples the
 * balloon's `actual` and the guest's memory as virtual time passes. Everything it keeps is bounded
 * (first and last rows of long lists, at most three points per chart column), so a run of hours
 * costs the same memory as a run of seconds.
 *
 * Usage: `const c = new ReportCollector(scenario); const r = runScenario(scenario, c.wrap(options));
 * renderHtmlReport(c.finish(r))`.
 */
import { isStateName, type HvBalloonStateName } from '../../machines/hv-balloon-device/states';
import { PAGE_SIZE } from '../../protocol/constants';
import { decode } from '../../protocol/codec';
import { messageToJson, type JsonValue } from '../../protocol/json';
import { DM_MESSAGE_TYPE_NAMES } from '../../protocol/messages';
import type { RunScenarioOptions, Scenario, ScenarioResult } from '../scenario/scenario';
import type { Vm, VmTraceRecord } from '../vm/create-vm';
import {
  STATE_GROUPS,
  stateGroup,
  type BoundedRows,
  type PacketRow,
  type ReportData,
  type SeriesPoint,
  type StateGroup,
  type StateRun,
  type StateTimeline,
  type TimedText,
} from './report-data';

/** How much of a run a report keeps. */
export interface ReportLimits {
  /** DM packets shown from the start of the run, and from its end. */
  packetHead: number;
  packetTail: number;
  /** Rows of each log (QEMU warnings, guest log, QMP events): first ones and last ones. */
  logHead: number;
  logTail: number;
  /** Chart columns over the run's length; each keeps at most three points of each series (low, high, latest). */
  chartColumns: number;
  /** Device state stays drawn one by one; beyond this the strip shows one group per column. */
  stateRuns: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = {
  packetHead: 150,
  packetTail: 50,
  logHead: 150,
  logTail: 50,
  chartColumns: 600,
  stateRuns: 2000,
};

const MAX_FAILURES = 20;


interface RawPacket {
  time: number;
  from: 'host' | 'guest';
  type: string;
  size: number;
  transId: number;
  payload: Uint8Array;
}

export class ReportCollector {
  private readonly limits: ReportLimits;
  /** Virtual ms the x axis spans (the scenario's `until`, at least 1). */
  private readonly spanMs: number;
  private vm: Vm | undefined;
  private readonly actual: ChangeSeries;
  private readonly available: ColumnSeries;
  private readonly committed: ColumnSeries;
  private statusReportCount = 0;
  private readonly guestAvailable: ColumnSeries;
  private readonly guestCommitted: ColumnSeries;
  private readonly states: StateTracker;
  private sawDevice = false;
  private readonly packets: HeadTail<RawPacket>;
  private readonly counts = new Map<string, { hostToGuest: number; guestToHost: number }>();
  private readonly warnings: HeadTail<TimedText>;
  private readonly guestLog: HeadTail<TimedText>;
  private debugLines = 0;
  private readonly events: HeadTail<TimedText & { event: string }>;
  private readonly failures: TimedText[] = [];

  constructor(
    private readonly scenario: Scenario,
    limits: Partial<ReportLimits> = {},
  ) {
    this.limits = { ...DEFAULT_REPORT_LIMITS, ...limits };
    this.spanMs = Math.max(1, scenario.until);
    const columnMs = this.spanMs / this.limits.chartColumns;
    this.actual = new ChangeSeries(columnMs, this.limits.chartColumns);
    this.available = new ColumnSeries(columnMs, this.limits.chartColumns);
    this.committed = new ColumnSeries(columnMs, this.limits.chartColumns);
    this.guestAvailable = new ColumnSeries(columnMs, this.limits.chartColumns);
    this.guestCommitted = new ColumnSeries(columnMs, this.limits.chartColumns);
    this.states = new StateTracker(this.limits.stateRuns, columnMs, this.limits.chartColumns);
    this.packets = new HeadTail(this.limits.packetHead, this.limits.packetTail);
    this.warnings = new HeadTail(this.limits.logHead, this.limits.logTail);
    this.guestLog = new HeadTail(this.limits.logHead, this.limits.logTail);
    this.events = new HeadTail(this.limits.logHead, this.limits.logTail);
  }

  /** `options` with the collector's callbacks added (the caller's own still run, after them). */
  wrap(options: RunScenarioOptions = {}): RunScenarioOptions {
    return {
      ...options,
      onStart: (vm: Vm) => {
        this.vm = vm;
        options.onStart?.(vm);
      },
      onTrace: (record: VmTraceRecord) => {
        this.onTrace(record);
        options.onTrace?.(record);
      },
      onStep: (step) => {
        this.sample(step.at);
        options.onStep?.(step);
      },
      onProgress: (virtualMs: number, untilMs: number) => {
        this.sample(virtualMs);
        options.onProgress?.(virtualMs, untilMs);
      },
    };
  }

  /** The report's data, once the run has ended; call it before `vm.dispose()` (it takes a last sample). */
  finish(result: ScenarioResult): ReportData {
    const end = result.virtualTimeMs;
    this.sample(end);
    if (result.final.actualBytes !== null) this.actual.push(end, result.final.actualBytes);
    const data: ReportData = {
      scenario: {
        name: this.scenario.name,
        ...(this.scenario.description === undefined ? {} : { description: this.scenario.description }),
        ...(this.scenario.source === undefined ? {} : { source: this.scenario.source }),
        untilMs: this.scenario.until,
        vm: this.scenario.vm,
      },
      result,
      actual: this.actual.points(),
      statusReports: { available: this.available.points(), committed: this.committed.points(), count: this.statusReportCount },
      guestMemory: { available: this.guestAvailable.points(), committed: this.guestCommitted.points() },
      states: this.sawDevice || result.final.deviceState !== null ? this.states.finish(end) : null,
      packets: { ...mapRows(this.packets.rows(), packetRow), counts: this.packetCounts() },
      warnings: this.warnings.rows(),
      guestLog: { ...this.guestLog.rows(), debugLines: this.debugLines },
      events: this.events.rows(),
      failures: this.failures,
    };
    return data;
  }

  private onTrace(record: VmTraceRecord): void {
    switch (record.kind) {
      case 'device': {
        const e = record.event;
        this.sawDevice = true;
        if (e.type === 'warning') {
          this.warnings.push({ time: record.time, text: e.text, ...(e.repeat > 1 ? { tag: `x${e.repeat}` } : {}) });
        } else if (e.type === 'trace') {
          const to = e.args.to;
          if (e.name === 'hv_balloon_state_change' && typeof to === 'string' && isStateName(to)) {
            this.states.enter(to, record.time);
            // QEMU hv-balloon.c close_channel ("Don't report stale data"): the status lines break here.
            if (to === 'S_WAIT_RESET') {
              this.available.push(record.time, NaN);
              this.committed.push(record.time, NaN);
            }
          }
          // `actual` moves only when the device acts, and every device step leaves a trace point.
          this.sampleActual(record.time);
        }
        return;
      }
      case 'guest': {
        const e = record.event;
        if (e.type === 'misbehaviour') this.guestLog.push({ time: record.time, text: e.text, tag: 'misbehaviour' });
        else if (e.level === 'debug') this.debugLines++;
        else this.guestLog.push({ time: record.time, text: `hv_balloon: ${e.text}`, ...(e.level === 'info' ? {} : { tag: e.level }) });
        return;
      }
      case 'qmp-event': {
        const { event, data } = record.event;
        const committed = data?.committed;
        const available = data?.available;
        // Values above 2^53 - 1 arrive as bigints (QMP u64s); the chart needs numbers.
        const isU64 = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
        if (event === 'HV_BALLOON_STATUS_REPORT' && isU64(committed) && isU64(available)) {
          this.statusReportCount++;
          this.available.push(record.time, Number(available));
          this.committed.push(record.time, Number(committed));
        } else {
          this.events.push({ time: record.time, event, text: data === undefined ? '' : JSON.stringify(data) });
        }
        return;
      }
      case 'packet': {
        const { time, from, type, size, transId, payload } = record;
        this.packets.push({ time, from, type, size, transId, payload });
        const count = this.counts.get(type) ?? { hostToGuest: 0, guestToHost: 0 };
        if (from === 'host') count.hostToGuest++;
        else count.guestToHost++;
        this.counts.set(type, count);
        return;
      }
      case 'failure':
        if (this.failures.length < MAX_FAILURES) this.failures.push({ time: record.time, text: record.message });
        return;
      case 'bus':
        return;
    }
  }

  private sample(time: number): void {
    this.sampleActual(time);
    const vm = this.vm;
    if (!vm || vm.deviceState() === null) return;
    this.guestAvailable.push(time, vm.memory.availablePages() * PAGE_SIZE);
    this.guestCommitted.push(time, vm.memory.committedPages() * PAGE_SIZE);
  }

  private sampleActual(time: number): void {
    const vm = this.vm;
    if (vm && vm.deviceState() !== null) this.actual.push(time, vm.queryBalloon().actual);
  }

  private packetCounts(): Array<{ type: string; hostToGuest: number; guestToHost: number }> {
    const order = (type: string): number => {
      const i = (DM_MESSAGE_TYPE_NAMES as readonly string[]).indexOf(type);
      return i < 0 ? DM_MESSAGE_TYPE_NAMES.length : i;
    };
    return [...this.counts.entries()]
      .map(([type, c]) => ({ type, ...c }))
      .sort((a, b) => order(a.type) - order(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }
}

function mapRows<T, U>(rows: BoundedRows<T>, f: (row: T) => U): BoundedRows<U> {
  return { head: rows.head.map(f), tail: rows.tail.map(f), omitted: rows.omitted };
}

function packetRow(p: RawPacket): PacketRow {
  return { time: p.time, from: p.from, type: p.type, size: p.size, transId: p.transId, fields: packetFields(p.payload) };
}

/** A packet's body fields for a table cell: `transId` and `type` are columns of their own, page ranges are summed up. */
export function packetFields(payload: Uint8Array): string {
  let json: Record<string, JsonValue>;
  try {
    json = messageToJson(decode(payload));
  } catch (err) {
    return `(malformed: ${(err as Error).message})`;
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === 'type' || key === 'transId') continue;
    parts.push(`${key}=${fieldText(value)}`);
  }
  return parts.join(' ');
}

function fieldText(value: JsonValue): string {
  if (Array.isArray(value)) {
    if (value.every(isRange)) {
      const pages = value.reduce<number>((sum, r) => sum + (r as { pageCount: number }).pageCount, 0);
      const first = value[0] as { startPage: number; pageCount: number } | undefined;
      return `${value.length} (${pages} pages${first ? `, first ${rangeText(first)}` : ''})`;
    }
    return `[${value.length} entries]`;
  }
  if (isRange(value)) return rangeText(value as { startPage: number; pageCount: number });
  if (value !== null && typeof value === 'object') {
    if (typeof value.major === 'number' && typeof value.minor === 'number') return `${value.major}.${value.minor}`;
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${fieldText(v)}`)
      .join(' ')}}`;
  }
  return String(value);
}

function isRange(value: JsonValue): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.startPage === 'number' && typeof value.pageCount === 'number';
}

function rangeText(r: { startPage: number; pageCount: number }): string {
  return `${r.startPage}+${r.pageCount}`;
}

/** The first `headMax` items and the last `tailMax` items of a stream, and how many fell between. */
class HeadTail<T> {
  private readonly head: T[] = [];
  private readonly ring: T[] = [];
  private next = 0;
  private total = 0;

  constructor(
    private readonly headMax: number,
    private readonly tailMax: number,
  ) {}

  push(item: T): void {
    this.total++;
    if (this.head.length < this.headMax) this.head.push(item);
    else if (this.ring.length < this.tailMax) this.ring.push(item);
    else if (this.tailMax > 0) {
      this.ring[this.next] = item;
      this.next = (this.next + 1) % this.tailMax;
    }
  }

  rows(): BoundedRows<T> {
    const tail = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return { head: [...this.head], tail, omitted: this.total - this.head.length - tail.length };
  }
}

/**
 * A time series with at most three points per chart column: its lowest, its highest and its latest
 * (in the order they came), so a line through them spans what happened in the column and ends on
 * the true last value. A NaN value is a break in the line and is always kept.
 */
class ColumnSeries {
  private readonly done: SeriesPoint[] = [];
  private column = -1;
  private seq = 0;
  private kept: { min?: Kept; max?: Kept; last?: Kept } = {};

  constructor(
    private readonly columnMs: number,
    private readonly columns: number,
  ) {}

  push(time: number, value: number): void {
    if (Number.isNaN(value)) {
      this.flush();
      this.done.push([time, NaN]);
      return;
    }
    const column = Math.min(this.columns - 1, Math.floor(time / this.columnMs));
    if (column !== this.column) {
      this.flush();
      this.column = column;
    }
    const p: Kept = { time, value, seq: this.seq++ };
    const k = this.kept;
    if (!k.min || value < k.min.value) k.min = p;
    if (!k.max || value > k.max.value) k.max = p;
    k.last = p;
  }

  points(): SeriesPoint[] {
    return [...this.done, ...this.columnPoints()];
  }

  private flush(): void {
    this.done.push(...this.columnPoints());
    this.kept = {};
    this.column = -1;
  }

  private columnPoints(): SeriesPoint[] {
    const { min, max, last } = this.kept;
    const unique = [...new Set([min, max, last].filter((p): p is Kept => p !== undefined))];
    return unique.sort((a, b) => a.seq - b.seq).map((p) => [p.time, p.value] as const);
  }
}

interface Kept {
  time: number;
  value: number;
  seq: number;
}

/** A step series: a point only where the value changed. */
class ChangeSeries extends ColumnSeries {
  private last: number | undefined;

  override push(time: number, value: number): void {
    if (value === this.last) return;
    this.last = value;
    super.push(time, value);
  }
}

/** The device's stays in its states, from the hv_balloon_state_change trace points. */
class StateTracker {
  private current: { state: HvBalloonStateName; since: number } | undefined;
  private runs: StateRun[] | null = [];
  private readonly perState = new Map<HvBalloonStateName, { entries: number; ms: number }>();
  /** Milliseconds per column and group, flattened (column * groups + group index). */
  private readonly groupMs: Float64Array;

  constructor(
    private readonly maxRuns: number,
    private readonly columnMs: number,
    private readonly columns: number,
  ) {
    this.groupMs = new Float64Array(columns * STATE_GROUPS.length);
  }

  enter(state: HvBalloonStateName, time: number): void {
    this.close(time);
    this.current = { state, since: time };
    const s = this.perState.get(state) ?? { entries: 0, ms: 0 };
    s.entries++;
    this.perState.set(state, s);
  }

  finish(end: number): StateTimeline {
    this.close(end);
    this.current = undefined;
    const bins: Array<StateGroup | null> = [];
    for (let c = 0; c < this.columns; c++) {
      // The busiest group other than idle: a short balloon operation in a mostly idle column still shows.
      let best: StateGroup | null = null;
      let bestMs = 0;
      STATE_GROUPS.forEach((g, i) => {
        const ms = this.groupMs[c * STATE_GROUPS.length + i] ?? 0;
        if (g !== 'idle' && ms > bestMs) {
          best = g;
          bestMs = ms;
        }
      });
      const idleMs = this.groupMs[c * STATE_GROUPS.length + STATE_GROUPS.indexOf('idle')] ?? 0;
      bins.push(best ?? (idleMs > 0 ? 'idle' : null));
    }
    const perState = [...this.perState.entries()].map(([state, s]) => ({ state, group: stateGroup(state), entries: s.entries, ms: s.ms }));
    return { runs: this.runs, bins, perState };
  }

  private close(time: number): void {
    const cur = this.current;
    if (!cur) return;
    const run: StateRun = { state: cur.state, start: cur.since, end: time };
    this.perState.get(cur.state)!.ms += time - cur.since;
    if (this.runs && this.runs.length < this.maxRuns) this.runs.push(run);
    else this.runs = null;
    this.addToColumns(run);
  }

  private addToColumns(run: StateRun): void {
    if (run.end <= run.start) return;
    const g = STATE_GROUPS.indexOf(stateGroup(run.state));
    const first = Math.min(this.columns - 1, Math.floor(run.start / this.columnMs));
    const last = Math.min(this.columns - 1, Math.floor(run.end / this.columnMs));
    for (let c = first; c <= last; c++) {
      const from = Math.max(run.start, c * this.columnMs);
      const to = c === this.columns - 1 ? run.end : Math.min(run.end, (c + 1) * this.columnMs);
      if (to > from) this.groupMs[c * STATE_GROUPS.length + g] += to - from;
    }
  }
}
