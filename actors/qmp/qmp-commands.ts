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
