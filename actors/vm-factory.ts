/**
 * Builds a VM from the command line's VM flags (`qmp`, `monitor`): QEMU-style flags become the
 * library's VmConfigInput, or a scenario file provides the machine, device, guest and workload.
 */
import type { VmCliOptions } from './cli/vm-options';
import { CliError } from './cli/cli-error';
import { formatSize } from './units';
import { DEVICE_MEMORY_ALIGN_BYTES } from '../protocol/constants';
import type { VmControl } from './qmp/qmp-types';
import { createVm, type CreateVmOptions, type Vm } from './vm/create-vm';
import { VmConfigError, type VmConfigInput } from './vm/vm-config';
import { loadScenarioFile, scheduleScenarioSteps, type ScenarioStepResult } from './scenario/scenario';

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
  if (options.device === 'virtio-balloon') {
    // hv-balloon's flags are passed on, so the config check can say why they do not apply.
    return {
      machine: { memory: options.memory, ...(options.maxmem !== undefined ? { maxmem: options.maxmem } : {}) },
      device: {
        model: 'virtio-balloon',
        ...(options.statusReport ? { statusReport: true } : {}),
        ...(options.memdev !== undefined ? { memdev: options.memdev } : {}),
      },
      guest: { profile: options.guest },
      seed: options.seed,
    };
  }
  return {
    // Without --maxmem, maxmem is the boot size, as in QEMU (no device-memory area).
    machine: {
      ...(options.machine !== undefined ? { type: options.machine } : {}),
      memory: options.memory,
      ...(options.maxmem !== undefined ? { maxmem: options.maxmem } : {}),
    },
    device: { statusReport: options.statusReport, ...(options.memdev !== undefined ? { memdev: options.memdev } : {}) },
    guest: { profile: options.guest },
    seed: options.seed,
  };
}

/**
 * The VM the flags describe. With --scenario, the scenario gives the VM and its steps run when
 * virtual time reaches them (each result goes to `onStep`).
 */
export function createVmFromOptions(
  options: VmCliOptions,
  extra: CreateVmOptions = {},
  onStep: (step: ScenarioStepResult) => void = () => undefined,
  onWarning: (text: string) => void = () => undefined,
): Vm {
  if (options.memdev !== undefined && options.maxmem === undefined && options.scenario === undefined && options.device !== 'virtio-balloon') {
    throw new CliError(`--memdev ${formatSize(options.memdev)} needs --maxmem: the memdev window lives in the device-memory area (QEMU -m maxmem=), e.g. --maxmem ${formatSize(options.memory + options.memdev + DEVICE_MEMORY_ALIGN_BYTES)}`);
  }
  const scenario = options.scenario === undefined ? undefined : loadScenarioFile(options.scenario);
  const config = scenario ? scenario.vm : vmConfigFromOptions(options);
  // QMP timestamps are wall-clock epoch seconds, as QEMU's are; virtual time 0 is now.
  let vm: Vm;
  try {
    vm = createVm(config, { epochMs: Date.now(), ...extra });
  } catch (err) {
    // The library names scenario fields; on the command line the user typed flags.
    if (err instanceof VmConfigError && !scenario) throw new CliError(flagWording(err.message));
    throw err;
  }
  // QEMU prints its warnings (warn_report) on stderr; so do we, with the page count where QEMU
  // would print the same line once per page. First those of start-up.
  for (const text of vm.startupWarnings) onWarning(text);
  vm.trace$.subscribe((r) => {
    if (r.kind === 'device' && r.event.type === 'warning') onWarning(r.event.repeat > 1 ? `${r.event.text} (x${r.event.repeat})` : r.event.text);
    if (r.kind === 'failure') onWarning(`the simulation stopped: ${r.message}`);
  });
  if (scenario) scheduleScenarioSteps(vm, scenario, onStep);
  return vm;
}

/** A config error in the words of the command line: machine.maxmem -> --maxmem, and so on. */
function flagWording(message: string): string {
  return message
    .replace(/^machine\.memory\b/, '--memory')
    .replace(/^machine\.maxmem\b/, '--maxmem')
    .replace(/^device\.memdev\b/, '--memdev')
    .replace(/^device\.statusReport\b/, '--status-report')
    .replace(/^guest\.profile\b/, '--guest');
}
