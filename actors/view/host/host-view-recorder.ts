/**
 * Watches a Host and fills a HostViewModel: a sample of the host and every VM at each multiple of
 * the model's period (a timer on the host's virtual clock), every decision and rejection of the
 * policy, the scenario's steps. It only reads the host (hostState, vmStates, the policy's state:
 * O(VMs) numbers a sample, nothing per guest page); the timer it adds changes nothing the VMs do.
 * Used by the live host view and by `run host.json --record`.
 */
import type { Subscription } from 'rxjs';
import type { Host } from '../../host/create-host';
import type { HostScenario } from '../../host/host-config';
import type { HostStepResult } from '../../host/host-scenario';
import { toQmpJson } from '../../qmp/qmp-json';
import { HOST_SERIES, HostViewModel, VM_SERIES, type HostViewInfo, type HostViewLimits, type HostViewSample } from './host-view-model';

/** The overview's finest resolution: one sample a virtual second (coarser as the run grows: host-view-model.ts). */
export const HOST_VIEW_BASE_PERIOD_MS = 1000;

export function hostViewInfo(scenario: HostScenario, host: Host, source?: string): HostViewInfo {
  return {
    name: scenario.name,
    ...(scenario.description ? { description: scenario.description } : {}),
    ...(source !== undefined ? { source } : {}),
    memoryBytes: scenario.memoryBytes,
    reserveBytes: scenario.reserveBytes,
    policy: host.policyKind,
    untilMs: scenario.until,
    vms: host.vms.map((v) => ({
      name: v.name,
      deviceModel: v.deviceModel,
      minimumBytes: v.settings.minimumBytes,
      maximumBytes: v.settings.maximumBytes,
      weight: v.settings.weight,
      bufferPercent: v.settings.bufferPercent,
    })),
  };
}

export class HostViewRecorder {
  readonly model: HostViewModel;
  private timer: ReturnType<Host['clock']['setTimeout']> | undefined;
  private readonly subscriptions: Subscription[] = [];
  private disposed = false;

  constructor(
    private readonly host: Host,
    info: HostViewInfo,
    options: { basePeriodMs?: number; limits?: HostViewLimits } = {},
  ) {
    this.model = new HostViewModel(info, options.basePeriodMs ?? HOST_VIEW_BASE_PERIOD_MS, options.limits);
    this.subscriptions.push(
      host.decisions$.subscribe((d) => this.model.addDecision({ t: d.time, vm: d.vm, fromBytes: d.fromBytes, toBytes: d.toBytes, reason: d.reason, by: d.by })),
      host.rejections$.subscribe((r) => this.model.addNote({ t: r.time, text: `policy decision rejected: ${r.reason}`, ok: false })),
    );
    this.arm();
  }

  /** The host and every VM now. */
  sample(): HostViewSample {
    const h = this.host.hostState();
    const vms = this.host.vmStates();
    const demand = vms.reduce((sum, v) => sum + (v.demandBytes ?? 0), 0);
    const hostValues: Record<(typeof HOST_SERIES)[number], number> = { freeBytes: h.freeBytes, assignedBytes: h.assignedBytes, residentBytes: h.residentBytes, demandBytes: demand };
    return {
      t: this.host.now(),
      host: HOST_SERIES.map((k) => hostValues[k]),
      vms: vms.map((v) => VM_SERIES.map((k) => v[k])),
      policyState: this.host.policyState(),
    };
  }

  /** Brings the model up to virtual time now: the newest state as its tail (between grid samples). */
  catchUp(): void {
    if (!this.disposed) this.model.setTail(this.sample());
  }

  /** A scenario step's reply (a `balloon` step's target also arrives as a decision). */
  step(s: HostStepResult): void {
    const command = typeof s.command === 'string' ? s.command : JSON.stringify(s.command);
    const ok = typeof s.reply === 'string' || !('error' in s.reply);
    const reply = typeof s.reply === 'string' ? s.reply.trimEnd() : toQmpJson(s.reply);
    this.model.addNote({ t: s.at, vm: s.vm, text: `${command}${reply ? ` -> ${reply}` : ''}`, ok });
  }

  note(text: string): void {
    this.model.addNote({ t: this.host.now(), text, ok: true });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.host.clock.clearTimeout(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private arm(): void {
    const due = this.model.nextSampleAt();
    this.timer = this.host.clock.setTimeout(() => {
      this.model.addSample(this.sample());
      this.arm();
    }, Math.max(0, due - this.host.now()));
  }
}
