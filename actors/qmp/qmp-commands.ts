/**
 * What QMP commands and HMP commands share: the command semantics on a VmControl (QEMU's HMP
 * commands call the QMP ones, so both fail the same way) and the hooks through which a command
 * reaches the owner of the session (wall-clock follower, process exit).
 */

import { PACKAGE_VERSION } from '../package-root';
import { QmpError, type RunState, type VmControl } from './qmp-types';

/** What a command may ask of whoever runs the monitor; every hook is optional. */
export interface ControlHooks {
  /** x-sim-speed: virtual ms per wall ms (0 stops following). Absent: the monitor does not follow the wall clock. */
  setSpeed?(speed: number): void;
  /** After x-sim-advance, x-sim-run-until or HMP `run` moved virtual time by hand. */
  onTimeJump?(): void;
  /** After `quit` (QMP or HMP): the owner closes the connection and exits. */
  onQuit?(): void;
}

/** hv-balloon appeared in QEMU 8.2, so we present ourselves as 8.2.0. */
export const QEMU_VERSION = { micro: 0, minor: 2, major: 8 } as const;

/** The `package` string of the greeting and query-version. */
export const QMP_PACKAGE = `hv-balloon-sim ${PACKAGE_VERSION}`;

/** QMP `balloon`: value in bytes. */
export function balloonCommand(vm: VmControl, value: number): void {
  // QEMU system/balloon.c: a target <= 0 is refused before the device sees it. The real QEMU text
  // names 'target' (seen in a real QEMU QMP session), although the QMP member is 'value'.
  if (!(value > 0)) throw new QmpError('GenericError', "Parameter 'target' expects a size");
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
