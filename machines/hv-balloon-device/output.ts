/**
 * What the device emits for the outside world (XState `emit`): QEMU's warnings, QEMU's trace points
 * (QEMU hw/hyperv/trace-events) and the status-report event the QMP layer turns into
 * HV_BALLOON_STATUS_REPORT. Handlers collect them in a DeviceOutput, in the order QEMU would print
 * them, and the machine emits them all at the end of the step.
 */
import type { DeviceWarning, WarningKind, WarningLevel } from './warnings';

/** QEMU's hv-balloon trace-point names. */
export type TracePointName =
  | 'hv_balloon_state_change'
  | 'hv_balloon_incoming_version'
  | 'hv_balloon_incoming_caps'
  | 'hv_balloon_outgoing_unballoon'
  | 'hv_balloon_incoming_unballoon'
  | 'hv_balloon_outgoing_hot_add'
  | 'hv_balloon_incoming_hot_add'
  | 'hv_balloon_outgoing_balloon'
  | 'hv_balloon_incoming_balloon'
  | 'hv_balloon_our_range_add'
  | 'hv_balloon_remove_response'
  | 'hv_balloon_remove_response_hole'
  | 'hv_balloon_remove_response_common'
  | 'hv_balloon_remove_response_remainder'
  | 'hv_balloon_map_slot'
  | 'hv_balloon_unmap_slot';

export type TraceArgs = Readonly<Record<string, number | string | boolean>>;

export interface WarningEmitted {
  type: 'warning';
  kind: WarningKind;
  level: WarningLevel;
  text: string;
  /** How many times QEMU prints it (per-page warnings are emitted once, with the page count). */
  repeat: number;
}
export interface TraceEmitted {
  type: 'trace';
  name: TracePointName;
  args: TraceArgs;
}
/** A guest status report, in bytes (QEMU HV_BALLOON_STATUS_REPORT data; the QMP layer throttles it). */
export interface StatusReportEmitted {
  type: 'status-report';
  /** Bytes; a bigint above 2^53 - 1. */
  committed: number | bigint;
  available: number | bigint;
}

export type HvBalloonEmitted = WarningEmitted | TraceEmitted | StatusReportEmitted;

/** Collects one step's emitted events in order. */
export class DeviceOutput {
  readonly emitted: HvBalloonEmitted[] = [];
  readonly warnings: DeviceWarning[] = [];

  warn(w: DeviceWarning): void {
    this.warnings.push(w);
    this.emitted.push({ type: 'warning', kind: w.kind, level: w.level, text: w.text, repeat: w.repeat });
  }

  trace(name: TracePointName, args: TraceArgs): void {
    this.emitted.push({ type: 'trace', name, args });
  }

  statusReport(committed: number | bigint, available: number | bigint): void {
    this.emitted.push({ type: 'status-report', committed, available });
  }
}
