/**
 * The kinds of scenario a sweep can vary: a VM scenario (`run`'s format) and a host scenario (many
 * VMs under a memory policy, docs/host.md). A kind says which files are its own, how to check one,
 * and how to run one to its end.
 */
import type { HostVmState } from '../host/create-host';
import { isHostScenario, parseHostScenario } from '../host/host-config';
import { parseScenario } from '../scenario/scenario-parse';

// What runs a scenario (the whole simulator) is loaded by the first run, in a worker process: the
// sweep process reads and checks the sweep file with the parsers alone, and spends its CPU on
// neither the simulator's loading (about 0.13 s) nor anything else the workers beside it need.
const runners = {
  vm: (): typeof import('../scenario/scenario') => require('../scenario/scenario') as typeof import('../scenario/scenario'),
  host: (): typeof import('../host/host-scenario') => require('../host/host-scenario') as typeof import('../host/host-scenario'),
};

/** Loads what runs scenarios of every kind now (a pool worker, before it says it is ready), rather than in its first run. */
export function loadRunners(): void {
  runners.vm();
  runners.host();
}

/** What a kind's run gives back: JSON-able, `final` is what the results file keeps. */
export interface KindRunResult {
  final: unknown;
  /** The whole plain result (figures are read from it by path). */
  result: Record<string, unknown>;
}

export interface ScenarioKind {
  name: string;
  /** Whether a scenario (parsed JSON) is of this kind. */
  matches(json: Record<string, unknown>): boolean;
  /** Throws an error naming `source`, the field and the value when the scenario cannot run. */
  check(json: Record<string, unknown>, source: string): void;
  /**
   * Runs it on a fresh simulation to its end. `onProgress` is called as virtual time passes (the
   * sweep checks its wall-time budget there); it may throw to abandon the run.
   */
  run(json: Record<string, unknown>, source: string, onProgress: () => void): KindRunResult;
  /** Figures summarized when the sweep file names none: name -> path into the result, unit. */
  defaultFigures: Record<string, { path: string; in?: string }>;
}

export const vmScenarioKind: ScenarioKind = {
  name: 'vm',
  matches: (json) => !isHostScenario(json),
  check: (json, source) => {
    parseScenario(json, source);
  },
  run: (json, source, onProgress) => {
    const { vm, wallTimeMs: _wall, ...plain } = runners.vm().runScenario(parseScenario(json, source), { onProgress });
    vm.dispose();
    return { final: plain.final, result: plain as unknown as Record<string, unknown> };
  },
  defaultFigures: { actualMiB: { path: 'final.actualBytes', in: 'MiB' } },
};

/** Per-VM figures added up over a host's VMs (`totals.<name>` in a host run's result). */
const HOST_TOTALS = ['assignedBytes', 'demandBytes', 'pagedBytes', 'hostPagedBytes', 'guestSwapInBytes', 'guestSwapOutBytes', 'guestSwappedBytes', 'residentBytes'] as const;

/**
 * A host scenario: `run host.json`'s result, whose figures are read by path as for a VM
 * (`final.host.overcommitBytes`, `final.vms[0].pagedBytes`, `policy.decisions`), plus two views
 * made for sweeps: `vm.<name>` (a VM of final.vms by its name: `vm.db.pagedBytes`) and
 * `totals.<figure>` (summed over the VMs: `totals.pagedBytes`, `totals.hostPagedBytes`).
 */
export const hostScenarioKind: ScenarioKind = {
  name: 'host',
  matches: (json) => isHostScenario(json),
  check: (json, source) => {
    parseHostScenario(json, source);
  },
  run: (json, source, onProgress) => {
    const scenario = parseHostScenario(json, source);
    const { host, wallTimeMs: _wall, ...plain } = runners.host().runHostScenario(scenario, { onProgress });
    host.dispose();
    const vms = plain.final.vms;
    const totals = Object.fromEntries(HOST_TOTALS.map((key) => [key, vms.reduce((sum, v) => sum + (v[key] ?? 0), 0)]));
    const vm: Record<string, HostVmState> = Object.fromEntries(vms.map((v) => [v.name, v]));
    return { final: plain.final, result: { ...plain, vm, totals } };
  },
  defaultFigures: {
    pagedGiB: { path: 'totals.pagedBytes', in: 'GiB' },
    overcommitGiB: { path: 'final.host.overcommitBytes', in: 'GiB' },
    freeGiB: { path: 'final.host.freeBytes', in: 'GiB' },
  },
};

/** Every kind, most specific first; the VM kind takes whatever no other kind claims. */
export const SCENARIO_KINDS: readonly ScenarioKind[] = [hostScenarioKind, vmScenarioKind];

export function kindOf(json: Record<string, unknown>): ScenarioKind {
  return SCENARIO_KINDS.find((kind) => kind.matches(json)) ?? vmScenarioKind;
}

export function kindNamed(name: string): ScenarioKind {
  const kind = SCENARIO_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown scenario kind "${name}" (known: ${SCENARIO_KINDS.map((k) => k.name).join(', ')})`);
  return kind;
}
