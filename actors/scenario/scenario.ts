/**
 * Scenarios: a VM configuration plus a list of HMP lines and QMP commands, each run at a virtual
 * time, then a run until a final time. The same scenario and seed give the same result, byte for
 * byte, apart from the wall time it took.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDuration } from '../units';
import { MAX_VIRTUAL_MS, msToMicros } from '../virtual-clock';
import { SliceSizer, yieldToEventLoop } from '../slicing/time-slicer';
import type { QmpEvent, QmpReply } from '../qmp/qmp-types';
import { createVm, type CreateVmOptions, type Vm, type VmCounters, type VmTraceRecord } from '../vm/create-vm';
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

/** Reads a scenario file (JSON). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError('(file)', `${path}: cannot read the scenario file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScenarioError('(file)', `${path}: not valid JSON (${(err as Error).message})`);
  }
  const scenario = parseScenario(json, path);
  // A scenario without a name is called after its file.
  if ((json as { name?: unknown }).name === undefined) scenario.name = basename(path).replace(/\.json$/i, '');
  return { ...scenario, source: path };
}

export interface ScenarioStepResult {
  at: number;
  command: string | Record<string, unknown>;
  reply: QmpReply | string;
}

/** What `run --json` prints. */
export interface ScenarioResult {
  scenario: string;
  virtualTimeMs: number;
  wallTimeMs: number;
  steps: ScenarioStepResult[];
  final: {
    actualBytes: number | null;
    deviceState: string | null;
    guestState: string | null;
    counters: VmCounters;
  };
  messages: Record<string, number>;
  events: QmpEvent[];
}

export interface RunScenarioOptions extends CreateVmOptions {
  /** Called once the VM exists, before any time passes (for collectors that sample it). */
  onStart?: (vm: Vm) => void;
  /** Called as virtual time passes (for a progress bar): virtual ms reached, virtual ms to reach. */
  onProgress?: (virtualMs: number, untilMs: number) => void;
  /** Called for every trace record (for a timeline). */
  onTrace?: (record: VmTraceRecord) => void;
  /** Called after each step with its result. */
  onStep?: (step: ScenarioStepResult) => void;
  /** Wall-clock reader for `wallTimeMs` (the runtime's, never the simulation's). */
  wallNow?: () => number;
}

/** Runs a scenario on a fresh VM and collects its result. */
export function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): ScenarioResult & { vm: Vm } {
  const run = scenarioRun(scenario, options);
  for (;;) {
    const next = run.next();
    if (next.done) return next.value;
  }
}

/** A scenario run that another run's slicing interrupted (SIGINT): how far it got. */
export class ScenarioInterrupted extends Error {
  override readonly name = 'ScenarioInterrupted';
  constructor(readonly virtualTimeMs: number, readonly untilMs: number) {
    super(`interrupted at virtual time ${virtualTimeMs} ms of ${untilMs} ms`);
  }
}

/**
 * runScenario in slices that yield to the event loop (the CLI's `run`): signals and progress are
 * served during a long run, and `signal` stops it (ScenarioInterrupted; the VM is disposed). The
 * result is byte for byte runScenario's: both run the same steps; only the pauses differ.
 */
export async function runScenarioSliced(scenario: Scenario, options: RunScenarioOptions & { signal?: AbortSignal } = {}): Promise<ScenarioResult & { vm: Vm }> {
  const run = scenarioRun(scenario, options);
  for (;;) {
    const next = run.next();
    if (next.done) return next.value;
    if (options.signal?.aborted) {
      const vm = next.value;
      const reached = vm.now();
      vm.dispose();
      throw new ScenarioInterrupted(reached, scenario.until);
    }
    await yieldToEventLoop();
  }
}

/** The run itself, as a generator that pauses (yielding the VM) after every slice of virtual time. */
function* scenarioRun(scenario: Scenario, options: RunScenarioOptions): Generator<Vm, ScenarioResult & { vm: Vm }, void> {
  const wallNow = options.wallNow ?? (() => performance.now());
  const started = wallNow();
  const vm = createVm(scenario.vm, options);
  options.onStart?.(vm);
  const events: QmpEvent[] = [];
  vm.events$.subscribe((e) => events.push(e));
  if (options.onTrace) vm.trace$.subscribe(options.onTrace);
  const steps: ScenarioStepResult[] = [];
  const sizer = new SliceSizer();
  function* advanceTo(t: number, what: string): Generator<Vm, void, void> {
    // Compared in the clock's integer µs: a fractional target is reached exactly, never approached forever.
    const target = msToMicros(t);
    while (vm.clock.nowMicros() < target) {
      try {
        vm.runUntil(Math.min(t, vm.now() + sizer.next()));
      } catch (err) {
        throw new ScenarioError(what, `${scenario.source ?? scenario.name}: ${what}: ${(err as Error).message}`);
      }
      sizer.done();
      options.onProgress?.(vm.now(), scenario.until);
      yield vm;
    }
  }
  for (const [i, step] of scenario.steps.entries()) {
    yield* advanceTo(step.at, `steps[${i}].at`);
    const result = runStep(vm, step);
    steps.push(result);
    options.onStep?.(result);
  }
  if (vm.runState() !== 'shutdown') yield* advanceTo(scenario.until, 'until');
  let actualBytes: number | null = null;
  try {
    actualBytes = vm.queryBalloon().actual;
  } catch {
    actualBytes = null;
  }
  const counters = vm.counters();
  return {
    scenario: scenario.name,
    virtualTimeMs: vm.now(),
    wallTimeMs: Math.round(wallNow() - started),
    steps,
    final: { actualBytes, deviceState: vm.deviceState(), guestState: counters.guest?.dmState ?? counters.virtio?.driver.state ?? null, counters },
    messages: vm.messageCounts() as Record<string, number>,
    events,
    vm,
  };
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

/** Runs one step's HMP line or QMP command on the VM now. */
function runStep(vm: Vm, step: ScenarioStep): ScenarioStepResult {
  return 'hmp' in step ? { at: step.at, command: step.hmp, reply: vm.hmp(step.hmp) } : { at: step.at, command: step.qmp, reply: vm.execute(step.qmp) };
}

/**
 * For a long-running VM (qmp, monitor): run the scenario's steps when virtual time reaches them,
 * reporting each result through `report`. Steps scheduled before `vm.now()` run at once.
 */
export function scheduleScenarioSteps(vm: Vm, scenario: Scenario, report: (step: ScenarioStepResult) => void): void {
  for (const step of scenario.steps) {
    vm.clock.setTimeout(() => report(runStep(vm, step)), Math.max(0, step.at - vm.now()));
  }
}
