/**
 * status-reports — the guest's memory status as QEMU's QMP client sees it (status-report=on).
 *
 * A 4 GiB Linux guest runs a steady workload (a 1 GiB working set that moves by up to ±256 MiB
 * every 2 s) so the numbers move. The example subscribes to `vm.events$` and prints every
 * HV_BALLOON_STATUS_REPORT event (QEMU's monitor lets at most one through per second), asks
 * `query-hv-balloon-status-report` before the first report (QEMU's error text) and after it, and
 * balloons the guest to 2 GiB half-way: `available` drops by the ballooned 2 GiB and `committed`
 * rises by about as much, because the Linux driver counts ballooned pages (and its balloon floor)
 * as committed, so that the host does not ask for them again. It shows the Linux
 * driver's start-up delay: its first 45 post_status calls send nothing (module parameter
 * pressure_report_delay), so the first report comes about 45 s after the handshake.
 * Last, the same guest with status-report=off: the guest still sends its reports (Linux ignores
 * the suppress bit), QEMU drops them, emits no event and the query says reporting is not enabled.
 *
 * QEMU command line it corresponds to:
 *   qemu-system-x86_64 -m 4G -device vmbus-bridge -device hv-balloon,id=hvb,status-report=on
 *   then, on QMP: {"execute": "query-hv-balloon-status-report"} and {"execute": "balloon", "arguments": {"value": 2147483648}}
 *
 * Run: npx ts-node --transpile-only examples/status-reports.ts
 */
import { createVm, type QmpEvent, type QmpReply, type Vm, type VmConfigInput } from 'hv-balloon-sim';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export interface StatusEventRow {
  /** Virtual ms of the event. */
  timeMs: number;
  committed: number;
  available: number;
}

export interface StatusReportsResult {
  /** Virtual ms the guest driver finished the handshake ("Using Dynamic Memory protocol ..."). */
  handshakeMs: number;
  /** query-hv-balloon-status-report before the first report: QEMU's error. */
  queryBefore: QmpReply;
  /** Virtual ms of the first HV_BALLOON_STATUS_REPORT event. */
  firstEventMs: number;
  /** query-hv-balloon-status-report right after the first event. */
  queryAfter: QmpReply;
  /** Every HV_BALLOON_STATUS_REPORT event of the run. */
  events: StatusEventRow[];
  /** DM_STATUS_REPORT messages the guest sent during the run. */
  reportsSent: number;
  /** Virtual ms the balloon command was given, and query-balloon actual at the end. */
  balloonAtMs: number;
  actualAtEnd: number;
  /** The same guest with status-report=off. */
  off: { reportsSent: number; events: number; query: QmpReply };
}

export interface StatusReportsOptions {
  /** Virtual ms to run in all (default 75 s). */
  untilMs?: number;
  /** When to balloon to 2 GiB (default 62 s). */
  balloonAtMs?: number;
  seed?: number;
  write?: (line: string) => void;
}

function vmConfig(seed: number, statusReport: boolean): VmConfigInput {
  return {
    seed,
    machine: { memory: '4G' },
    device: { id: 'hvb', statusReport },
    guest: { profile: 'linux' },
    workload: { kind: 'steady', usedBytes: '1G', churnBytes: '256M', periodMs: '2s', dirtyBytes: '64M' },
  };
}

const query = (vm: Vm): QmpReply => vm.execute({ execute: 'query-hv-balloon-status-report' });

export function statusReports(options: StatusReportsOptions = {}): StatusReportsResult {
  const untilMs = options.untilMs ?? 75_000;
  const balloonAtMs = options.balloonAtMs ?? 62_000;
  const seed = options.seed ?? 1;
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const t = (ms: number): string => `${(ms / 1000).toFixed(3).padStart(8)}s`;
  const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

  const vm = createVm(vmConfig(seed, true));
  let handshakeMs = -1;
  const events: StatusEventRow[] = [];
  let queryAfter: QmpReply | undefined;
  try {
    vm.trace$.subscribe((r) => {
      if (r.kind === 'guest' && r.event.type === 'log' && r.event.text.startsWith('Using Dynamic Memory protocol') && handshakeMs < 0) {
        handshakeMs = r.time;
        write(`${t(r.time)}  guest: hv_balloon: ${r.event.text}`);
      }
    });
    vm.events$.subscribe((e: QmpEvent) => {
      if (e.event !== 'HV_BALLOON_STATUS_REPORT' || !e.data) return;
      const row = { timeMs: vm.now(), committed: Number(e.data.committed), available: Number(e.data.available) };
      const prev = events[events.length - 1];
      events.push(row);
      const changed = prev && (row.committed !== prev.committed || row.available !== prev.available);
      const delta = !prev ? '' : changed ? `  (committed ${signed(row.committed - prev.committed)}, available ${signed(row.available - prev.available)})` : '  (no change)';
      write(`${t(row.timeMs)}  event HV_BALLOON_STATUS_REPORT committed=${mib(row.committed)} available=${mib(row.available)}${delta}`);
      if (events.length === 1) {
        // Asked from inside the event: the device has the report the event carries.
        queryAfter = query(vm);
        write(`${t(row.timeMs)}  first report, ${((row.timeMs - handshakeMs) / 1000).toFixed(1)} s after the handshake (the driver swallows its first 45 post_status calls)`);
        write(`${t(row.timeMs)}  query-hv-balloon-status-report -> ${JSON.stringify(queryAfter)}`);
      }
    });

    write('hv-balloon-sim: status reports from a 4 GiB Linux guest with a steady 1 GiB ± 256 MiB workload (status-report=on)');
    const queryBefore = query(vm);
    write(`${t(vm.now())}  query-hv-balloon-status-report -> ${JSON.stringify(queryBefore)}`);

    vm.runUntil(balloonAtMs);
    write(`${t(vm.now())}  QMP balloon 2 GiB (available drops; committed rises: the Linux driver counts ballooned pages as committed)`);
    vm.balloon(2 * GiB);
    vm.runUntil(untilMs);
    const actualAtEnd = vm.queryBalloon().actual;
    write(`${t(vm.now())}  query-balloon -> actual ${mib(actualAtEnd)}`);
    const reportsSent = vm.messageCounts().DM_STATUS_REPORT ?? 0;
    write(`${t(vm.now())}  ${reportsSent} DM_STATUS_REPORT messages, ${events.length} HV_BALLOON_STATUS_REPORT events (QEMU throttles the event to 1/s; the Linux guest already waits > 1 s between reports)`);

    // status-report=off: the guest reports anyway, QEMU ignores it.
    const off = createVm(vmConfig(seed, false));
    let offEvents = 0;
    off.events$.subscribe((e) => {
      if (e.event === 'HV_BALLOON_STATUS_REPORT') offEvents++;
    });
    let offResult: StatusReportsResult['off'];
    try {
      off.runUntil(untilMs);
      offResult = { reportsSent: off.messageCounts().DM_STATUS_REPORT ?? 0, events: offEvents, query: query(off) };
    } finally {
      off.dispose();
    }
    write('');
    write(`status-report=off, same guest, ${untilMs / 1000} s: the guest sent ${offResult.reportsSent} reports (Linux ignores the suppress bit), QEMU emitted ${offResult.events} events;`);
    write(`  query-hv-balloon-status-report -> ${JSON.stringify(offResult.query)}`);

    return {
      handshakeMs,
      queryBefore,
      firstEventMs: events[0]?.timeMs ?? -1,
      queryAfter: queryAfter ?? query(vm),
      events,
      reportsSent,
      balloonAtMs,
      actualAtEnd,
      off: offResult,
    };
  } finally {
    vm.dispose();
  }
}

function signed(bytes: number): string {
  const v = (bytes / MiB).toFixed(1);
  return bytes >= 0 ? `+${v}` : v;
}

if (require.main === module) statusReports();
