/**
 * createHost: many VMs on one host's memory, on ONE virtual clock, with a memory policy. Each VM is
 * the full VM of createVm (any guest profile, either balloon device); the host reads what a host
 * can — query-balloon, the guest's status reports (HV_BALLOON_STATUS_REPORT events), what each VM
 * holds resident — and acts only with `balloon` targets. Every `policy.interval` the policy actor
 * gets a `policy.tick` and answers with decisions (machines/policy/policy-types.ts), each traced
 * with its reason. Deterministic: the host's seed gives every VM its seed.
 */
import { createActor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { Observable } from 'rxjs';
// Subject from its own module, not rxjs's index (~300 modules): every sweep worker and CLI start loads this.
import { Subject } from 'rxjs/internal/Subject';
import { PAGE_SIZE } from '../../protocol/constants';
import { HostMemoryLedger, type HostLedgerSnapshot } from '../../machines/host/host-memory';
import { hypervPolicyMachine } from '../../machines/policy/hyperv-policy.machine';
import { manualPolicyMachine } from '../../machines/policy/manual-policy.machine';
import { functionPolicyMachine } from '../../machines/policy/function-policy.machine';
import type { DynamicMemorySettings } from '../../machines/policy/dynamic-memory';
import type { PolicyDecisionEvent, PolicyFunction, PolicyTickEvent, PolicyVmView } from '../../machines/policy/policy-types';
import { formatSizeShort } from '../../machines/policy/policy-units';
import { VirtualClock } from '../virtual-clock';
import { createVm, type CreateVmOptions, type Vm } from '../vm/create-vm';
import type { QmpReply } from '../qmp/qmp-types';
import { probeFor, type DeviceProbe } from './device-probe';
import type { HostScenario, HostStep } from './host-config';

/** One VM of the host. */
export interface HostVm {
  readonly name: string;
  readonly vm: Vm;
  readonly settings: DynamicMemorySettings;
  readonly deviceModel: string;
}

/** A target the host set, and why (a policy decision or a scenario step). */
export interface HostDecisionRecord {
  time: number;
  vm: string;
  fromBytes: number;
  toBytes: number;
  reason: string;
  by: 'policy' | 'step';
}

/** What `run --json` reports per VM (final.vms). */
export interface HostVmState {
  name: string;
  /** query-balloon actual: the memory the VM has now. */
  assignedBytes: number;
  /** Demand from its last status report (committed less ballooned); null before the first. */
  demandBytes: number | null;
  targetBytes: number;
  minimumBytes: number;
  maximumBytes: number;
  /** All paging this VM did: guest swap in + out, and host paging of its memory. */
  pagedBytes: number;
  residentBytes: number;
  guestSwapInBytes: number;
  guestSwapOutBytes: number;
  guestSwappedBytes: number;
  hostPagedBytes: number;
  weight: number;
  bufferPercent: number;
}

export interface HostState {
  memoryBytes: number;
  /** Host memory not held by any VM nor reserved. */
  freeBytes: number;
  reserveBytes: number;
  residentBytes: number;
  assignedBytes: number;
  overcommitBytes: number;
}

export interface CreateHostOptions {
  /** Epoch of virtual time 0 for the VMs' QMP timestamps (ms since 1970). */
  epochMs?: number;
  /** Per-VM createVm options (e.g. an inspector for one of them). */
  vmOptions?: (name: string) => CreateVmOptions;
  /** Loads a `module` policy (default: require). */
  loadModule?: (path: string) => unknown;
}

interface VmSlot extends HostVm {
  probe: DeviceProbe;
  targetBytes: number;
  report: { committedBytes: number; at: number } | null;
  /** When the host last changed the target, and when the VM first reached it since (null: not yet). */
  change: { at: number; reachedAt: number | null };
}

/**
 * A VM that has not reached its target this long after a change is treated as settled (it may
 * never: floor, refusals), once no transaction is under way: a hot-add the guest is slow to online
 * still grows the VM toward the target it was planned for, and a cut made meanwhile would let the
 * policy give that memory to another VM too.
 */
export const SETTLE_TIMEOUT_MS = 30_000;

/** Bad policy module or decision; the message says what. */
export class HostError extends Error {
  override readonly name = 'HostError';
}

export class Host {
  readonly clock = new VirtualClock();
  readonly vms: readonly HostVm[];
  readonly policy: AnyActorRef;
  /** The policy's kind as it runs: a module exporting `policy` runs as "function". */
  readonly policyKind: string;
  private readonly slots: VmSlot[];
  private readonly byName = new Map<string, VmSlot>();
  private readonly ledger: HostMemoryLedger;
  private readonly decisionSubject = new Subject<HostDecisionRecord>();
  readonly decisions$: Observable<HostDecisionRecord> = this.decisionSubject.asObservable();
  private readonly rejectionSubject = new Subject<{ time: number; reason: string }>();
  /** Decisions a policy made that the host could not apply (unknown VM, bad target, a throw). */
  readonly rejections$ = this.rejectionSubject.asObservable();
  private tickTimer: ReturnType<VirtualClock['setTimeout']> | undefined;
  private disposed = false;

  constructor(
    readonly scenario: HostScenario,
    options: CreateHostOptions = {},
  ) {
    this.slots = scenario.vms.map((spec) => {
      const vm = createVm(spec.vm, { ...(options.vmOptions?.(spec.name) ?? {}), clock: this.clock, epochMs: options.epochMs ?? 0 });
      const slot: VmSlot = { name: spec.name, vm, settings: spec.settings, deviceModel: spec.deviceModel, probe: probeFor(vm, spec.deviceModel), targetBytes: spec.settings.startupBytes, report: null, change: { at: 0, reachedAt: 0 } };
      vm.events$.subscribe((e) => {
        if (e.event !== 'HV_BALLOON_STATUS_REPORT') return;
        slot.report = { committedBytes: Number((e.data as { committed: number }).committed), at: this.clock.now() };
      });
      this.byName.set(spec.name, slot);
      return slot;
    });
    this.vms = this.slots;
    this.ledger = new HostMemoryLedger(scenario.memoryBytes, scenario.reserveBytes, this.slots.length);
    const policy = resolvePolicy(scenario, options.loadModule);
    this.policyKind = policy.kind;
    this.policy = createActor(policy.logic, { input: policy.input, clock: this.clock });
    this.policy.on('policy.decision', (e: PolicyDecisionEvent) => this.applyDecision(e));
    this.policy.on('policy.rejected', (e: { reason: string }) => this.rejectionSubject.next({ time: this.clock.now(), reason: e.reason }));
    this.policy.start();
    this.sampleLedger();
    this.armTick();
  }

  now(): number {
    return this.clock.now();
  }

  /** Advance the whole host (every VM, the policy) by `ms` of virtual time. */
  run(ms: number): void {
    this.runUntil(this.clock.now() + ms);
  }

  runUntil(t: number): void {
    this.clock.runUntil(t);
    this.sampleLedger();
  }

  /** The VM called `name`. */
  vm(name: string): Vm {
    const slot = this.byName.get(name);
    if (!slot) throw new HostError(`no VM named "${name}" on this host (VMs: ${this.slots.map((s) => s.name).join(', ')})`);
    return slot.vm;
  }

  /** Set a VM's balloon target as the host (a step or a library caller); traced like a decision. */
  setTarget(name: string, bytes: number, reason: string): void {
    const slot = this.byName.get(name);
    if (!slot) throw new HostError(`no VM named "${name}" on this host`);
    this.balloon(slot, bytes, reason, 'step');
  }

  /** Runs a scenario step on its VM; a `balloon` also becomes the host's target for the VM. */
  runStep(step: HostStep): QmpReply | string {
    const slot = this.byName.get(step.vm)!;
    if ('hmp' in step) {
      const m = /^\s*balloon\s+(\d+)\s*$/.exec(step.hmp);
      const reply = slot.vm.hmp(step.hmp);
      if (m) this.noteTarget(slot, Number(m[1]) * 2 ** 20, `step: ${step.hmp.trim()}`);
      return reply;
    }
    const reply = slot.vm.execute(step.qmp);
    const args = step.qmp.arguments as { value?: unknown } | undefined;
    if (step.qmp.execute === 'balloon' && 'return' in reply && typeof args?.value === 'number') this.noteTarget(slot, args.value, 'step: balloon');
    return reply;
  }

  /** The host's memory now. */
  hostState(): HostState {
    const l: HostLedgerSnapshot = this.ledger.snapshot();
    const assigned = this.slots.reduce((sum, s) => sum + (s.probe.actualBytes() ?? s.targetBytes), 0);
    return { memoryBytes: l.memoryBytes, freeBytes: l.freeBytes, reserveBytes: l.reserveBytes, residentBytes: l.residentBytes, assignedBytes: assigned, overcommitBytes: l.overcommitBytes };
  }

  /** Each VM now, as `run --json` reports it. */
  vmStates(): HostVmState[] {
    return this.slots.map((s, i) => {
      const mem = s.vm.memory.swapStats();
      const ledger = this.ledger.vms[i]!;
      const swapIn = mem.swapInPages * PAGE_SIZE;
      const swapOut = mem.swapOutPages * PAGE_SIZE;
      return {
        name: s.name,
        assignedBytes: s.probe.actualBytes() ?? 0,
        demandBytes: this.demandOf(s),
        targetBytes: s.targetBytes,
        minimumBytes: s.settings.minimumBytes,
        maximumBytes: s.settings.maximumBytes,
        pagedBytes: swapIn + swapOut + ledger.hostPagingTrafficBytes,
        residentBytes: ledger.residentBytes,
        guestSwapInBytes: swapIn,
        guestSwapOutBytes: swapOut,
        guestSwappedBytes: mem.swappedPages * PAGE_SIZE,
        hostPagedBytes: ledger.hostPagedBytes,
        weight: s.settings.weight,
        bufferPercent: s.settings.bufferPercent,
      };
    });
  }

  /** The policy's current state name (e.g. "balancing.constrained"). */
  policyState(): string {
    const value = (this.policy.getSnapshot() as { value: unknown }).value;
    return typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}.${String(v)}`).join(',');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clock.clearTimeout(this.tickTimer);
    this.policy.stop();
    for (const s of this.slots) s.vm.dispose();
    this.decisionSubject.complete();
    this.rejectionSubject.complete();
  }

  // ---- internals ----------------------------------------------------------------------------------
  private armTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.sampleLedger();
      this.policy.send(this.tickEvent());
      this.armTick();
    }, this.scenario.policy.intervalMs);
  }

  private tickEvent(): PolicyTickEvent {
    const now = this.clock.now();
    const vms: PolicyVmView[] = this.slots.map((s) => {
      const actualBytes = s.probe.actualBytes();
      if (s.change.reachedAt === null && actualBytes === s.targetBytes) s.change.reachedAt = now;
      const reached = s.change.reachedAt !== null && s.report !== null && s.report.at > s.change.reachedAt;
      return {
        name: s.name,
        settings: s.settings,
        actualBytes,
        demandBytes: this.demandOf(s),
        reportedAt: s.report?.at ?? null,
        targetBytes: s.targetBytes,
        settled: reached || (now - s.change.at >= SETTLE_TIMEOUT_MS && !s.probe.midOperation()),
      };
    });
    return { type: 'policy.tick', now: this.clock.now(), host: { memoryBytes: this.scenario.memoryBytes, reserveBytes: this.scenario.reserveBytes }, vms };
  }

  private demandOf(s: VmSlot): number | null {
    if (!s.report) return null;
    return Math.max(0, s.report.committedBytes - s.probe.balloonedBytes());
  }

  private sampleLedger(): void {
    this.ledger.sample(this.slots.map((s) => s.vm.memory.residentPages() * PAGE_SIZE));
  }

  private applyDecision(e: PolicyDecisionEvent): void {
    const slot = this.byName.get(e.vm);
    if (!slot) {
      this.rejectionSubject.next({ time: this.clock.now(), reason: `decision for unknown VM "${e.vm}"` });
      return;
    }
    // The host enforces each VM's limits, whoever wrote the policy.
    const { minimumBytes, maximumBytes } = slot.settings;
    const bytes = Math.min(maximumBytes, Math.max(minimumBytes, e.targetBytes));
    const reason = bytes === e.targetBytes ? e.reason : `${e.reason} (host clamped ${formatSizeShort(e.targetBytes)} to [${formatSizeShort(minimumBytes)}, ${formatSizeShort(maximumBytes)}])`;
    this.balloon(slot, bytes, reason, 'policy');
  }

  private balloon(slot: VmSlot, bytes: number, reason: string, by: 'policy' | 'step'): void {
    if (bytes === slot.targetBytes) return;
    slot.vm.balloon(bytes);
    this.noteTarget(slot, bytes, reason, by);
  }

  private noteTarget(slot: VmSlot, bytes: number, reason: string, by: 'policy' | 'step' = 'step'): void {
    const from = slot.targetBytes;
    slot.targetBytes = bytes;
    slot.change = { at: this.clock.now(), reachedAt: null };
    this.decisionSubject.next({ time: this.clock.now(), vm: slot.name, fromBytes: from, toBytes: bytes, reason, by });
  }
}

export function createHost(scenario: HostScenario, options: CreateHostOptions = {}): Host {
  return new Host(scenario, options);
}

/** The policy's actor logic and input; a module is loaded here. */
function resolvePolicy(scenario: HostScenario, loadModule: ((path: string) => unknown) | undefined): { kind: string; logic: AnyActorLogic; input: unknown } {
  const p = scenario.policy;
  switch (p.kind) {
    case 'hyperv':
      return { kind: p.kind, logic: hypervPolicyMachine, input: { hysteresisBytes: p.hysteresisBytes } };
    case 'manual':
      return { kind: p.kind, logic: manualPolicyMachine, input: {} };
    case 'function':
      return { kind: p.kind, logic: functionPolicyMachine, input: { decide: p.decide, name: p.name } };
    case 'module': {
      let mod: unknown;
      try {
        mod = (loadModule ?? loadPolicyModule)(p.module);
      } catch (err) {
        throw new HostError(`host.policy.module: cannot load ${p.module} (${(err as Error).message.split('\n')[0]})`);
      }
      const m = mod as { policy?: unknown; machine?: unknown };
      if (typeof m.policy === 'function') {
        return { kind: 'function', logic: functionPolicyMachine, input: { decide: m.policy as PolicyFunction, name: p.module.split('/').pop() ?? p.module } };
      }
      if (typeof m.machine === 'object' && m.machine !== null && 'transition' in m.machine) return { kind: 'machine', logic: m.machine as AnyActorLogic, input: {} };
      throw new HostError(`host.policy.module: ${p.module} exports neither "policy" (a function) nor "machine" (an XState machine)`);
    }
  }
}

/** A policy module: .js as is; .ts through ts-node when it is installed (as in this repository). */
function loadPolicyModule(path: string): unknown {
  if (/\.[cm]?ts$/.test(path) && !('.ts' in require.extensions)) {
    let tsNode: { register(options: object): unknown };
    try {
      tsNode = require('ts-node') as typeof tsNode;
    } catch {
      throw new HostError(`host.policy.module: ${path} is TypeScript: install ts-node (npm i -D ts-node) or give the compiled .js`);
    }
    tsNode.register({ transpileOnly: true, compilerOptions: { module: 'commonjs', moduleResolution: 'node' } });
  }
  return require(path);
}
