/**
 * QMP and HMP replies about the hv-balloon device, as pure functions of its snapshot (QEMU
 * hv_balloon_stat, qmp_query_hv_balloon_status_report, hv_balloon_md_fill_device_info,
 * hmp_info_balloon and hmp_info_memory_devices). HMP texts end lines with "\n" as QEMU's
 * monitor_printf formats them; the monitor layer turns them into "\r\n". `deviceCounters` is ours:
 * the numbers behind the x-sim-* commands.
 */
import { PAGE_SIZE } from '../../protocol/constants';
import type { HvBalloonContext } from '../hv-balloon-device.machine';
import type { OurRangeState } from './our-range';
import type { RemovedTreeName } from './removed-pages';
import { leafStateName, stateNumber, type HvBalloonStateName } from './states';
import { ramTotalPages } from './target';
import type { WarningCounters } from './warnings';

/** What the queries read: any device snapshot (`actor.getSnapshot()`). */
export interface DeviceSnapshotLike {
  readonly value: unknown;
  readonly context: HvBalloonContext;
}

/** QMP `query-balloon` reply data (BalloonInfo). */
export interface BalloonInfo {
  actual: number;
}

/**
 * QEMU hv_balloon_stat: actual = (ram_total - removed_both_ctr) << 12. Only "both" pages count
 * (pages the host freed); the result is not clamped.
 */
export function queryBalloon(snapshot: DeviceSnapshotLike): BalloonInfo {
  const c = snapshot.context;
  const m = c.model.memory;
  const ramTotal = ramTotalPages(m.bootRamPages, m.pcDimmPages, c.ourRange?.added ?? 0);
  return { actual: (ramTotal - c.removedBothCtr) * PAGE_SIZE };
}

/** HMP `info balloon` (hmp_info_balloon): the actual size in MiB. */
export function hmpInfoBalloon(snapshot: DeviceSnapshotLike): string {
  // QEMU shifts the int64 right by 20: an arithmetic shift, i.e. floor division.
  return `balloon: actual=${Math.floor(queryBalloon(snapshot).actual / 2 ** 20)}\n`;
}

/** QMP HvBalloonInfo. */
export interface HvBalloonInfo {
  /** Bytes; a bigint above 2^53 - 1 (QMP prints u64s exactly). */
  committed: number | bigint;
  available: number | bigint;
}

export interface QmpGenericError {
  class: 'GenericError';
  desc: string;
}

export type QmpResult<T> = { ok: true; value: T } | { ok: false; error: QmpGenericError };

/** QEMU's three error texts of query-hv-balloon-status-report. */
export const STATUS_REPORT_ERRORS = {
  noDevice: 'no hv-balloon device present',
  notEnabled: 'guest memory status reporting not enabled',
  notReceived: 'no guest memory status report received yet',
} as const;

/** QMP `query-hv-balloon-status-report`; pass undefined when the VM has no hv-balloon device. */
export function queryHvBalloonStatusReport(snapshot: DeviceSnapshotLike | undefined): QmpResult<HvBalloonInfo> {
  const fail = (desc: string): QmpResult<HvBalloonInfo> => ({ ok: false, error: { class: 'GenericError', desc } });
  if (!snapshot) return fail(STATUS_REPORT_ERRORS.noDevice);
  const c = snapshot.context;
  if (!c.config.statusReport) return fail(STATUS_REPORT_ERRORS.notEnabled);
  if (!c.statusReport.received) return fail(STATUS_REPORT_ERRORS.notReceived);
  return { ok: true, value: { committed: c.statusReport.committed, available: c.statusReport.available } };
}

/** QMP HvBalloonDeviceInfo. */
export interface HvBalloonDeviceInfo {
  id?: string;
  memaddr?: number;
  'max-size': number;
  memdev?: string;
}

/** One entry of QMP `query-memory-devices` (MemoryDeviceInfo, kind hv-balloon). */
export interface HvBalloonMemoryDeviceInfo {
  type: 'hv-balloon';
  data: HvBalloonDeviceInfo;
}

/**
 * QEMU hv_balloon_md_fill_device_info: memaddr and memdev only with a memdev; max-size is the whole
 * memdev size (not what was hot-added), 0 without a memdev.
 */
export function queryMemoryDevices(snapshot: DeviceSnapshotLike): HvBalloonMemoryDeviceInfo {
  const { config } = snapshot.context;
  // Keys in QMP's order: id, memaddr, max-size, memdev (QEMU object_get_canonical_path for memdev).
  const data: HvBalloonDeviceInfo = {
    ...(config.id !== undefined ? { id: config.id } : {}),
    ...(config.memdev ? { memaddr: config.memdev.addrBytes } : {}),
    'max-size': config.memdev ? config.memdev.sizeBytes : 0,
    ...(config.memdev ? { memdev: `/objects/${config.memdev.id}` } : {}),
  };
  return { type: 'hv-balloon', data };
}

/** HMP `info memory-devices` lines for this device (hmp_info_memory_devices, hv-balloon case). */
export function hmpInfoMemoryDevices(snapshot: DeviceSnapshotLike): string {
  const { data } = queryMemoryDevices(snapshot);
  let text = `Memory device [hv-balloon]: "${data.id ?? ''}"\n`;
  if (data.memaddr !== undefined) text += `  memaddr: 0x${data.memaddr.toString(16)}\n`;
  text += `  max-size: ${data['max-size']}\n`;
  if (data.memdev !== undefined) text += `  memdev: ${data.memdev}\n`;
  return text;
}

export interface TreeCounters {
  pages: number;
  ranges: number;
  metadataBytes: number;
}

/** Our own numbers about the device (x-sim-* commands): state, transactions, trees, warnings. */
export interface DeviceCounters {
  state: HvBalloonStateName;
  /** QEMU's numeric state (as printed in its warnings). */
  stateNumber: number;
  transId: number;
  target: number;
  targetChanged: boolean;
  removedGuestCtr: number;
  removedBothCtr: number;
  trees: {
    globalGuest: TreeCounters;
    globalBoth: TreeCounters;
    ourGuest: TreeCounters;
    ourBoth: TreeCounters;
  };
  ourRange: OurRangeState | null;
  warnings: WarningCounters;
  statusReportReceived: boolean;
  loop: { iterations: number; packets: number };
}

export function deviceCounters(snapshot: DeviceSnapshotLike): DeviceCounters {
  const c = snapshot.context;
  const t = c.model.trees;
  const tree = (name: RemovedTreeName): TreeCounters => {
    const x = t.peek(name);
    return { pages: x.totalPages, ranges: x.rangeCount, metadataBytes: x.metadataBytes() };
  };
  const state = leafStateName(snapshot.value) ?? c.state;
  return {
    state,
    stateNumber: stateNumber(state),
    transId: c.transId,
    target: c.target,
    targetChanged: c.targetChanged,
    removedGuestCtr: c.removedGuestCtr,
    removedBothCtr: c.removedBothCtr,
    trees: {
      globalGuest: tree('globalGuest'),
      globalBoth: tree('globalBoth'),
      ourGuest: tree('ourGuest'),
      ourBoth: tree('ourBoth'),
    },
    ourRange: c.ourRange ? { ...c.ourRange } : null,
    warnings: c.counters,
    statusReportReceived: c.statusReport.received,
    loop: { iterations: c.model.loop.iterations, packets: c.model.loop.packets },
  };
}
