/**
 * Scenarios: a VM configuration plus a list of HMP lines and QMP commands, each run at a virtual
 * time, then a run until a final time. The same scenario and seed give the same result, byte for
 * byte, apart from the wall time it took.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { msToMicros } from '../virtual-clock';
import { SliceSizer, yieldToEventLoop } from '../slicing/time-slicer';
import type { QmpEvent, QmpReply } from '../qmp/qmp-types';
import { createVm, type CreateVmOptions, type Vm, type VmCounters, type VmTraceRecord } from '../vm/create-vm';
import { parseScenario, ScenarioError, type Scenario, type ScenarioStep } from './scenario-parse';

// What reads and checks a scenario lives in scenario-parse.ts (it loads no simulator: a sweep checks
// its axis values with it before any run); it is part of this module's API as before.
export { parseScenario, ScenarioError, type Scenario, type ScenarioStep } from './scenario-parse';

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
