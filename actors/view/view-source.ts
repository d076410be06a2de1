/**
 * What the view server shows: a live VM (LiveViewSource: virtual time follows the wall clock, the
 * controls act on the VM) or a recorded run (ReplayViewSource). Every control of the live view is
 * a QMP command run by the same dispatcher as the QMP server (actors/qmp/qmp-dispatcher.ts): run and
 * pause are `x-sim-speed`, step is `x-sim-advance`, the rest are what the user types.
 */
import { executeCommand } from '../qmp/qmp-dispatcher';
import { toQmpJson } from '../qmp/qmp-json';
import type { ControlHooks } from '../qmp/qmp-commands';
import type { QmpReply } from '../qmp/qmp-types';
import type { Vm } from '../vm/create-vm';
import { snapshotAt, RECORDING_FORMAT, type ViewEvent, type ViewRecording, type ViewSnapshot } from './view-model';
import { ViewRecorder } from './view-recorder';

export interface ViewScenarioInfo {
  name: string;
  description?: string;
  source?: string;
  /** The scenario's end: the live view pauses virtual time there. 0: no end. */
  untilMs: number;
}

export interface ViewSource {
  readonly mode: 'live' | 'replay';
  readonly scenario: ViewScenarioInfo;
  /** Virtual time now (live) or the recording's end (replay). */
  now(): number;
  events(): ViewEvent[];
  omitted(): number;
  snapshot(t?: number): ViewSnapshot;
  /** New events as they happen (live); a replay has none. */
  subscribe(listener: (e: ViewEvent) => void): () => void;
  /** A QMP command through the dispatcher; undefined for a replay (it cannot be changed). */
  execute?(request: unknown): QmpReply;
  close(): void;
}

/** Whoever moves virtual time when the view does not (the QMP server, a host's view). */
export interface ExternalClock {
  hooks: ControlHooks;
  afterCommand(): void;
  /** Whether virtual time runs now and how fast, when the owner knows better than the view's last command. */
  clock?(): { running: boolean; speed: number };
  /** The owner moves virtual time to a target itself, in slices (x-sim-advance answers at once with the target). */
  advance?(targetMs: number): void;
}

/** How often the live view moves virtual time (wall ms). */
const TICK_MS = 20;

export class LiveViewSource implements ViewSource {
  readonly mode = 'live' as const;
  readonly recorder: ViewRecorder;
  private speed: number;
  private running: boolean;
  private follower: ReturnType<Vm['followWallClock']> | undefined;
  private endTimer: ReturnType<typeof setInterval> | undefined;
  private readonly hooks: ControlHooks;
  private readonly external: ExternalClock | undefined;

  constructor(
    private readonly vm: Vm,
    readonly scenario: ViewScenarioInfo,
    options: {
      speed: number;
      paused?: boolean;
      recorder?: ViewRecorder;
      /** Someone else moves virtual time (the QMP server, a host): the view runs its commands through their hooks. */
      external?: ExternalClock;
    },
  ) {
    this.recorder = options.recorder ?? new ViewRecorder(vm);
    this.speed = options.speed;
    this.running = options.paused !== true && options.speed > 0;
    this.external = options.external;
    const ext = options.external?.hooks;
    this.hooks = ext
      ? {
          ...(ext.setSpeed ? { setSpeed: (speed: number) => {
            ext.setSpeed?.(speed);
            if (speed > 0) this.speed = speed;
            this.running = speed > 0;
          } } : {}),
          onTimeJump: () => {
            ext.onTimeJump?.();
            this.recorder.sampleMemory();
          },
          ...(options.external?.advance ? { deferAdvance: options.external.advance } : {}),
        }
      : {
          setSpeed: (speed) => this.setSpeed(speed),
          onTimeJump: () => {
            this.recorder.sampleMemory();
            this.follower?.setSpeed(this.speed);
          },
        };
    if (scenario.untilMs > 0) {
      // The scenario's end: pause there, so the user sees the final state and can go on with `run`.
      vm.clock.setTimeout(() => {
        this.hooks.setSpeed?.(0);
        this.recorder.step({ at: vm.now(), command: `(the scenario ends at ${scenario.untilMs / 1000} s: virtual time paused; press run to go on)`, reply: '', ok: true });
      }, Math.max(0, scenario.untilMs - vm.now()));
    }
    this.sync();
    // Between device events, memory (status reports aside) only changes through them; a slow
    // sample keeps the chart's x axis moving.
    this.endTimer = setInterval(() => this.recorder.sampleMemory(), 500);
    this.endTimer.unref?.();
  }

  now(): number {
    return this.vm.now();
  }

  events(): ViewEvent[] {
    return this.recorder.log.events();
  }

  omitted(): number {
    return this.recorder.log.omitted;
  }

  snapshot(t?: number): ViewSnapshot {
    const at = t === undefined ? this.vm.now() : Math.min(t, this.vm.now());
    const snap = snapshotAt(this.events(), at, 'live');
    return { ...snap, clock: this.external?.clock?.() ?? { running: this.running, speed: this.speed }, runState: this.vm.runState() };
  }

  subscribe(listener: (e: ViewEvent) => void): () => void {
    return this.recorder.onEvent(listener);
  }

  execute(request: unknown): QmpReply {
    const reply = executeCommand(this.vm, request, this.hooks);
    const command = describeCommand(request);
    // Time controls are the view's own; the commands a user gives are logged as steps.
    if (!/^x-sim-(speed|advance|time|counters)$/.test(commandName(request))) {
      // As QEMU prints it (u64s as exact numbers).
      const text = 'return' in reply ? (typeof reply.return === 'string' ? reply.return.trimEnd() : toQmpJson(reply.return)) : toQmpJson(reply);
      this.recorder.step({ at: this.vm.now(), command, reply: text, ok: 'return' in reply });
    }
    this.external?.afterCommand();
    this.sync();
    return reply;
  }

  close(): void {
    this.follower?.stop();
    this.follower = undefined;
    if (this.endTimer) clearInterval(this.endTimer);
    this.recorder.dispose();
  }

  private setSpeed(speed: number): void {
    if (speed > 0) this.speed = speed;
    this.running = speed > 0;
    this.sync();
  }

  /** Follow the wall clock while running and the VM is not stopped or shut down. */
  private sync(): void {
    if (this.external) return;
    const follow = this.running && this.vm.runState() === 'running';
    if (follow) {
      if (!this.follower) this.follower = this.vm.followWallClock(this.speed);
      else {
        this.follower.setSpeed(this.speed);
        this.follower.resume();
      }
    } else this.follower?.pause();
  }
}

function commandName(request: unknown): string {
  const r = request as { execute?: unknown } | null;
  return typeof r?.execute === 'string' ? r.execute : '';
}

function describeCommand(request: unknown): string {
  const r = request as { execute?: unknown; arguments?: { 'command-line'?: unknown } } | null;
  if (r?.execute === 'human-monitor-command' && typeof r.arguments?.['command-line'] === 'string') return r.arguments['command-line'];
  return JSON.stringify(request);
}

/** A recorded run, read back: the same events, no VM behind them. */
export class ReplayViewSource implements ViewSource {
  readonly mode = 'replay' as const;
  readonly scenario: ViewScenarioInfo;

  constructor(private readonly recording: ViewRecording) {
    this.scenario = { ...recording.scenario };
  }

  now(): number {
    return this.recording.endMs;
  }
  events(): ViewEvent[] {
    return this.recording.events;
  }
  omitted(): number {
    return this.recording.omitted;
  }
  snapshot(t?: number): ViewSnapshot {
    return snapshotAt(this.recording.events, t ?? this.recording.endMs, 'replay');
  }
  subscribe(): () => void {
    return () => undefined;
  }
  close(): void {}
}

/** A recording of what `recorder` saw, for `run --record`. */
export function makeRecording(recorder: ViewRecorder, scenario: ViewScenarioInfo, endMs: number): ViewRecording {
  return { format: RECORDING_FORMAT, version: 1, scenario, endMs, omitted: recorder.log.omitted, events: recorder.log.events() };
}

export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

/** Checks a parsed JSON file is a recording; throws RecordingError naming what is wrong. */
export function parseRecording(value: unknown, source: string): ViewRecording {
  const r = value as Partial<ViewRecording> | null;
  if (r === null || typeof r !== 'object' || r.format !== RECORDING_FORMAT) {
    throw new RecordingError(`${source}: not a recorded run (expected "format": "${RECORDING_FORMAT}"; make one with run <scenario> --record ${source})`);
  }
  if (r.version !== 1) throw new RecordingError(`${source}: version: expected 1, got ${JSON.stringify(r.version)}`);
  if (!Array.isArray(r.events)) throw new RecordingError(`${source}: events: expected an array`);
  if (typeof r.endMs !== 'number' || !(r.endMs >= 0)) throw new RecordingError(`${source}: endMs: expected a time >= 0, got ${JSON.stringify(r.endMs)}`);
  if (!r.scenario || typeof r.scenario.name !== 'string') throw new RecordingError(`${source}: scenario.name: expected a string`);
  return { format: RECORDING_FORMAT, version: 1, scenario: r.scenario, endMs: r.endMs, omitted: typeof r.omitted === 'number' ? r.omitted : 0, events: r.events };
}
