/**
 * QMP's wire shapes (QEMU docs/interop/qmp-spec.rst) and the control surface of one VM that the
 * QMP server, the HMP monitor, scenarios and the library API all drive.
 */
import type { Observable } from 'rxjs';

/** QEMU's error classes (qapi/error.json) that our commands can answer with. */
export type QmpErrorClass = 'GenericError' | 'CommandNotFound' | 'DeviceNotActive' | 'DeviceNotFound' | 'KVMMissingCap';

export interface QmpErrorBody {
  class: QmpErrorClass;
  desc: string;
}

/** A reply exactly as QEMU's monitor sends it (`id` echoed when the command had one). */
export type QmpReply = { return: unknown; id?: unknown } | { error: QmpErrorBody; id?: unknown };

/** A QMP event; `timestamp` is QEMU's {seconds, microseconds} form. */
export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** A QMP command as a client sends it. */
export interface QmpCommand {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}

/** An error a command raises; the dispatcher turns it into `{"error": {...}}`. */
export class QmpError extends Error {
  constructor(
    readonly errorClass: QmpErrorClass,
    readonly desc: string,
  ) {
    super(desc);
    this.name = 'QmpError';
  }
}

/** QEMU's run states as query-status reports them (qapi/run-state.json), the subset we reach. */
export type RunState = 'prelaunch' | 'running' | 'paused' | 'shutdown';

/**
 * What a VM offers its control plane. Implemented by actors/vm.ts; every method works in virtual
 * time and throws QmpError with QEMU's class and wording where QEMU would answer with an error.
 */
export interface VmControl {
  /** Virtual time since power-on, ms. */
  now(): number;
  runState(): RunState;
  /** QMP `balloon` with a validated byte value (> 0). */
  balloon(bytes: number): void;
  /** QMP `query-balloon`: {actual} in bytes. */
  queryBalloon(): { actual: number };
  /** QMP `query-hv-balloon-status-report`: {committed, available} in bytes. */
  /** Bytes, as JavaScript numbers (inexact above 2^53 - 1; the QMP answer uses the exact form below). */
  queryHvBalloonStatusReport(): { committed: number; available: number };
  /** The same in QMP's u64 form: a bigint above 2^53 - 1, so QMP prints it exactly as QEMU does. */
  queryHvBalloonStatusReportExact?(): { committed: number | bigint; available: number | bigint };
  /** QMP `query-memory-devices`. */
  queryMemoryDevices(): unknown[];
  /** HMP `info balloon` text (without the trailing line end). */
  hmpInfoBalloon(): string;
  /** HMP `info memory-devices` text (may be empty). */
  hmpInfoMemoryDevices(): string;
  /** QMP `system_reset` (emits RESET). */
  systemReset(): void;
  /** QMP `stop`: pause virtual time (emits STOP). */
  stop(): void;
  /** QMP `cont`: resume virtual time (emits RESUME). */
  cont(): void;
  /** QMP `quit` (emits SHUTDOWN). */
  quit(): void;
  /** Our own: advance virtual time by ms (only while not following the wall clock, or in addition to it). */
  advance(ms: number): void;
  /** Our own: run until virtual time t. */
  runUntil(t: number): void;
  /** Our own: device counters, tree totals, message counts (x-sim-counters). */
  counters(): object;
  /** QMP `qom-get` (virtio-balloon VMs: guest-stats, guest-stats-polling-interval). Absent: no such object. */
  qomGet?(path: string, property: string): unknown;
  /** QMP `qom-set` (virtio-balloon VMs: guest-stats-polling-interval). Absent: no such object. */
  qomSet?(path: string, property: string, value: unknown): void;
  /** QMP events as they happen (HV_BALLOON_STATUS_REPORT throttled to 1/s, RESET, STOP, RESUME, SHUTDOWN). */
  readonly events$: Observable<QmpEvent>;
}
