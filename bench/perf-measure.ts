/**
 * Measuring for the issue #14 benchmarks: wall and CPU time of a piece of work, the machine's load
 * average beside them (the cores are shared, so a figure means little without it), and the S_IDLE
 * the device reaches when a balloon phase is over. Wall-clock reads live here in bench/ only.
 */
import type { Session } from 'node:inspector';
import { loadavg } from 'node:os';
import type { AnyActorRef } from 'xstate';
import type { Vm } from '../actors/vm/create-vm';

/** CPU time of this process in ms (every thread: the GC helpers' work is part of the cost). */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall and CPU ms of `work`. */
export function timed<T>(work: () => T): { result: T; wallMs: number; cpuMs: number } {
  const cpu0 = cpuNowMs();
  const t0 = performance.now();
  const result = work();
  return { result, wallMs: performance.now() - t0, cpuMs: cpuNowMs() - cpu0 };
}

/** The 1-minute load average, rounded to 0.01: printed beside every #14 figure. */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/**
 * A flag that goes up the moment the device's trace says it entered S_IDLE (watched on its emitted
 * events, as `compare` does), so a phase ends where the device finished, not at a poll.
 */
export function watchDeviceIdle(vm: Vm): { idle: boolean; reset(): void } {
  const flag = {
    idle: false,
    reset() {
      flag.idle = false;
    },
  };
  const device = vm.root.system.get('device') as AnyActorRef | undefined;
  if (!device) throw new Error('perf bench: the VM has no hv-balloon device');
  device.on('*', (e: { type: string; name?: string; args?: Readonly<Record<string, unknown>> }) => {
    if (e.type === 'trace' && e.name === 'hv_balloon_state_change' && e.args?.to === 'S_IDLE') flag.idle = true;
  });
  return flag;
}

/** Runs the VM in `stepMs` slices until `done()`; throws after `limitMs` of virtual time. */
export function runUntilDone(vm: Vm, done: () => boolean, stepMs: number, limitMs: number, what: string): void {
  const end = vm.now() + limitMs;
  while (!done()) {
    if (vm.now() >= end) throw new Error(`${what}: not done after ${limitMs / 1000} s of virtual time`);
    vm.run(stepMs);
  }
}

/** Sum of the DM message counts. */
export function dmMessageTotal(vm: Vm): number {
  let n = 0;
  for (const count of Object.values(vm.messageCounts())) n += count ?? 0;
  return n;
}

/** A node:inspector call on this thread, answered synchronously (CPU and heap profiles of a phase). */
export function inspectorPost<T>(session: Session, method: string, params?: object): T {
  let result: T | undefined;
  let error: Error | null = null;
  session.post(method, params ?? {}, (err, res) => {
    error = err;
    result = res as T;
  });
  if (error) throw error;
  return result as T;
}
