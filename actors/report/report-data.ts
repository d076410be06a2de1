/**
 * What an HTML report is drawn from: the run's result plus the bounded series and logs the
 * collector kept while it ran. Every list here has a fixed upper size, whatever the run's length.
 */
import type { HvBalloonStateName } from '../../machines/hv-balloon-device/states';
import type { ScenarioResult } from '../scenario/scenario';
import type { VmConfigInput } from '../vm/vm-config';

/** The colour bands of the state strip: QEMU's 16 states in six groups. */
export type StateGroup = 'reset' | 'init' | 'idle' | 'balloon' | 'unballoon' | 'hot-add';

export const STATE_GROUPS: readonly StateGroup[] = ['reset', 'init', 'idle', 'balloon', 'unballoon', 'hot-add'];

/** The group of a QEMU hv-balloon state name (QEMU hv-balloon.c enum State). */
export function stateGroup(state: HvBalloonStateName): StateGroup {
  if (state === 'S_WAIT_RESET' || state === 'S_POST_RESET_CLOSED') return 'reset';
  if (state === 'S_IDLE') return 'idle';
  if (state.startsWith('S_BALLOON_')) return 'balloon';
  if (state.startsWith('S_UNBALLOON_')) return 'unballoon';
  if (state.startsWith('S_HOT_ADD_')) return 'hot-add';
  return 'init';
}

/** A list kept as its first rows and its last rows; `omitted` rows between them were dropped. */
export interface BoundedRows<T> {
  head: T[];
  tail: T[];
  omitted: number;
}

/** [virtual ms, bytes]. */
export type SeriesPoint = readonly [number, number];

/** One stay of the device in one state, in virtual ms (`end` > `start`, or equal for a pass-through). */
export interface StateRun {
  state: HvBalloonStateName;
  start: number;
  end: number;
}

export interface StateTimeline {
  /**
   * Every stay in order, while there were at most `limits.stateRuns` of them; null when there were
   * more (the strip then shows `bins`).
   */
  runs: StateRun[] | null;
  /** The time axis cut into equal columns: per column the group other than idle the device spent most time in (idle if none). */
  bins: Array<StateGroup | null>;
  /** Per state seen: how often it was entered and how long the device stayed in total. */
  perState: Array<{ state: HvBalloonStateName; group: StateGroup; entries: number; ms: number }>;
}

export interface PacketRow {
  time: number;
  from: 'host' | 'guest';
  type: string;
  size: number;
  transId: number;
  /** The decoded body fields, shortened (ranges summed up). */
  fields: string;
}

export interface TimedText {
  time: number;
  text: string;
  /** A short label shown beside the text: a log level, 'misbehaviour', a repeat count. */
  tag?: string;
}

export interface ReportData {
  scenario: { name: string; description?: string; source?: string; untilMs: number; vm: VmConfigInput };
  /** The run's result, as `run --json` prints it. */
  result: ScenarioResult;
  /** query-balloon's `actual` over time: where it changed, at most 3 points per chart column (low, high, latest). */
  actual: SeriesPoint[];
  /** The guest's status reports (HV_BALLOON_STATUS_REPORT data) over time; a NaN value marks where the device closed the channel and forgot the last report (the line breaks). */
  statusReports: { available: SeriesPoint[]; committed: SeriesPoint[]; count: number };
  /** The guest kernel's own MemAvailable and Committed_AS, sampled at regular virtual times. */
  guestMemory: { available: SeriesPoint[]; committed: SeriesPoint[] };
  states: StateTimeline | null;
  packets: BoundedRows<PacketRow> & { counts: Array<{ type: string; hostToGuest: number; guestToHost: number }> };
  warnings: BoundedRows<TimedText>;
  /** Guest log lines at info level and above, and a malicious guest's misbehaviours; debug lines are counted only. */
  guestLog: BoundedRows<TimedText> & { debugLines: number };
  /** QMP events except status reports (those are in `statusReports`). */
  events: BoundedRows<TimedText & { event: string }>;
  failures: TimedText[];
}
