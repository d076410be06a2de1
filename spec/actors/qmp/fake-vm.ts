/**
 * A stand-in VmControl for the control-plane specs: a 4 GiB guest with one hv-balloon device
 * ("hvb"), status reports off unless asked, whose balloon target takes effect at once. It records
 * calls and emits QEMU's events (RESET, STOP, RESUME, SHUTDOWN) synchronously, as the real VM must.
 */
import { Subject } from 'rxjs';
import { QmpError, type QmpEvent, type RunState, type VmControl } from '../../../actors/qmp/qmp-types';

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

export interface FakeVmOptions {
  bootBytes?: number;
  statusReport?: boolean;
  runState?: RunState;
  /** A memdev window for hot-add: adds memaddr, max-size and memdev to the device info. */
  memdev?: { bytes: number; addr: number; path: string };
}

export class FakeVm implements VmControl {
  readonly calls: string[] = [];
  readonly boot: number;
  time = 0;
  state: RunState;
  actual: number;
  statusReport: boolean;
  report: { committed: number; available: number } | undefined;
  /** Thrown (once) by the next call of any method that records a call. */
  failNext: Error | undefined;
  /** Called from advance(), before time moves (to act while a command runs). */
  onAdvance: (() => void) | undefined;
  private readonly memdev: FakeVmOptions['memdev'];
  private readonly subject = new Subject<QmpEvent>();
  readonly events$ = this.subject.asObservable();

  constructor(options: FakeVmOptions = {}) {
    this.boot = options.bootBytes ?? 4 * GiB;
    this.actual = this.boot;
    this.state = options.runState ?? 'running';
    this.statusReport = options.statusReport ?? false;
    this.memdev = options.memdev;
  }

  now(): number {
    return this.time;
  }

  runState(): RunState {
    return this.state;
  }

  balloon(bytes: number): void {
    this.record(`balloon ${bytes}`);
    // hv-balloon: target_pages = bytes >> 12; our fake reaches the target at once.
    this.actual = Math.floor(bytes / 4096) * 4096;
  }

  queryBalloon(): { actual: number } {
    this.record('query-balloon');
    return { actual: this.actual };
  }

  queryHvBalloonStatusReport(): { committed: number; available: number } {
    this.record('query-hv-balloon-status-report');
    // QEMU hv-balloon.c qmp_query_hv_balloon_status_report error texts.
    if (!this.statusReport) throw new QmpError('GenericError', 'guest memory status reporting not enabled');
    if (!this.report) throw new QmpError('GenericError', 'no guest memory status report received yet');
    return { ...this.report };
  }

  queryMemoryDevices(): unknown[] {
    this.record('query-memory-devices');
    const data: Record<string, unknown> = { id: 'hvb' };
    if (this.memdev) data.memaddr = this.memdev.addr;
    data['max-size'] = this.memdev?.bytes ?? 0;
    if (this.memdev) data.memdev = this.memdev.path;
    return [{ type: 'hv-balloon', data }];
  }

  hmpInfoBalloon(): string {
    this.record('info balloon');
    return `balloon: actual=${Math.floor(this.actual / MiB)}`;
  }

  hmpInfoMemoryDevices(): string {
    this.record('info memory-devices');
    const lines = ['Memory device [hv-balloon]: "hvb"'];
    if (this.memdev) lines.push(`  memaddr: 0x${this.memdev.addr.toString(16)}`);
    lines.push(`  max-size: ${this.memdev?.bytes ?? 0}`);
    if (this.memdev) lines.push(`  memdev: ${this.memdev.path}`);
    return lines.join('\n');
  }

  systemReset(): void {
    this.record('system_reset');
    this.actual = this.boot;
    this.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
  }

  stop(): void {
    this.record('stop');
    if (this.state === 'running') this.state = 'paused';
    this.emit('STOP');
  }

  cont(): void {
    this.record('cont');
    this.state = 'running';
    this.emit('RESUME');
  }

  quit(): void {
    this.record('quit');
    this.emit('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
    this.state = 'shutdown';
  }

  advance(ms: number): void {
    this.record(`advance ${ms}`);
    this.onAdvance?.();
    this.moveTo(this.time + ms);
  }

  runUntil(t: number): void {
    this.record(`runUntil ${t}`);
    if (t > this.time) this.onAdvance?.();
    this.moveTo(t);
  }

  counters(): Record<string, unknown> {
    return { device: { state: 'IDLE', transId: 3 }, messages: { sent: 12, received: 11 }, balloonCalls: this.calls.filter((c) => c.startsWith('balloon')).length };
  }

  /** Emits any event, as the VM would from inside. */
  emit(event: string, data?: Record<string, unknown>): void {
    const micros = Math.round(this.time * 1000);
    const timestamp = { seconds: 1_700_000_000 + Math.floor(micros / 1e6), microseconds: micros % 1e6 };
    this.subject.next(data === undefined ? { event, timestamp } : { event, data, timestamp });
  }

  private moveTo(t: number): void {
    // The guest reports its memory status every second once status reports are on.
    for (let second = Math.floor(this.time / 1000) + 1; second * 1000 <= t; second++) {
      this.time = second * 1000;
      if (this.statusReport) {
        this.report = { committed: 1 * GiB, available: this.actual - 1 * GiB };
        this.emit('HV_BALLOON_STATUS_REPORT', { ...this.report });
      }
    }
    this.time = t;
  }

  private record(call: string): void {
    this.calls.push(call);
    const failure = this.failNext;
    if (failure) {
      this.failNext = undefined;
      throw failure;
    }
  }
}
