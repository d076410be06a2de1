/**
 * What the host view server shows: a live host (LiveHostViewSource: the host's one virtual clock
 * follows the wall clock; run, pause, speed and step act on the whole host) or a recorded host run
 * (ReplayHostViewSource). Each VM's detail is the VM view of today (view-source.ts): a
 * LiveViewSource on the host's VM whose time controls move the host's clock, or the VM's own
 * recording. A live VM's detail starts recording when first opened (or from the start for the VMs
 * named up front): a VM nobody watches builds no view events, so a 100-VM host costs what the
 * overview samples and nothing more.
 */
import type { Host } from '../../host/create-host';
import type { HostScenario } from '../../host/host-config';
import type { HostStepResult } from '../../host/host-scenario';
import { QmpError, type QmpReply } from '../../qmp/qmp-types';
import { checkSpeed } from '../../qmp/qmp-commands';
import { followWallClock } from '../../virtual-clock';
import { MAX_VIRTUAL_MS, msToMicros } from '../../virtual-time';
import type { HostRecording } from '../host-recording';
import { LiveViewSource, ReplayViewSource, parseRecording, type ViewSource } from '../view-source';
import { HostViewModel, type HostOverview, type HostViewInfo, type HostViewLimits, type HostViewModelJson } from './host-view-model';
import { HostViewRecorder } from './host-view-recorder';

export interface OverviewQuery {
  t?: number;
  points?: number;
  rowPoints?: number;
}

export interface HostViewSource {
  readonly mode: 'live' | 'replay';
  readonly info: HostViewInfo;
  now(): number;
  overview(query?: OverviewQuery): HostOverview;
  /** The detail view of the VM called `name`; undefined when there is none. */
  vmSource(name: string): ViewSource | undefined;
  /** Host-wide time controls (x-sim-speed, x-sim-advance: answered once virtual time is there); undefined for a replay. */
  control?(request: unknown): Promise<QmpReply>;
  close(): void;
}

/** A step's slices: at most this much wall time, then the server gets a turn. */
const SLICE_MS = 25;
const FIRINGS_PER_CHECK = 512;

export class LiveHostViewSource implements HostViewSource {
  readonly mode = 'live' as const;
  readonly recorder: HostViewRecorder;
  private speed: number;
  private running: boolean;
  private readonly follower: ReturnType<typeof followWallClock>;
  private readonly details = new Map<string, LiveViewSource>();
  private readonly timers: ReturnType<Host['clock']['setTimeout']>[] = [];
  /** A step in progress: where it goes, and who waits for it. */
  private advance: { targetMs: number; waiters: Array<() => void>; immediate?: ReturnType<typeof setImmediate> } | undefined;
  private closed = false;

  constructor(
    private readonly host: Host,
    readonly info: HostViewInfo,
    options: {
      speed: number;
      paused?: boolean;
      /** The scenario's steps, run on their VMs at their times (as `qmp --host` runs them). */
      steps?: HostScenario['steps'];
      /** VMs whose detail records from the start. */
      watch?: string[];
      onStep?: (s: HostStepResult) => void;
      /** The overview's bounds (host-view-model.ts DEFAULT_HOST_VIEW_LIMITS). */
      limits?: HostViewLimits;
    },
  ) {
    this.speed = options.speed;
    this.running = options.paused !== true;
    this.recorder = new HostViewRecorder(host, info, options.limits ? { limits: options.limits } : {});
    for (const name of options.watch ?? []) this.vmSource(name);
    for (const step of options.steps ?? []) {
      this.timers.push(
        host.clock.setTimeout(() => {
          const reply = host.runStep(step);
          const result: HostStepResult = { at: step.at, vm: step.vm, command: 'hmp' in step ? step.hmp : step.qmp, reply };
          this.recorder.step(result);
          this.details.get(step.vm)?.recorder.step(result);
          options.onStep?.(result);
        }, step.at),
      );
    }
    if (info.untilMs > 0) {
      // The scenario's end: pause there, so the user sees the final state and can go on with run.
      this.timers.push(
        host.clock.setTimeout(() => {
          this.setSpeed(0);
          this.recorder.note(`the scenario ends at ${info.untilMs / 1000} s: virtual time paused; press run to go on`);
        }, info.untilMs),
      );
    }
    this.follower = followWallClock(host.clock, { speed: this.speed, tickMs: 20 });
    if (!this.running) this.follower.pause();
  }

  now(): number {
    return this.host.now();
  }

  overview(query: OverviewQuery = {}): HostOverview {
    this.recorder.catchUp();
    return this.recorder.model.overviewAt(query.t, { ...query, mode: 'live', nowMs: this.host.now(), clock: this.clock() });
  }

  vmSource(name: string): LiveViewSource | undefined {
    let source = this.details.get(name);
    if (source) return source;
    const vm = this.host.vms.find((v) => v.name === name);
    if (!vm) return undefined;
    source = new LiveViewSource(vm.vm, { name: `${this.info.name}: ${name}`, ...(this.info.source ? { source: this.info.source } : {}), untilMs: 0 }, {
      speed: this.speed,
      // The VM's page moves the host's one clock: its run, pause and step are the host's.
      external: {
        hooks: { setSpeed: (speed) => this.setSpeed(speed), onTimeJump: () => this.onTimeJump() },
        afterCommand: () => undefined,
        clock: () => this.clock(),
        advance: (targetMs) => void this.advanceTo(targetMs),
      },
    });
    this.details.set(name, source);
    return source;
  }

  async control(request: unknown): Promise<QmpReply> {
    const r = request as { execute?: unknown; arguments?: Record<string, unknown> } | null;
    try {
      if (r?.execute === 'x-sim-speed') {
        const speed = r.arguments?.speed;
        if (typeof speed !== 'number') throw new QmpError('GenericError', "Parameter 'speed' expects a non-negative number");
        checkSpeed(speed);
        this.setSpeed(speed);
        return { return: {} };
      }
      if (r?.execute === 'x-sim-advance') {
        const ms = r.arguments?.ms;
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new QmpError('GenericError', `Parameter 'ms' expects a time >= 0, got ${JSON.stringify(ms)}`);
        const from = this.advance?.targetMs ?? this.host.now();
        if (from + ms > MAX_VIRTUAL_MS) throw new QmpError('GenericError', `Parameter 'ms' would take virtual time past ${MAX_VIRTUAL_MS} ms (about 285 years, the clock's range), got ${ms}`);
        await this.advanceTo(from + ms);
        return { return: { ms: this.host.now() } };
      }
      throw new QmpError('CommandNotFound', `The host view takes x-sim-speed and x-sim-advance; ${JSON.stringify(r?.execute)} goes to a VM (open its detail)`);
    } catch (err) {
      if (err instanceof QmpError) return { error: { class: err.errorClass, desc: err.desc } };
      throw err;
    }
  }

  /**
   * Moves the whole host to `targetMs` in slices of at most SLICE_MS of wall time, so that the
   * server keeps answering (the page shows the host on its way) however long the step is for a big
   * host; resolves there. A clock run in slices fires exactly what one call would (virtual-clock.ts).
   */
  advanceTo(targetMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.advance) {
        this.advance.targetMs = Math.max(this.advance.targetMs, targetMs);
        this.advance.waiters.push(resolve);
        return;
      }
      this.advance = { targetMs, waiters: [resolve] };
      this.follower.pause();
      this.pump();
    });
  }

  /** Resolves when no step is in progress (specs, and callers that stepped from a VM's page). */
  settled(): Promise<void> {
    return this.advance ? this.advanceTo(0) : Promise.resolve();
  }

    close(): void {
    this.closed = true;
    if (this.advance?.immediate) clearImmediate(this.advance.immediate);
    this.advance = undefined;
    this.follower.stop();
    for (const t of this.timers) this.host.clock.clearTimeout(t);
    for (const d of this.details.values()) d.close();
    this.recorder.dispose();
  }

  private clock(): { running: boolean; speed: number } {
    return { running: this.running, speed: this.speed };
  }

  private setSpeed(speed: number): void {
    if (speed > 0) {
      this.speed = speed;
      this.follower.setSpeed(speed);
    }
    this.running = speed > 0;
    // During a step the clock is the step's; the wall clock takes over after it.
    if (this.running && !this.advance) this.follower.resume();
    else this.follower.pause();
  }

  private pump(): void {
    const step = this.advance;
    if (!step || this.closed) return;
    step.immediate = undefined;
    // Wall time, read in the runtime (as followWallClock does), never inside the simulated core.
    const started = performance.now();
    while (!this.host.clock.runUntilMicros(msToMicros(step.targetMs), FIRINGS_PER_CHECK)) {
      if (performance.now() - started > SLICE_MS) {
        step.immediate = setImmediate(() => this.pump());
        return;
      }
    }
    this.advance = undefined;
    // As Host.runUntil ends: the ledger sampled at the new time.
    this.host.runUntil(this.host.now());
    this.onTimeJump();
    if (this.running) this.follower.resume();
    for (const w of step.waiters) w();
  }

  private onTimeJump(): void {
    // Virtual time moved by hand: the wall clock follows on from here, not from before the jump.
    this.follower.setSpeed(this.speed);
    for (const d of this.details.values()) d.recorder.sampleMemory();
  }
}

/** A recorded host run (`run host.json --record`): the overview it saved, each VM's recording for its detail. */
export class ReplayHostViewSource implements HostViewSource {
  readonly mode = 'replay' as const;
  readonly info: HostViewInfo;
  private readonly model: HostViewModel;
  private readonly endMs: number;
  private readonly details = new Map<string, ReplayViewSource>();

  constructor(
    private readonly recording: HostRecording,
    private readonly file: string,
  ) {
    const overview = recording.overview;
    if (overview) this.model = HostViewModel.fromJSON(overview);
    else {
      // Recorded before the overview existed: the VMs, without the host's series.
      const info: HostViewInfo = { name: recording.host.name, memoryBytes: 0, reserveBytes: 0, policy: '(not recorded)', untilMs: 0, vms: recording.vms.map((v) => ({ name: v.name, deviceModel: '', minimumBytes: 0, maximumBytes: 0, weight: 0, bufferPercent: 0 })) };
      this.model = new HostViewModel(info, 1000);
    }
    this.info = this.model.info;
    this.endMs = Math.max(0, ...recording.vms.map((v) => (typeof v.recording?.endMs === 'number' ? v.recording.endMs : 0)), overview?.tail?.t ?? 0);
  }

  now(): number {
    return this.endMs;
  }

  overview(query: OverviewQuery = {}): HostOverview {
    return this.model.overviewAt(query.t, { ...query, mode: 'replay', nowMs: this.endMs });
  }

  vmSource(name: string): ReplayViewSource | undefined {
    let source = this.details.get(name);
    if (source) return source;
    const vm = this.recording.vms.find((v) => v.name === name);
    if (!vm) return undefined;
    source = new ReplayViewSource(parseRecording(vm.recording, `${this.file} (VM ${name})`));
    this.details.set(name, source);
    return source;
  }

  close(): void {}
}

export type { HostViewModelJson };
