/**
 * The VM a long-running command drives (`qmp`, `monitor`), built from the command line's VM flags
 * with what --inspect and --view add: the inspector is started first (the VM reports to it from
 * its first event), scenario steps go to stderr and into the live view once it runs, QEMU's
 * start-up warnings go to stderr.
 */
import type { Command } from 'commander';
import type { Vm } from '../vm/create-vm';
import { stepLine } from '../scenario/timeline';
import type { CliIo } from './cli-io';
import { startInspectorForCli, type CliInspector } from './inspect-option';
import { parsePort, type CliView } from './view-option';
import { rejectVmFlagsWithScenario, vmOptionsFromCli, type RawVmOptions, type VmCliOptions } from './vm-options';

export interface CliVm {
  vm: Vm;
  options: VmCliOptions;
  /** --view's port (0: a free one), or undefined without --view. */
  viewPort: number | undefined;
  inspector: CliInspector | undefined;
  /** The live view once the command has started it: scenario steps are recorded into it. */
  view: CliView | undefined;
}

export async function createCliVm(raw: RawVmOptions, command: Command, io: CliIo): Promise<CliVm> {
  rejectVmFlagsWithScenario(command);
  const options = vmOptionsFromCli(raw);
  const viewPort = raw.view ? parsePort(raw.viewPort, '--view-port') : undefined;
  const inspector = options.inspect ? await startInspectorForCli(io, options.inspectPort) : undefined;
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { createVmFromOptions } = require('../vm-factory') as typeof import('../vm-factory');
  const session: Omit<CliVm, 'vm'> = { options, viewPort, inspector, view: undefined };
  const vm = createVmFromOptions(
    options,
    inspector?.vmOptions ?? {},
    (step) => {
      io.stderr(`[scenario] ${stepLine(step)}\n`);
      session.view?.source.recorder.step(step);
    },
    (text) => io.stderr(`hv-balloon-sim: warning: ${text}\n`),
  );
  return Object.assign(session, { vm });
}
