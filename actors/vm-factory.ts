/**
 * Builds a VM from the command line's VM flags (`qmp`, `monitor`): QEMU-style flags become the
 * library's VmConfigInput, or a scenario file provides the machine, device, guest and workload.
 */
import type { VmCliOptions } from './cli/vm-options';
import { CliError } from './cli/cli-error';
import type { VmControl } from './qmp/qmp-types';
import { createVm, type CreateVmOptions, type Vm } from './vm/create-vm';
import type { VmConfigInput } from './vm/vm-config';
import { loadScenarioFile } from './scenario/scenario';

/** Real-time mode of a VM's virtual clock (actors/virtual-clock.ts followWallClock). */
export interface WallClockFollowerHandle {
  stop(): void;
  setSpeed(speed: number): void;
  pause(): void;
  resume(): void;
}

/** A VM the CLI can drive: the control surface plus real-time following and teardown. */
export type CliVm = VmControl & {
  followWallClock(speed: number): WallClockFollowerHandle;
  dispose(): void;
};

/** The library config a set of CLI flags describes. */
export function vmConfigFromOptions(options: VmCliOptions): VmConfigInput {
  if (options.scenario !== undefined) {
    const scenario = loadScenarioFile(options.scenario);
    return scenario.vm;
  }
  const maxmem = options.maxmem ?? (options.memdev !== undefined ? undefined : options.memory);
  return {
    machine: {
      memory: options.memory,
      // Room for the memdev window when the user gave none: QEMU would refuse; we say so clearly below.
      ...(maxmem !== undefined ? { maxmem } : {}),
    },
    device: { statusReport: options.statusReport, ...(options.memdev !== undefined ? { memdev: options.memdev } : {}) },
    guest: { profile: options.guest },
    seed: options.seed,
  };
}

export function createVmFromOptions(options: VmCliOptions, extra: CreateVmOptions = {}): Vm {
  const config = vmConfigFromOptions(options);
  if (options.memdev !== undefined && options.maxmem === undefined && options.scenario === undefined) {
    throw new CliError(`--memdev ${options.memdev} needs --maxmem: the memdev window lives in the device-memory area (QEMU -m maxmem=)`);
  }
  return createVm(config, { epochMs: Date.now(), ...extra });
}
