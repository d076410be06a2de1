/**
 * What QMP commands and HMP commands share: the command semantics on a VmControl (QEMU's HMP
 * commands call the QMP ones, so both fail the same way) and the hooks through which a command
 * reaches the owner of the session (wall-clock follower, process exit).
 */

import { PACKAGE_VERSION } from '../package-root';
import { MAX_SPEED, MAX_VIRTUAL_MS, quantizeMs } from '../virtual-time';
import { QmpError, type RunState, type VmControl } from './qmp-types';

/** What a command may ask of whoever runs the monitor; every hook is optional. */
export interface ControlHooks {
  /** x-sim-speed: virtual ms per wall ms (0 stops following). Absent: the monitor does not follow the wall clock. */
  setSpeed?(speed: number): void;
  /** After x-sim-advance, x-sim-run-until or HMP `run` moved virtual time by hand. */
  onTimeJump?(): void;
  /** After `quit` (QMP or HMP): the owner closes the connection and exits. */
  onQuit?(): void;
  /**
   * Present when the owner runs long advances itself, in slices (the QMP server, the monitor):
   * x-sim-advance, x-sim-run-until and HMP `run` check that time can pass, hand the target here
   * and return at once; the owner runs the clock to it and sends the reply when it gets there.
   */
  deferAdvance?(targetMs: number): void;
}

/**
 * Moves virtual time to `targetMs` (x-sim-advance, x-sim-run-until, HMP run): at once, or handed
 * to hooks.deferAdvance. Returns the virtual time the command reports (where time will be).
 */
export function advanceTo(vm: VmControl, targetMs: number, hooks: ControlHooks, param: string): number {
  if (!(targetMs <= MAX_VIRTUAL_MS)) {
    throw new QmpError('GenericError', `Parameter '${param}' would take virtual time past ${MAX_VIRTUAL_MS} ms (about 285 years, the clock's range)`);
  }
  if (hooks.deferAdvance) {
    // Checks now what the advance would refuse later: a stopped, shut down or failed VM.
    vm.runUntil(vm.now());
    const target = Math.max(quantizeMs(targetMs), vm.now());
    hooks.deferAdvance(target);
    return target;
  }
  vm.runUntil(targetMs);
  hooks.onTimeJump?.();
  return vm.now();
}

/** x-sim-speed and --speed: a factor in [0, MAX_SPEED]. */
export function checkSpeed(speed: number): void {
  if (!(speed >= 0) || !Number.isFinite(speed)) throw new QmpError('GenericError', "Parameter 'speed' expects a non-negative number");
  if (speed > MAX_SPEED) throw new QmpError('GenericError', `Parameter 'speed' must be at most ${MAX_SPEED} (virtual ms per wall ms), got ${speed}`);
}

/** The reference version: QEMU 10.0.2, the one the recordings in spec/fixtures/qemu-10-rig ran. */
export const QEMU_VERSION = { micro: 2, minor: 0, major: 10 } as const;

/** The `package` string of the greeting and query-version. */
export const QMP_PACKAGE = `hv-balloon-sim ${PACKAGE_VERSION}`;

/** QMP `balloon`: value in bytes. */
export function balloonCommand(vm: VmControl, value: number): void {
  // QEMU system/balloon.c qmp_balloon: a target <= 0 is refused before the device sees it
  // (QEMU 10.0's text; 8.2 named 'target').
  if (!(value > 0)) throw new QmpError('GenericError', "Parameter 'value' expects a size");
  vm.balloon(value);
}

/** QMP `query-status` (qapi/run-state.json StatusInfo; singlestep is always false for us). */
export function queryStatus(vm: VmControl): { status: RunState; singlestep: false; running: boolean } {
  const status = vm.runState();
  return { status, singlestep: false, running: status === 'running' };
}

/** Runs a command body, turning anything thrown into a QmpError (QmpErrors pass through as they are). */
export function asQmpError(error: unknown): QmpError {
  if (error instanceof QmpError) return error;
  return new QmpError('GenericError', error instanceof Error ? error.message : String(error));
}
