/**
 * `run <scenario.json> [--json] [--verbose] [--inspect] [--report file.html] [--record run.json]
 * [--view]`: runs a scenario to its end. Without --json: a readable timeline and a summary table, and a progress bar (on stderr)
 * when the run takes more than a second of wall time. With --json: one JSON object (see
 * docs/scenarios.md). --report also writes a self-contained HTML report of the run; --record saves
 * it for `view run.json`; --view runs it live in the view instead.
 */
import { accessSync, constants as fsConstants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import type { RunScenarioOptions, ScenarioResult } from '../../scenario/scenario';
import { stepLine, summaryTable, traceLine } from '../../scenario/timeline';
import { DEFAULT_INSPECT_WAIT_S, startInspectorForCli, waitForInspector } from '../inspect-option';
import { parsePort } from '../view-option';
import type { ViewRecorder } from '../../view/view-recorder';
import { parseSpeed, viewScenarioLive } from './view';
import { readHostScenarioJson } from '../../host/host-detect';
import type { HostRunOutput } from '../../host/host-run-command';
import { bigintReplacer } from '../../qmp/qmp-json';
import { loadScenarioForCli } from '../scenario-file';
import { withSignalAbort } from '../signal-abort';

interface RunFlags {
  json?: boolean;
  verbose?: boolean;
  inspect?: boolean;
  inspectPort?: string;
  inspectWait?: string;
  report?: string;
  record?: string;
  view?: boolean;
  viewPort?: string;
  speed?: string;
  vm?: string;
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run a scenario file (JSON): a VM, HMP/QMP steps at virtual times, a final time')
    .argument('<scenario>', 'path of the scenario JSON file')
    .option('--json', 'print one JSON object instead of the timeline')
    .option('--verbose', 'also show device state changes, DM packets and status reports')
    .option('--inspect', 'show the VM in the Stately inspector (its UI is hosted at stately.ai: needs internet; offline, use --view)')
    .option('--inspect-port <port>', 'port of the inspector relay (default 8080; 0 picks a free one)')
    .option('--inspect-wait <seconds>', 'with --inspect: virtual time waits this long for the inspector page to connect', String(DEFAULT_INSPECT_WAIT_S))
    .option('--report <file>', 'also write an offline HTML report of the run (charts, device states, DM messages) to this file')
    .option('--record <file>', 'also save the run for the view to replay (view <file>): states, messages, memory, steps')
    .option('--view', 'run the scenario live in the view (as the view command does) instead of at full speed')
    .option('--view-port <port>', 'with --view: port on 127.0.0.1 (default 0: a free one)')
    .option('--speed <factor>', 'with --view: virtual ms per wall ms', '1')
    .option('--vm <name>', 'with --view, of a host scenario: a VM whose detail to open (with --inspect, the VM the inspector shows)')
    .action(async (file: string, flags: RunFlags) => {
      if (flags.view) {
        if (flags.json || flags.report !== undefined || flags.record !== undefined) throw new CliError('--view runs the scenario live in the browser; --json, --report and --record go with a run at full speed');
        if (flags.vm !== undefined && !readHostScenarioJson(file)) throw new CliError(`--vm: goes with a host scenario; ${file} is not one`);
        await viewScenarioLive(
          file,
          { port: parsePort(flags.viewPort, '--view-port'), speed: parseSpeed(flags.speed ?? '1'), inspect: flags.inspect === true, inspectPort: flags.inspectPort, inspectWait: flags.inspectWait, vm: flags.vm },
          io,
          (step) => io.stdout(`${stepLine(step)}\n`),
        );
        return;
      }
      await runCommand(file, flags, io);
    });
}

export async function runCommand(file: string, flags: RunFlags, io: CliIo): Promise<ScenarioResult | HostRunOutput> {
  // A host scenario ("host" + "vms": actors/host/) has its own runner and output.
  if (flags.vm !== undefined) throw new CliError('--vm: goes with --view of a host scenario (run <host.json> --view --vm <name>)');
  if (readHostScenarioJson(file)) {
    // A host runs here at full speed, in one go; the inspector needs the live run.
    if (flags.inspect) throw new CliError('--inspect: a host is shown in the inspector when it runs live: run <host.json> --view --vm <name> --inspect (or view <host.json> --vm <name> --inspect)');
    // (The run command sends --view to viewScenarioLive, which shows a host live; this runs at full speed.)
    if (flags.view) throw new CliError('--view runs the host live in the browser (the run command does it); runCommand runs at full speed');
    if (flags.report !== undefined) checkOutputPath(flags.report, '--report', 'report.html');
    if (flags.record !== undefined) checkOutputPath(flags.record, '--record', 'run.json');
    const { runHostCommand } = require('../../host/host-run-command') as typeof import('../../host/host-run-command');
    return runHostCommand(file, flags, io);
  }
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { runScenarioSliced, ScenarioError, ScenarioInterrupted } = require('../../scenario/scenario') as typeof import('../../scenario/scenario');
  const { ReportCollector } = require('../../report/report-collector') as typeof import('../../report/report-collector');
  const { renderHtmlReport } = require('../../report/html-report') as typeof import('../../report/html-report');
  const { SingleBar } = require('cli-progress') as typeof import('cli-progress');
  const { ViewRecorder } = require('../../view/view-recorder') as typeof import('../../view/view-recorder');
  const { makeRecording } = require('../../view/view-source') as typeof import('../../view/view-source');
  const scenario = loadScenarioForCli(file);
  const waitSec = Number(flags.inspectWait ?? String(DEFAULT_INSPECT_WAIT_S));
  if (!Number.isFinite(waitSec) || waitSec < 0) throw new CliError(`--inspect-wait: expected seconds >= 0, got "${flags.inspectWait}"`);
  const inspectPort = flags.inspectPort === undefined ? undefined : parsePort(flags.inspectPort, '--inspect-port');
  // Refuse an unwritable output path before a long run, not after it.
  if (flags.report !== undefined) checkOutputPath(flags.report, '--report', 'report.html');
  if (flags.record !== undefined) checkOutputPath(flags.record, '--record', 'run.json');
  // One recorder serves both: the report reads its events, --record keeps them.
  const collector = flags.report !== undefined ? new ReportCollector(scenario, {}, { keepEvents: flags.record !== undefined }) : undefined;
  const inspector = flags.inspect ? await startInspectorForCli(io, inspectPort) : undefined;
  if (inspector) await waitForInspector(inspector, String(waitSec), io);
  let recorder: ViewRecorder | undefined;
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
    const recorded: RunScenarioOptions = flags.record === undefined || collector ? options : {
      ...options,
      onStart: (vm) => {
        recorder = new ViewRecorder(vm);
        options.onStart?.(vm);
      },
      onStep: (step) => {
        recorder?.step(step);
        options.onStep?.(step);
      },
    };
    // The run yields to the event loop between slices of virtual time: SIGINT/SIGTERM stop it.
    const result = await withSignalAbort((signal) => runScenarioSliced(scenario, { ...(collector ? collector.wrap(recorded) : recorded), signal }));
    bar?.stop();
    const { vm, ...plain } = result;
    // The collector's last sample reads the VM: before dispose.
    const report = collector ? renderHtmlReport(collector.finish(plain)) : undefined;
    if (collector && flags.record !== undefined) recorder = collector.recorder;
    recorder?.sampleMemory();
    const recording = recorder
      ? makeRecording(recorder, { name: scenario.name, ...(scenario.description ? { description: scenario.description } : {}), source: file, untilMs: scenario.until }, plain.virtualTimeMs)
      : undefined;
    recorder?.dispose();
    vm.dispose();
    if (flags.json) io.stdout(JSON.stringify(plain, bigintReplacer, 2) + '\n');
    else show('\n' + summaryTable(plain));
    if (report !== undefined && flags.report !== undefined) {
      writeOutput(flags.report, '--report', report);
      show(`\nreport: ${flags.report}`);
    }
    if (recording !== undefined && flags.record !== undefined) {
      writeOutput(flags.record, '--record', JSON.stringify(recording));
      show(`\nrecorded: ${flags.record} (replay it with: hv-balloon-sim view ${flags.record})`);
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

function checkOutputPath(file: string, flag: string, example: string): void {
  if (file.trim() === '') throw new CliError(`${flag}: expected a file name, e.g. ${example}, got ""`);
  let isDirectory = false;
  try {
    isDirectory = statSync(file).isDirectory();
  } catch {
    /* does not exist yet: fine */
  }
  if (isDirectory) throw new CliError(`${flag}: "${file}" is a directory (expected a file name, e.g. ${example})`);
  const dir = dirname(resolve(file));
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${flag}: cannot write "${file}": ${code === 'ENOENT' ? `the directory ${dir} does not exist` : `the directory ${dir} is not writable (${code ?? String(err)})`}`);
  }
}

function writeOutput(file: string, flag: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (err) {
    throw new CliError(`${flag}: cannot write "${file}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
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
