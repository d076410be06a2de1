/**
 * `compare <scenario.json> [--json] [--report file.html]`: runs a scenario once with hv-balloon and
 * once with virtio-balloon and prints them side by side (docs/virtio-balloon.md#compare). A
 * progress bar goes to stderr when the runs take more than a second of wall time.
 */
import { accessSync, constants as fsConstants, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { MultiBar, SingleBar } from 'cli-progress';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import { loadScenarioForCli } from '../scenario-file';
import type { CompareResult } from '../../compare/compare-run';
import type { DeviceModel } from '../../vm/device-model';

interface CompareFlags {
  json?: boolean;
  report?: string;
}

export function registerCompareCommand(program: Command, io: CliIo): void {
  program
    .command('compare')
    .description('run a scenario with hv-balloon and with virtio-balloon and show them side by side')
    .argument('<scenario>', 'path of the scenario JSON file (its device options of either model are kept for that model)')
    .option('--json', 'print one JSON object instead of the table')
    .option('--report <file>', 'also write an HTML page with both memory curves on one chart')
    .action((file: string, flags: CompareFlags) => {
      compareCommand(file, flags, io);
    });
}

export function compareCommand(file: string, flags: CompareFlags, io: CliIo): CompareResult {
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { compareScenario } = require('../../compare/compare-run') as typeof import('../../compare/compare-run');
  const { compareHtml, compareJson, compareTable } = require('../../compare/compare-report') as typeof import('../../compare/compare-report');
  const { MultiBar, Presets } = require('cli-progress') as typeof import('cli-progress');
  if (flags.report !== undefined) checkReportDir(flags.report);
  const scenario = loadScenarioForCli(file);
  const wallStart = performance.now();
  let bars: MultiBar | undefined;
  const bar: Partial<Record<DeviceModel, SingleBar>> = {};
  const result = compareScenario(scenario, {
    onProgress: (model, t, until) => {
      if (flags.json || until <= 0 || !process.stderr.isTTY) return;
      if (!bars && performance.now() - wallStart > 1000) {
        bars = new MultiBar({ format: '{model} {bar} {percentage}% | {value}/{total} s virtual', stream: process.stderr, clearOnComplete: true }, Presets.shades_classic);
      }
      if (!bars) return;
      bar[model] ??= bars.create(Math.round(until / 1000), 0, { model: model.padEnd(14) });
      bar[model]!.update(Math.round(t / 1000), { model: model.padEnd(14) });
    },
  });
  bars?.stop();
  if (flags.json) io.stdout(JSON.stringify(compareJson(result), null, 2) + '\n');
  else {
    io.stdout(`hv-balloon-sim compare: ${result.scenario}\n`);
    if (result.description) io.stdout(`  ${result.description}\n`);
    io.stdout('\n' + compareTable(result) + '\n');
  }
  if (flags.report !== undefined) {
    try {
      writeFileSync(flags.report, compareHtml(result));
    } catch (err) {
      throw new CliError(`--report: cannot write "${flags.report}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (!flags.json) io.stdout(`\nreport: ${flags.report}\n`);
  }
  return result;
}

/** Refuse an unwritable report path before two long runs, not after them. */
function checkReportDir(file: string): void {
  if (file.trim() === '') throw new CliError('--report: expected a file name for the HTML report, got ""');
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (err) {
    throw new CliError(`--report: cannot write "${file}": the directory ${dir} is missing or not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
