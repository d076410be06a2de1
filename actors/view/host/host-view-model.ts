/**
 * The host view's data: what the host overview page draws (the host's memory over time, one row per
 * VM, the policy's decisions with their reasons), for a live host and a recorded one alike.
 *
 * Bounded whatever the host's size or the run's length, and nothing per guest page: the host is
 * sampled on the virtual clock (every VM's assigned, demand, target and paged bytes; the host's
 * free, assigned, resident and demand), one sample per `periodMs`, at most `capacity` samples; when
 * full, every other sample goes and the period doubles (a 100-VM day ends with 512..1024 samples at
 * a 128 s period). Samples sit at multiples of the period, so the data depends on virtual time
 * only: the same scenario and seed give the same overview, live or recorded, at any speed.
 * Decisions keep their first `head` and last `tail` (ViewLog's rule); the page draws at most a few
 * hundred points per series (`overviewAt` picks every n-th sample).
 */

/** The host's series, in the order a sample holds them. */
export const HOST_SERIES = ['freeBytes', 'assignedBytes', 'residentBytes', 'demandBytes'] as const;
/** Each VM's series, in the order a sample holds them; demand is null before the VM's first status report. */
export const VM_SERIES = ['assignedBytes', 'demandBytes', 'targetBytes', 'pagedBytes'] as const;
export type HostSeriesName = (typeof HOST_SERIES)[number];
export type VmSeriesName = (typeof VM_SERIES)[number];

export interface HostViewVmInfo {
  name: string;
  deviceModel: string;
  minimumBytes: number;
  maximumBytes: number;
  weight: number;
  bufferPercent: number;
}

export interface HostViewInfo {
  name: string;
  description?: string;
  source?: string;
  memoryBytes: number;
  reserveBytes: number;
  policy: string;
  /** The scenario's end (the live view pauses there). */
  untilMs: number;
  vms: HostViewVmInfo[];
}

/** One sample: the host's values (HOST_SERIES order) and each VM's (VM_SERIES order, VMs in info order). */
export interface HostViewSample {
  t: number;
  host: number[];
  vms: (number | null)[][];
  policyState: string;
}

/** A target the host set and why (a policy decision or a scenario step). */
export interface HostViewDecision {
  t: number;
  vm: string;
  fromBytes: number;
  toBytes: number;
  reason: string;
  by: 'policy' | 'step';
}

/** A scenario step's reply, a rejected policy decision, or the view's own note (the end of the scenario). */
export interface HostViewNote {
  t: number;
  vm?: string;
  text: string;
  ok: boolean;
}

/** What GET /api/host returns: the host at `t`, its series up to `t` (at most `points` each), every VM's row. */
export interface HostOverview {
  mode: 'live' | 'replay';
  info: HostViewInfo;
  /** The time shown, and the newest time there is (live: virtual time now; replay: the run's end). */
  t: number;
  nowMs: number;
  clock: { running: boolean; speed: number } | null;
  periodMs: number;
  policyState: string;
  host: { times: number[]; series: Record<HostSeriesName, number[]>; now: Record<HostSeriesName, number> | null };
  vms: {
    times: number[];
    rows: { name: string; now: Record<VmSeriesName, number | null> | null; series: Record<VmSeriesName, (number | null)[]>; lastDecision: HostViewDecision | null; decisions: number }[];
  };
  /** The newest decisions up to `t` (newest last); `total`: how many are kept up to `t`; `omitted`: dropped from the middle of a long run. */
  decisions: { shown: HostViewDecision[]; total: number; omitted: number };
  notes: HostViewNote[];
}

export interface HostViewLimits {
  /** Samples kept (even; when passed, halved). */
  capacity: number;
  /** Decisions kept from the start and from the end. */
  head: number;
  tail: number;
}

export const DEFAULT_HOST_VIEW_LIMITS: HostViewLimits = { capacity: 1024, head: 2_000, tail: 20_000 };

/** What a recording saves (`overview` in a recorded host run). */
export interface HostViewModelJson {
  info: HostViewInfo;
  periodMs: number;
  times: number[];
  host: number[][];
  /** Per VM, per series: the values (null: not known). */
  vms: (number | null)[][][];
  tail: HostViewSample | null;
  policyStates: { t: number; state: string }[];
  decisions: HostViewDecision[];
  omittedDecisions: number;
  notes: HostViewNote[];
}

export class HostViewModel {
  private periodMs: number;
  private times: number[] = [];
  /** host[series][i] */
  private host: number[][];
  /** vms[vm][series][i] */
  private vms: (number | null)[][][];
  /** The newest sample when it is off the grid (the end of a run, the live "now"). */
  private tail: HostViewSample | null = null;
  private policyStates: { t: number; state: string }[] = [];
  private readonly decisionHead: HostViewDecision[] = [];
  private decisionTail: HostViewDecision[] = [];
  private omitted = 0;
  private notes: HostViewNote[] = [];
  private readonly vmIndex: Map<string, number>;

  constructor(
    readonly info: HostViewInfo,
    basePeriodMs: number,
    private readonly limits: HostViewLimits = DEFAULT_HOST_VIEW_LIMITS,
  ) {
    if (!(basePeriodMs > 0)) throw new RangeError(`periodMs: expected a time > 0, got ${basePeriodMs}`);
    if (limits.capacity < 2 || limits.capacity % 2 !== 0) throw new RangeError(`capacity: expected an even number >= 2, got ${limits.capacity}`);
    this.periodMs = basePeriodMs;
    this.host = HOST_SERIES.map(() => []);
    this.vms = info.vms.map(() => VM_SERIES.map(() => []));
    this.vmIndex = new Map(info.vms.map((v, i) => [v.name, i]));
  }

  /** When the next grid sample is due. */
  nextSampleAt(): number {
    return this.times.length === 0 ? 0 : this.times[this.times.length - 1]! + this.periodMs;
  }

  get samplePeriodMs(): number {
    return this.periodMs;
  }

  get sampleCount(): number {
    return this.times.length;
  }

  /** A grid sample (taken at nextSampleAt()); halves the resolution when past capacity. */
  addSample(s: HostViewSample): void {
    this.times.push(s.t);
    s.host.forEach((v, k) => this.host[k]!.push(v));
    s.vms.forEach((row, i) => row.forEach((v, k) => this.vms[i]![k]!.push(v)));
    this.notePolicyState(s.t, s.policyState);
    if (this.tail && this.tail.t <= s.t) this.tail = null;
    if (this.times.length > this.limits.capacity) this.compact();
  }

  /** The newest state when it is between grid samples; replaced by the next one. */
  setTail(s: HostViewSample): void {
    const last = this.times[this.times.length - 1];
    this.tail = last !== undefined && s.t <= last ? null : s;
    if (this.tail) this.notePolicyState(s.t, s.policyState);
  }

  addDecision(d: HostViewDecision): void {
    if (this.decisionHead.length < this.limits.head) {
      this.decisionHead.push(d);
      return;
    }
    this.decisionTail.push(d);
    // Trim in batches: a shift per decision would be quadratic.
    if (this.decisionTail.length > this.limits.tail * 1.5) {
      const drop = this.decisionTail.length - this.limits.tail;
      this.decisionTail = this.decisionTail.slice(drop);
      this.omitted += drop;
    }
  }

  addNote(n: HostViewNote): void {
    this.notes.push(n);
    if (this.notes.length > 2 * this.limits.head) this.notes = this.notes.slice(-this.limits.head);
  }

  decisions(): HostViewDecision[] {
    return [...this.decisionHead, ...this.decisionTail];
  }

  /**
   * The host at `t` (default: the newest sample): the series up to it, every `n`-th sample so that
   * at most `points` (host chart) and `rowPoints` (each VM's row) remain, the newest always last.
   */
  overviewAt(
    t: number | undefined,
    options: { points?: number; rowPoints?: number; decisions?: number; mode: HostOverview['mode']; nowMs: number; clock?: HostOverview['clock'] },
  ): HostOverview {
    const at = t === undefined ? options.nowMs : Math.min(t, options.nowMs);
    const points = clampPoints(options.points ?? 400);
    const rowPoints = clampPoints(options.rowPoints ?? 120);
    const last = lastAtOrBefore(this.times, at);
    const tail = this.tail && this.tail.t <= at ? this.tail : null;
    const hostIdx = pick(last, points - (tail ? 1 : 0));
    const rowIdx = pick(last, rowPoints - (tail ? 1 : 0));
    const withTail = <T>(values: T[], idx: number[], tailValue: T | undefined): T[] => {
      const out = idx.map((i) => values[i] as T);
      if (tail) out.push(tailValue as T);
      return out;
    };
    const hostSeries = {} as Record<HostSeriesName, number[]>;
    HOST_SERIES.forEach((name, k) => (hostSeries[name] = withTail(this.host[k]!, hostIdx, tail?.host[k])));
    const hostNow = tail ? tail.host : last >= 0 ? this.host.map((col) => col[last]!) : null;
    const all = this.decisions();
    const upTo = countAtOrBefore(all, at);
    const latest = new Map<string, HostViewDecision>();
    const perVm = new Map<string, number>();
    for (let i = 0; i < upTo; i++) {
      const d = all[i]!;
      latest.set(d.vm, d);
      perVm.set(d.vm, (perVm.get(d.vm) ?? 0) + 1);
    }
    const rows = this.info.vms.map((vm, i) => {
      const series = {} as Record<VmSeriesName, (number | null)[]>;
      VM_SERIES.forEach((name, k) => (series[name] = withTail(this.vms[i]![k]!, rowIdx, tail?.vms[i]?.[k] ?? null)));
      const nowValues = tail ? tail.vms[i]! : last >= 0 ? this.vms[i]!.map((col) => col[last]!) : null;
      const now = nowValues ? (Object.fromEntries(VM_SERIES.map((name, k) => [name, nowValues[k] ?? null])) as Record<VmSeriesName, number | null>) : null;
      return { name: vm.name, now, series, lastDecision: latest.get(vm.name) ?? null, decisions: perVm.get(vm.name) ?? 0 };
    });
    const notes = this.notes.filter((n) => n.t <= at).slice(-100);
    return {
      mode: options.mode,
      info: this.info,
      t: at,
      nowMs: options.nowMs,
      clock: options.clock ?? null,
      periodMs: this.periodMs,
      policyState: this.policyStateAt(at),
      host: {
        times: withTail(this.times, hostIdx, tail?.t),
        series: hostSeries,
        now: hostNow ? (Object.fromEntries(HOST_SERIES.map((name, k) => [name, hostNow[k]!])) as Record<HostSeriesName, number>) : null,
      },
      vms: { times: withTail(this.times, rowIdx, tail?.t), rows },
      decisions: { shown: all.slice(Math.max(0, upTo - (options.decisions ?? 200)), upTo), total: upTo, omitted: this.omitted },
      notes,
    };
  }

  /** The VM's position in info.vms, or -1. */
  vmPosition(name: string): number {
    return this.vmIndex.get(name) ?? -1;
  }

  toJSON(): HostViewModelJson {
    return {
      info: this.info,
      periodMs: this.periodMs,
      times: this.times,
      host: this.host,
      vms: this.vms,
      tail: this.tail,
      policyStates: this.policyStates,
      decisions: this.decisions(),
      omittedDecisions: this.omitted,
      notes: this.notes,
    };
  }

  /** A model read back from a recording; throws RangeError naming the field that does not fit. */
  static fromJSON(json: HostViewModelJson, limits: HostViewLimits = DEFAULT_HOST_VIEW_LIMITS): HostViewModel {
    const fail = (field: string, want: string): never => {
      throw new RangeError(`overview.${field}: expected ${want}`);
    };
    if (typeof json !== 'object' || json === null) fail('', 'an object');
    if (!json.info || !Array.isArray(json.info.vms)) fail('info.vms', 'an array');
    if (!(json.periodMs > 0)) fail('periodMs', 'a time > 0');
    if (!Array.isArray(json.times)) fail('times', 'an array');
    const n = json.times.length;
    if (!Array.isArray(json.host) || json.host.length !== HOST_SERIES.length || json.host.some((col) => !Array.isArray(col) || col.length !== n)) fail('host', `${HOST_SERIES.length} series of ${n} values`);
    if (!Array.isArray(json.vms) || json.vms.length !== json.info.vms.length || json.vms.some((row) => !Array.isArray(row) || row.length !== VM_SERIES.length || row.some((col) => !Array.isArray(col) || col.length !== n))) {
      fail('vms', `${json.info.vms.length} VMs of ${VM_SERIES.length} series of ${n} values`);
    }
    if (!Array.isArray(json.decisions)) fail('decisions', 'an array');
    const model = new HostViewModel(json.info, json.periodMs, { ...limits, capacity: Math.max(limits.capacity, n + (n % 2)), head: Math.max(limits.head, json.decisions.length) });
    model.times = json.times;
    model.host = json.host;
    model.vms = json.vms;
    model.tail = json.tail ?? null;
    model.policyStates = Array.isArray(json.policyStates) ? json.policyStates : [];
    model.decisionHead.push(...json.decisions);
    model.omitted = typeof json.omittedDecisions === 'number' ? json.omittedDecisions : 0;
    model.notes = Array.isArray(json.notes) ? json.notes : [];
    return model;
  }

  private notePolicyState(t: number, state: string): void {
    const last = this.policyStates[this.policyStates.length - 1];
    if (last?.state === state) return;
    if (last && last.t === t) last.state = state;
    else this.policyStates.push({ t, state });
    if (this.policyStates.length > this.limits.tail) this.policyStates = this.policyStates.slice(-this.limits.head);
  }

  private policyStateAt(t: number): string {
    const i = countAtOrBefore(this.policyStates, t);
    return i > 0 ? this.policyStates[i - 1]!.state : '';
  }

  /** Keeps every other sample (the first, the third, ...: multiples of the doubled period) and doubles the period. */
  private compact(): void {
    const keep = (col: readonly (number | null)[]): (number | null)[] => col.filter((_, i) => i % 2 === 0);
    this.times = keep(this.times) as number[];
    this.host = this.host.map((col) => keep(col) as number[]);
    this.vms = this.vms.map((row) => row.map(keep));
    this.periodMs *= 2;
  }
}

function clampPoints(n: number): number {
  return Math.max(2, Math.min(5000, Math.floor(Number.isFinite(n) ? n : 2)));
}

/** The index of the last time <= t (times ascending), -1 when none. */
function lastAtOrBefore(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** How many of `items` (ascending t) are at or before t. */
function countAtOrBefore(items: readonly { t: number }[], t: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Indices 0..last, every n-th (multiples of n, so a point stays put as the run grows), at most `max`, `last` always in. */
function pick(last: number, max: number): number[] {
  if (last < 0) return [];
  const room = Math.max(1, max);
  const stride = Math.max(1, Math.ceil((last + 1) / room));
  const out: number[] = [];
  for (let i = 0; i <= last; i += stride) out.push(i);
  if (out[out.length - 1] !== last) {
    if (out.length >= room) out[out.length - 1] = last;
    else out.push(last);
  }
  return out;
}
