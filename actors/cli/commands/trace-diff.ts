/**
 * `trace-diff <qemu-trace.log> <scenario.json> [--json] [--strict-trans-ids]`: runs the scenario
 * and lines its hv_balloon trace points up with a real QEMU trace log (`-trace 'hv_balloon_*'`
 * output), reporting the first divergence in order, kind or fields. Exit 0 when they match, 1 at
 * a divergence, 2 for unreadable input.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import { loadScenarioForCli } from '../scenario-file';
import type { TraceDiffResult } from '../../trace-diff/trace-diff';

interface TraceDiffFlags {
  json?: boolean;
  strictTransIds?: boolean;
}

export function registerTraceDiffCommand(program: Command, io: CliIo): void {
  program
    .command('trace-diff')
    .description("run a scenario and compare its hv_balloon trace points with a QEMU trace log; report the first divergence")
    .argument('<qemu-trace-log>', "QEMU's stderr with -trace 'hv_balloon_*' (other lines are ignored)")
    .argument('<scenario>', 'the scenario JSON file that replays the same run')
    .option('--json', 'print the result as one JSON object')
    .option('--strict-trans-ids', "also compare the guest's transaction ids (they count its status reports, so they follow guest timing)")
    .action((logFile: string, scenarioFile: string, flags: TraceDiffFlags) => {
      const result = traceDiffCommand(logFile, scenarioFile, flags, io);
      if (result.divergence !== null) throw new CliError('the traces diverge (see above)', 1);
    });
}

export function traceDiffCommand(logFile: string, scenarioFile: string, flags: TraceDiffFlags, io: CliIo): TraceDiffResult {
  // Loaded when the command runs, so the CLI starts without the VM (spec/actors/cli-startup.spec.ts).
  const { ScenarioError } = require('../../scenario/scenario') as typeof import('../../scenario/scenario');
  const { TraceLogError } = require('../../trace-diff/qemu-trace-format') as typeof import('../../trace-diff/qemu-trace-format');
  const { formatTraceDiff, traceDiff } = require('../../trace-diff/trace-diff') as typeof import('../../trace-diff/trace-diff');
  let log: string;
  try {
    log = readFileSync(logFile, 'utf8');
  } catch (err) {
    throw new CliError(`<qemu-trace-log>: cannot read ${logFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const scenario = loadScenarioForCli(scenarioFile);
  let result: TraceDiffResult;
  try {
    result = traceDiff(log, scenario, { strictTransIds: flags.strictTransIds === true });
  } catch (err) {
    if (err instanceof TraceLogError) throw new CliError(`${logFile}: ${err.message}`);
    if (err instanceof ScenarioError) throw new CliError(err.message);
    throw err;
  }
  io.stdout(flags.json ? JSON.stringify(result) + '\n' : formatTraceDiff(result));
  return result;
}
