/**
 * The kinds of scenario a sweep can vary. Today: a VM scenario (`run`'s format). A host scenario
 * (many VMs under a memory policy) plugs in here as a second kind once the host part exists: a
 * kind says which files are its own, how to check one, and how to run one to its end.
 */
import { parseScenario, runScenario } from '../scenario/scenario';

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
  matches: (json) => !('host' in json) && !('vms' in json),
  check: (json, source) => {
    parseScenario(json, source);
  },
  run: (json, source, onProgress) => {
    const { vm, wallTimeMs: _wall, ...plain } = runScenario(parseScenario(json, source), { onProgress });
    vm.dispose();
    return { final: plain.final, result: plain as unknown as Record<string, unknown> };
  },
  defaultFigures: { actualMiB: { path: 'final.actualBytes', in: 'MiB' } },
};

/** Every kind, most specific first; the VM kind takes whatever no other kind claims. */
export const SCENARIO_KINDS: readonly ScenarioKind[] = [vmScenarioKind];

export function kindOf(json: Record<string, unknown>): ScenarioKind {
  return SCENARIO_KINDS.find((kind) => kind.matches(json)) ?? vmScenarioKind;
}

export function kindNamed(name: string): ScenarioKind {
  const kind = SCENARIO_KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown scenario kind "${name}" (known: ${SCENARIO_KINDS.map((k) => k.name).join(', ')})`);
  return kind;
}
