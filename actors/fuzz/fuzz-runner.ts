/**
 * Runs fuzz cases: each seed's VM takes its actions one by one; after every step the invariants are
 * checked and any exception escaping the VM's API is recorded. A break names the seed and the
 * step, which replay it (`fuzz --profile P --start SEED --seeds 1 --verbose`).
 */
import { createVm, type Vm } from '../vm/create-vm';
import { QmpError } from '../qmp/qmp-types';
import { fuzzCase, type FuzzAction, type FuzzProfile } from './fuzz-case';
import { checkInvariants, isQmpShaped, type InvariantBreak } from './fuzz-invariants';

export interface FuzzBreak extends InvariantBreak {
  seed: number;
  /** 0-based index of the action after which the invariant broke. */
  step: number;
  action: string;
}

export interface SeedResult {
  seed: number;
  steps: number;
  virtualMs: number;
  breaks: FuzzBreak[];
  /** Exceptions that escaped the VM's API (each is also a break). */
  exceptions: number;
}

export interface FuzzSummary {
  profile: FuzzProfile;
  seeds: number;
  firstSeed: number;
  steps: number;
  virtualMs: number;
  wallMs: number;
  cpuMs: number;
  exceptions: number;
  breaks: FuzzBreak[];
}

/** A step as text: `balloon 123456789`, `advance 12.345678ms`. */
export function describeAction(action: FuzzAction): string {
  switch (action.kind) {
    case 'advance':
      return `advance ${action.ms}ms`;
    case 'balloon':
      return `balloon ${action.bytes}`;
    case 'hmp':
      return `hmp ${action.line}`;
    default:
      return action.kind;
  }
}

/** Runs one seed; `onStep` sees every step (for --verbose). */
export function runFuzzSeed(profile: FuzzProfile, seed: number, steps: number, onStep?: (step: number, action: string, reply: unknown) => void): SeedResult {
  const c = fuzzCase(profile, seed, steps);
  const result: SeedResult = { seed, steps: 0, virtualMs: 0, breaks: [], exceptions: 0 };
  let vm: Vm;
  try {
    vm = createVm(c.config);
  } catch (error) {
    result.exceptions++;
    result.breaks.push({ seed, step: -1, action: 'createVm', invariant: 'the VM builds', detail: messageOf(error) });
    return result;
  }
  try {
    c.actions.forEach((action, step) => {
      if (result.breaks.length > 0) return;
      const text = describeAction(action);
      let reply: unknown;
      try {
        reply = perform(vm, action);
      } catch (error) {
        result.exceptions++;
        result.breaks.push({ seed, step, action: text, invariant: 'no exception escapes', detail: messageOf(error) });
        return;
      }
      onStep?.(step, text, reply);
      result.steps++;
      if (typeof reply === 'object' && !isQmpShaped(reply)) {
        result.breaks.push({ seed, step, action: text, invariant: 'replies are QEMU-shaped', detail: JSON.stringify(reply) });
      }
      const resetOk = action.kind === 'system_reset' && typeof reply === 'object' && reply !== null && 'return' in reply;
      for (const b of checkInvariants(vm, c.bootBytes, resetOk)) result.breaks.push({ seed, step, action: text, ...b });
    });
    result.virtualMs = vm.now();
  } finally {
    vm.dispose();
  }
  return result;
}

function perform(vm: Vm, action: FuzzAction): unknown {
  switch (action.kind) {
    case 'advance':
      try {
        vm.run(action.ms);
        return { return: { ms: vm.now() } };
      } catch (error) {
        // A stopped VM refuses to let time pass: a QMP error, as x-sim-advance answers.
        if (error instanceof QmpError) return { error: { class: error.errorClass, desc: error.desc } };
        throw error;
      }
    case 'balloon':
      return vm.execute({ execute: 'balloon', arguments: { value: action.bytes } });
    case 'hmp':
      return vm.hmp(action.line);
    default:
      return vm.execute({ execute: action.kind });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs `seeds` seeds from `firstSeed`, yielding to the event loop between seeds (so SIGINT and
 * progress output are served); `onSeed` sees each seed's result.
 */
export async function runFuzz(options: {
  profile: FuzzProfile;
  seeds: number;
  firstSeed?: number;
  steps?: number;
  onSeed?: (result: SeedResult, done: number) => void;
  onStep?: (seed: number, step: number, action: string, reply: unknown) => void;
  signal?: AbortSignal;
}): Promise<FuzzSummary> {
  const firstSeed = options.firstSeed ?? 1;
  const steps = options.steps ?? 40;
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const summary: FuzzSummary = { profile: options.profile, seeds: 0, firstSeed, steps: 0, virtualMs: 0, wallMs: 0, cpuMs: 0, exceptions: 0, breaks: [] };
  for (let i = 0; i < options.seeds; i++) {
    if (options.signal?.aborted) break;
    const seed = firstSeed + i;
    const onStep = options.onStep;
    const result = runFuzzSeed(options.profile, seed, steps, onStep ? (step, action, reply) => onStep(seed, step, action, reply) : undefined);
    summary.seeds++;
    summary.steps += result.steps;
    summary.virtualMs += result.virtualMs;
    summary.exceptions += result.exceptions;
    summary.breaks.push(...result.breaks);
    options.onSeed?.(result, i + 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  summary.wallMs = Math.round(performance.now() - wallStart);
  const cpu = process.cpuUsage(cpuStart);
  summary.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  summary.virtualMs = Math.round(summary.virtualMs);
  return summary;
}
