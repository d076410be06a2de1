/**
 * The hv-balloon-sim command line. Each command lives in its own file under commands/ and is
 * registered here; main() only parses, dispatches and turns errors into one line on stderr.
 */

import { Command, CommanderError } from 'commander';
import { ProtocolError } from '../../protocol/errors';
import { UnitsError } from '../units';
import { PACKAGE_VERSION } from '../package-root';
import { CliError } from './cli-error';
import { processIo, type CliIo } from './cli-io';
import { registerBenchCommand } from './commands/bench';
import { registerCompareCommand } from './commands/compare';
import { registerDecodeCommand } from './commands/decode';
import { registerDiagramCommand } from './commands/diagram';
import { registerEncodeCommand } from './commands/encode';
import { registerMonitorCommand } from './commands/monitor';
import { registerQmpCommand } from './commands/qmp';
import { registerRunCommand } from './commands/run';
import { registerHandshakeCommand } from './commands/handshake';
import { registerFuzzCommand } from '../fuzz/fuzz-command';
import { registerTraceDiffCommand } from './commands/trace-diff';
import { registerSweepCommand } from './commands/sweep';
import { registerWorkerCommand } from './commands/worker';

export const PROGRAM_NAME = 'hv-balloon-sim';

/** Adds one command to the program. Commands must use program.command() so they inherit the output and exit settings. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

/** Every command, in the order `--help` lists them. Add new commands here. */
const COMMANDS: readonly RegisterCommand[] = [
  registerRunCommand,
  registerCompareCommand,
  registerQmpCommand,
  registerMonitorCommand,
  registerDecodeCommand,
  registerEncodeCommand,
  registerHandshakeCommand,
  registerDiagramCommand,
  registerBenchCommand,
  registerFuzzCommand,
  registerTraceDiffCommand,
  registerSweepCommand,
  registerWorkerCommand,
];

/** Usage errors and bad input exit with 2; an unexpected failure (a bug) with 1. */
const EXIT_USAGE = 2;
const EXIT_INTERNAL = 1;

export function createProgram(io: CliIo): Command {
  const program = new Command(PROGRAM_NAME)
    .description("An emulator of the Hyper-V Dynamic Memory protocol as QEMU's hv-balloon device implements it.")
    .version(PACKAGE_VERSION)
    // Both settings are inherited by commands created afterwards with program.command().
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // runCli prints the one error line itself.
      outputError: () => undefined,
    });
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs one command line; resolves to the exit code and never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0; a missing command has printed help already.
      if (error.exitCode === 0) return 0;
      if (error.code === 'commander.help') return EXIT_USAGE;
      printError(io, error.message.replace(/^error: /, ''));
      return EXIT_USAGE;
    }
    if (error instanceof CliError) {
      printError(io, error.message);
      return error.exitCode;
    }
    // Bad input the user can fix: scenario files, VM configuration, sizes and times, wire data.
    if (isBadInput(error)) {
      printError(io, error.message);
      return EXIT_USAGE;
    }
    printError(io, `internal error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_INTERNAL;
  }
}

/**
 * Errors a user can fix. The scenario and VM-config error classes are looked up only here, on the
 * error path: their modules pull in the whole VM, which `decode` and `--version` must not load at
 * start-up (the cli-startup benchmark). Commands load what they need when they run.
 */
function isBadInput(error: unknown): error is Error {
  if (error instanceof ProtocolError || error instanceof UnitsError) return true;
  const { ScenarioError } = require('../scenario/scenario') as typeof import('../scenario/scenario');
  const { VmConfigError } = require('../vm/vm-config') as typeof import('../vm/vm-config');
  return error instanceof ScenarioError || error instanceof VmConfigError;
}

function printError(io: CliIo, message: string): void {
  io.stderr(`${PROGRAM_NAME}: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
}

/** The bin entry point: runs argv against the process streams and sets the exit code. */
export function main(argv: string[]): void {
  // A reader that goes away (`... | head`) is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') printError(processIo, `cannot write output: ${error.message}`);
    process.exit(error.code === 'EPIPE' ? 0 : EXIT_INTERNAL);
  });
  void runCli(argv, processIo).then((code) => {
    process.exitCode = code;
  });
}
