/**
 * `run <scenario.json> [--json] [--verbose] [--inspect] [--report file.html]`: runs a scenario to
 * its end. Without --json: a readable timeline and a summary table, and a progress bar (on stderr)
 * when the run takes more than a second of wall time. With --json: one JSON object (see
 * docs/scenarios.md). --report also writes a self-contained HTML report of the run.
 */
import { accessSync, constants as fsConstants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import type { RunScenarioOptions, ScenarioResult } from '../../scenario/scenario';
import { stepLine, summaryTable, traceLine } from '../../scenario/timeline';
import { startInspectorForCli } from '../inspect-option';
import { readHostScenarioJson } from '../../host/host-detect';
import type { HostRunOutput } from '../../host/host-run-command';
import { bigintReplacer } from '../../qmp/qmp-json';

interface RunFlags {
  json?: boolean;
  verbose?: boolean;
  inspect?: boolean;
  inspectWait?: string;
  report?: string;
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run a scenario file (JSON): a VM, HMP/QMP steps at virtual times, a final time')
    .argument('<scenario>', 'path of the scenario JSON file')
    .option('--json', 'print one JSON object instead of the timeline')
    .option('--verbose', 'also show device state changes, DM packets and status reports')
    .option('--inspect', 'show the VM in the Stately inspector (needs internet for the hosted UI)')
    .option('--inspect-wait <seconds>', 'with --inspect: wait up to this long for the inspector page to connect before running', '0')
    .option('--report <file>', 'also write an offline HTML report of the run (charts, device states, DM messages) to this file')
    .action(async (file: string, flags: RunFlags) => {
      await runCommand(file, flags, io);
    });
}

export async function runCommand(file: string, flags: RunFlags, io: CliIo): Promise<ScenarioResult | HostRunOutput> {
  // A host scenario ("host" + "vms": actors/host/) has its own runner and output.
  if (readHostScenarioJson(file)) {
    if (flags.inspect) throw new CliError('--inspect: not available for host scenarios (one inspector per VM is not supported yet)');
    if (flags.report !== undefined) checkReportPath(flags.report);
    const { runHostCommand } = require('../../host/host-run-command') as typeof import('../../host/host-run-command');
    return runHostCommand(file, flags, io);
  }
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { loadScenarioFile, runScenarioSliced, ScenarioError, ScenarioInterrupted } = require('../../scenario/scenario') as typeof import('../../scenario/scenario');
  const { ReportCollector } = require('../../report/report-collector') as typeof import('../../report/report-collector');
  const { renderHtmlReport } = require('../../report/html-report') as typeof import('../../report/html-report');
  const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
  let scenario;
  try {
    scenario = loadScenarioFile(file);
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError(err.message);
    throw err;
  }
  const waitSec = Number(flags.inspectWait ?? '0');
  if (!Number.isFinite(waitSec) || waitSec < 0) throw new CliError(`--inspect-wait: expected seconds >= 0, got "${flags.inspectWait}"`);
  // Refuse an unwritable report path before a long run, not after it.
  if (flags.report !== undefined) checkReportPath(flags.report);
  const collector = flags.report !== undefined ? new ReportCollector(scenario) : undefined;
  const inspector = flags.inspect ? await startInspectorForCli(io) : undefined;
  if (inspector && waitSec > 0) {
    io.stderr(`waiting up to ${waitSec} s for the inspector page to connect...\n`);
    io.stderr((await inspector.waitForViewer(waitSec * 1000)) ? 'inspector connected\n' : 'no inspector page connected; running anyway\n');
  }
  const show = (line: string | undefined): void => {
    if (line === undefined || flags.json) return;
    io.stdout(line + '\n');
  };
  if (!flags.json) {
    show(`hv-balloon-sim: ${scenario.name}`);
    if (scenario.description) show(wrap(scenario.description, 100, '  '));
    show('');
  }
  const wallStart = performance.now();
  let bar: SingleBar | undefined;
  try {
    const options: RunScenarioOptions = {
      ...(inspector?.vmOptions ?? {}),
      onTrace: flags.json ? undefined : (r) => show(traceLine(r, flags.verbose === true)),
      onStep: (s) => show(stepLine(s)),
      onProgress: (t, until) => {
        if (flags.json || until <= 0) return;
        if (!bar && performance.now() - wallStart > 1000 && process.stderr.isTTY) {
          bar = new SingleBar({ format: 'virtual time {bar} {percentage}% | {value}/{total} s', stream: process.stderr, clearOnComplete: true });
          bar.start(Math.round(until / 1000), 0);
        }
        bar?.update(Math.round(t / 1000));
      },
    };
    // The run yields to the event loop between slices of virtual time: SIGINT/SIGTERM stop it.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let result;
    try {
      result = await runScenarioSliced(scenario, { ...(collector ? collector.wrap(options) : options), signal: stop.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    bar?.stop();
    const { vm, ...plain } = result;
    // The collector's last sample reads the VM: before dispose.
    const report = collector ? renderHtmlReport(collector.finish(plain)) : undefined;
    vm.dispose();
    if (flags.json) io.stdout(JSON.stringify(plain, bigintReplacer, 2) + '\n');
    else show('\n' + summaryTable(plain));
    if (report !== undefined && flags.report !== undefined) {
      writeReport(flags.report, report);
      show(`\nreport: ${flags.report}`);
    }
    return plain;
  } catch (err) {
    bar?.stop();
    if (err instanceof ScenarioError) throw new CliError(err.message);
    // 130: the shell's code for a command ended by SIGINT.
    if (err instanceof ScenarioInterrupted) throw new CliError(err.message, 130);
    throw err;
  } finally {
    await inspector?.stop();
  }
}

function checkReportPath(file: string): void {
  if (file.trim() === '') throw new CliError('--report: expected a file name for the HTML report, got ""');
  let isDirectory = false;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch {
    /* does not exist yet: fine */
  }
  if (isDirectory) throw new CliError(`--report: "${file}" is a directory (expected a file name, e.g. report.html)`);
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`--report: cannot write "${file}": ${code === 'ENOENT' ? `the directory ${dir} does not exist` : `the directory ${dir} is not writable (${code ?? String(err)})`}`);
  }
}

function writeReport(file: string, html: string): void {
  try {
    writeFileSync(file, html);
  } catch (err) {
    throw new CliError(`--report: cannot write "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Word-wraps `text` to `width` columns, each line indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}
