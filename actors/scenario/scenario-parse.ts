/**
 * Reading and checking a scenario (JSON already parsed): the fields, the VM's configuration, the
 * steps and the end time. A module of its own, apart from running one (scenario.ts, which
 * re-exports all of it): it loads the VM's configuration rules but no statechart, so a sweep
 * checks a thousand axis values in a process that never runs the simulator (docs/sweeps.md, Speed).
 */
import { parseDuration } from '../units';
import { MAX_VIRTUAL_MS } from '../virtual-time';
import { normalizeVmConfig, type VmConfigInput } from '../vm/vm-config';

export type ScenarioStep = { at: number; hmp: string } | { at: number; qmp: Record<string, unknown> };

export interface Scenario {
  name: string;
  /** Where it was read from (error messages name it). */
  source?: string;
  description?: string;
  vm: VmConfigInput;
  steps: ScenarioStep[];
  /** Virtual ms the run ends at. */
  until: number;
}

/** A scenario that cannot be read or run; the message names the field (and the file). */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const VM_FIELDS = ['seed', 'machine', 'device', 'guest', 'workload', 'costModel', 'channel', 'memctl'] as const;
const SCENARIO_FIELDS = ['name', 'description', 'steps', 'until', ...VM_FIELDS];

/** Reads and checks a scenario (already parsed from JSON). `source` prefixes error messages. */
export function parseScenario(value: unknown, source = 'scenario'): Scenario {
  const fail = (field: string, message: string): never => {
    throw new ScenarioError(field, `${source}: ${field}: ${message}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('(top level)', 'expected a JSON object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!SCENARIO_FIELDS.includes(key)) fail(key, `unknown field (expected one of: ${SCENARIO_FIELDS.join(', ')})`);
  }
  const name = obj.name ?? 'scenario';
  if (typeof name !== 'string') fail('name', `expected a string, got ${JSON.stringify(name)}`);
  if (obj.description !== undefined && typeof obj.description !== 'string') fail('description', 'expected a string');
  const vm: VmConfigInput = {};
  for (const key of VM_FIELDS) if (obj[key] !== undefined) (vm as Record<string, unknown>)[key] = obj[key];
  try {
    normalizeVmConfig(vm);
  } catch (err) {
    const field = err instanceof Error && 'field' in err ? String((err as { field: unknown }).field) : 'config';
    const message = err instanceof Error ? err.message : String(err);
    // Messages that already open with the field's path keep it once.
    if (message.startsWith(field)) throw new ScenarioError(field, `${source}: ${message}`);
    fail(field, message);
  }
  const rawSteps = obj.steps ?? [];
  if (!Array.isArray(rawSteps)) fail('steps', 'expected an array of {at, hmp} or {at, qmp}');
  const steps: ScenarioStep[] = [];
  let last = 0;
  let lastText = '0';
  (rawSteps as unknown[]).forEach((raw, i) => {
    const where = `steps[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, 'expected an object {at, hmp} or {at, qmp}');
    const step = raw as Record<string, unknown>;
    for (const key of Object.keys(step)) if (!['at', 'hmp', 'qmp'].includes(key)) fail(`${where}.${key}`, 'unknown field (expected at, hmp or qmp)');
    const at = duration(step.at ?? 0, `${where}.at`, source);
    if (at < last) fail(`${where}.at`, `${String(step.at)} is before steps[${i - 1}].at ${lastText}: steps must be in time order`);
    last = at;
    lastText = String(step.at ?? 0);
    if ((step.hmp === undefined) === (step.qmp === undefined)) fail(where, 'needs exactly one of "hmp" (a command line) or "qmp" (a command object)');
    if (step.hmp !== undefined) {
      if (typeof step.hmp !== 'string') fail(`${where}.hmp`, `expected an HMP command line, got ${JSON.stringify(step.hmp)}`);
      steps.push({ at, hmp: step.hmp as string });
    } else {
      if (typeof step.qmp !== 'object' || step.qmp === null || Array.isArray(step.qmp)) {
        fail(`${where}.qmp`, `expected a QMP command object like {"execute": "query-balloon"}, got ${JSON.stringify(step.qmp)}`);
      }
      steps.push({ at, qmp: step.qmp as Record<string, unknown> });
    }
  });
  const until = obj.until === undefined ? last : duration(obj.until, 'until', source);
  if (until < last) fail('until', `${String(obj.until)} is before the last step's time (${lastText})`);
  const scenario: Scenario = { name: name as string, vm, steps, until };
  if (typeof obj.description === 'string') scenario.description = obj.description;
  return scenario;
}

function duration(value: unknown, field: string, source: string): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new ScenarioError(field, `${source}: ${field}: expected a time like "90s" or a number of ms, got ${JSON.stringify(value)}`);
  }
  let ms: number;
  try {
    ms = parseDuration(value, field);
  } catch (err) {
    throw new ScenarioError(field, `${source}: ${(err as Error).message}`);
  }
  if (ms > MAX_VIRTUAL_MS) {
    throw new ScenarioError(field, `${source}: ${field}: ${String(value)} is past the end of virtual time (at most ${MAX_VIRTUAL_MS} ms, about 285 years)`);
  }
  return ms;
}
