/**
 * What every VM model shares, whatever its balloon device (hv-balloon: create-vm.ts, virtio-balloon:
 * virtio-balloon-vm.ts): the virtual clock, the message bus, the trace, QMP events and their
 * timestamps, the run state (stop/cont/quit), moving virtual time, and the root actor's start and
 * failure handling. A device model extends it with its parts, its queries and its counters.
 */
import type { AnyActorRef } from 'xstate';
import type { Observable } from 'rxjs';
// From their own modules, not rxjs's index (~300 modules): every sweep worker and CLI start loads this.
import { merge } from 'rxjs/internal/observable/merge';
import { map } from 'rxjs/internal/operators/map';
import { Subject } from 'rxjs/internal/Subject';
import { DEFAULT_KERNEL_RESERVED_PAGES, MachineMemory } from '../../machines/machine-memory';
import { MessageBus } from '../message-bus';
import { MAX_VIRTUAL_MS, VirtualClock, followWallClock } from '../virtual-clock';
import { QmpError, type QmpEvent, type QmpReply, type RunState, type VmControl } from '../qmp/qmp-types';
import { executeCommand } from '../qmp/qmp-dispatcher';
import { runHmp } from '../hmp/hmp';
import type { CreateVmOptions, VmCounters, VmTraceRecord } from './create-vm';
import type { VmConfig } from './vm-config';

/**
 * The guest's memory as the config describes it: the machine type's layout, the memdev's host page
 * size, and for a Linux guest the calibrated Linux memory model (its guest.memory parameters); the
 * Windows-like profile gets the simple one.
 */
export function guestMemory(config: VmConfig): MachineMemory {
  return new MachineMemory({
    machineType: config.machineType,
    ramBytes: config.memoryBytes,
    maxmemBytes: config.maxmemBytes,
    slots: config.slots,
    memdevHugepages: config.memdevHugepages,
    ...(config.guest.profile === 'windows' ? { kernelReservedPages: DEFAULT_KERNEL_RESERVED_PAGES } : { linux: config.guest.memory }),
  });
}

/** The parts a VM's root actor may invoke (systemIds), besides the root itself ('vm'). */
export type VmPartName = 'device' | 'guest' | 'channel' | 'memctl' | 'vcpu';

export abstract class VmRuntime implements VmControl {
  readonly clock: VirtualClock;
  readonly bus: MessageBus;
  /** The root actor (systemId 'vm'); built by the device model, started by startRoot(). */
  abstract readonly root: AnyActorRef;
  abstract readonly memory: MachineMemory;
  private readonly events = new Subject<QmpEvent>();
  readonly events$: Observable<QmpEvent> = this.events.asObservable();
  private readonly traceSubject = new Subject<VmTraceRecord>();
  readonly trace$: Observable<VmTraceRecord>;
  /** Epoch of virtual time 0 for QMP timestamps, ms since 1970. */
  protected readonly epochMs: number;
  protected state: RunState = 'running';
  private disposed = false;
  private failure: string | undefined;

  protected constructor(
    readonly config: VmConfig,
    options: CreateVmOptions,
  ) {
    this.epochMs = options.epochMs ?? 0;
    // VMs of one host share the host's clock (actors/host/).
    this.clock = options.clock ?? new VirtualClock();
    this.bus = new MessageBus(this.clock);
    // Bus deliveries join the trace only while someone watches it: the bus builds a record for
    // every message only when its trace$ is observed, and that is the hot path of a long run.
    this.trace$ = merge(this.traceSubject, this.bus.trace$.pipe(map((d): VmTraceRecord => ({ kind: 'bus', ...d }))));
    if (options.onDelivery) this.bus.trace$.subscribe(options.onDelivery);
  }

  /** Starts the root actor and puts it and its `parts` on the bus. */
  protected startRoot(parts: readonly VmPartName[]): void {
    this.bus.attach('vm', this.root);
    // A part that throws stops the actor system. Observe it, so the process (a QMP server, a test)
    // keeps running and every later command says what happened instead of crashing.
    this.root.subscribe({
      error: (err: unknown) => {
        this.failure = err instanceof Error ? err.message : String(err);
        this.trace({ kind: 'failure', time: this.clock.now(), message: this.failure });
      },
    });
    this.root.start();
    for (const part of parts) {
      const ref = this.root.system.get(part) as AnyActorRef | undefined;
      if (ref) this.bus.attach(part, ref);
    }
  }

  // ---- the device model's part ------------------------------------------------------------------
  abstract balloon(bytes: number): void;
  abstract queryBalloon(): { actual: number };
  abstract queryHvBalloonStatusReport(): { committed: number; available: number };
  abstract queryMemoryDevices(): unknown[];
  abstract hmpInfoBalloon(): string;
  abstract hmpInfoMemoryDevices(): string;
  abstract counters(): VmCounters;

  // ---- time -------------------------------------------------------------------------------------
  now(): number {
    return this.clock.now();
  }
  runState(): RunState {
    return this.state;
  }
  run(ms: number): void {
    this.advance(ms);
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new QmpError('GenericError', `Parameter 'ms' expects a time >= 0, got ${ms}`);
    if (this.clock.now() + ms > MAX_VIRTUAL_MS) {
      throw new QmpError('GenericError', `Parameter 'ms' would take virtual time past ${MAX_VIRTUAL_MS} ms (about 285 years, the clock's range), got ${ms}`);
    }
    this.requireTimeCanPass();
    this.clock.advance(ms);
  }
  runUntil(t: number): void {
    if (!Number.isFinite(t)) throw new QmpError('GenericError', `Parameter 't' expects a finite time, got ${t}`);
    if (t > MAX_VIRTUAL_MS) throw new QmpError('GenericError', `Parameter 't' must be at most ${MAX_VIRTUAL_MS} ms (about 285 years, the clock's range), got ${t}`);
    this.requireTimeCanPass();
    this.clock.runUntil(t);
  }
  followWallClock(speed: number) {
    return followWallClock(this.clock, { speed });
  }

  // ---- QMP-shaped control -----------------------------------------------------------------------
  systemReset(): void {
    this.requireNotShutdown();
    // QEMU qmp_system_reset: the RESET event goes out before the reply.
    this.emitEvent('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    this.afterResetEvent();
    this.root.send({ type: 'vm.system-reset' });
    // The reset is done when the command returns: a query right after it sees the rebooted machine.
    this.settleNow();
  }
  /** Between system_reset's RESET event and the reset itself (the firmware's own reset, say). */
  protected afterResetEvent(): void {}
  stop(): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
    this.root.send({ type: 'vm.stop' });
    this.emitEvent('STOP');
  }
  cont(): void {
    this.requireNotShutdown();
    if (this.state === 'running') return;
    this.state = 'running';
    this.root.send({ type: 'vm.cont' });
    this.emitEvent('RESUME');
  }
  quit(): void {
    if (this.state === 'shutdown') return;
    this.emitEvent('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
    this.state = 'shutdown';
    this.root.send({ type: 'vm.quit' });
  }
  /** A QMP command, answered exactly as QEMU's monitor would. */
  execute(command: unknown): QmpReply {
    return executeCommand(this, command);
  }
  /** An HMP command line; returns the text QEMU's HMP prints. */
  hmp(line: string): string {
    return runHmp(this, line);
  }
  /** Stop every actor and timer. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.root.stop();
    this.events.complete();
    this.traceSubject.complete();
    this.bus.trace$.complete();
  }

  // ---- for the device models --------------------------------------------------------------------
  /** A part of the root actor (undefined when the VM has none); refuses once a part has failed. */
  protected partRef(id: VmPartName): AnyActorRef | undefined {
    this.requireAlive();
    return this.root.system.get(id) as AnyActorRef | undefined;
  }
  protected requireAlive(): void {
    if (this.failure !== undefined) throw new QmpError('GenericError', `the simulation has stopped: a part failed (${this.failure})`);
  }
  protected requireNotShutdown(): void {
    this.requireAlive();
    if (this.state === 'shutdown') throw new QmpError('GenericError', 'The VM has shut down (quit)');
  }
  private requireTimeCanPass(): void {
    this.requireNotShutdown();
    // QEMU: QEMU_CLOCK_VIRTUAL stands still while the VM is stopped.
    if (this.state === 'paused') throw new QmpError('GenericError', "The VM is stopped: virtual time does not pass until 'cont'");
  }
  /** Deliver everything due at the current instant (virtual time does not move). */
  protected settleNow(): void {
    this.clock.runUntilMicros(this.clock.nowMicros());
  }
  /** Whether anyone watches trace$: build a record only then (the hot path of a long run). */
  protected get tracing(): boolean {
    return this.traceSubject.observed;
  }
  protected trace(record: VmTraceRecord): void {
    if (this.traceSubject.observed) this.traceSubject.next(record);
  }
  /** A QMP event stamped with virtual time (plus the epoch), as QEMU stamps its events. */
  protected makeEvent(event: string, data?: Record<string, unknown>): QmpEvent {
    const t = this.epochMs + this.clock.now();
    const seconds = Math.floor(t / 1000);
    const microseconds = Math.round((t - seconds * 1000) * 1000);
    return { event, ...(data ? { data } : {}), timestamp: { seconds, microseconds } };
  }
  protected emitEvent(event: string, data?: Record<string, unknown>): void {
    this.publish(this.makeEvent(event, data));
  }
  protected publish(event: QmpEvent): void {
    this.trace({ kind: 'qmp-event', time: this.clock.now(), event });
    this.events.next(event);
  }
  /** Guest memory as the guest kernel sees it, and the host's resident backing, in 4 KiB pages. */
  protected memoryCounters(): VmCounters['memory'] {
    return {
      freePages: this.memory.freePages(),
      availablePages: this.memory.availablePages(),
      committedPages: this.memory.committedPages(),
      balloonedPages: this.memory.balloonedPages(),
      managedPages: this.memory.managedPages(),
      residentPages: this.memory.residentPages(),
      metadataBytes: this.memory.metadataBytes(),
      ...this.memory.swapStats(),
    };
  }
}
