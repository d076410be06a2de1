/**
 * `monitor`: QEMU's human monitor on a simulated VM, at a `(qemu) ` prompt. The REPL is
 * deterministic: virtual time moves only with `run <time>`. `quit`, `q` or end of input exits.
 */

import type { Command } from 'commander';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { PACKAGE_VERSION } from '../../package-root';
import { hmpCommandNames, runHmp } from '../../hmp/hmp';
import type { VmControl } from '../../qmp/qmp-types';
import { startInspectorForCli } from '../inspect-option';
import { stepLine } from '../../scenario/timeline';
import type { CliIo } from '../cli-io';
import { addVmOptions, rejectVmFlagsWithScenario, vmOptionsFromCli, type RawVmOptions } from '../vm-options';

export const HMP_PROMPT = '(qemu) ';
export const MONITOR_BANNER = `hv-balloon-sim ${PACKAGE_VERSION} monitor - type 'help' for more information\n`;

export function registerMonitorCommand(program: Command, io: CliIo): void {
  addVmOptions(program.command('monitor').description('an HMP monitor ((qemu) prompt) on a simulated VM; time moves only with `run <time>`'))
    .addHelpText('after', '\nExample:\n  hv-balloon-sim monitor --memory 4G --maxmem 44G --memdev 8G\n  (qemu) run 60s\n  (qemu) balloon 2048\n  (qemu) run 10s\n  (qemu) info balloon')
    .action(async (raw: RawVmOptions, command: Command) => {
      rejectVmFlagsWithScenario(command);
      const options = vmOptionsFromCli(raw);
      const inspector = options.inspect ? await startInspectorForCli(io, options.inspectPort) : undefined;
      // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
      const { createVmFromOptions } = require('../../vm-factory') as typeof import('../../vm-factory');
      const vm = createVmFromOptions(options, inspector?.vmOptions ?? {}, (step) => io.stderr(`[scenario] ${stepLine(step)}\n`), (text) => io.stderr(`hv-balloon-sim: warning: ${text}\n`));
      try {
        await runMonitor(vm, { input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
      } finally {
        vm.dispose();
        await inspector?.stop();
      }
    });
}

export interface MonitorStreams {
  input: Readable;
  output: Writable;
  /** Line editing and completion (a TTY). Otherwise each command is echoed after the prompt, as QEMU's monitor echoes input. */
  terminal: boolean;
}

/** Runs the REPL until quit or end of input. */
export function runMonitor(vm: VmControl, streams: MonitorStreams): Promise<void> {
  const { input, output, terminal } = streams;
  const names = hmpCommandNames();
  const rl: Interface = terminal
    ? createInterface({
        input,
        output,
        terminal: true,
        prompt: HMP_PROMPT,
        completer: (line: string) => [names.filter((name) => name.startsWith(line.trimStart())), line],
      })
    : createInterface({ input, terminal: false });
  let quit = false;
  const prompt = () => (terminal ? rl.prompt() : output.write(HMP_PROMPT));

  output.write(MONITOR_BANNER);
  prompt();
  return new Promise<void>((resolve) => {
    rl.on('line', (line: string) => {
      if (quit) return;
      if (!terminal) output.write(`${line}\n`);
      output.write(runHmp(vm, line, { onQuit: () => (quit = true) }));
      if (quit) rl.close();
      else prompt();
    });
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      // End of input at the prompt: finish the line.
      if (!quit) output.write('\n');
      resolve();
    });
  });
}
