/**
 * `view <scenario.json>`, `view <run.json>` or `view [VM flags]`: the live view, a local web app on
 * 127.0.0.1 showing a VM as it runs (virtual time follows the wall clock times --speed) — every
 * part's statechart with its active states, the messages between the parts, memory, the device's
 * counters and warnings — with controls and a QMP/HMP console. Given a recorded run (`run
 * <scenario> --record run.json`), it replays it with a time slider instead. A host scenario (or a
 * recorded host run) gets the host view (../host-view.ts): the host's memory, a row per VM, the
 * policy's decisions, each VM's detail a click away; `--vm <name>` names a VM to open.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import type { CliIo } from '../cli-io';
import { loadScenarioForCli } from '../scenario-file';
import { readHostScenarioJson } from '../../host/host-detect';
import type { ScenarioStepResult } from '../../scenario/scenario';
import type { ViewRecording } from '../../view/view-model';
import { startInspectorForCli, waitForInspector } from '../inspect-option';
import { addVmOptions, rejectVmFlagsWithScenario, vmOptionsFromCli, type RawVmOptions } from '../vm-options';
import { parsePort, serveView, startLiveViewForCli, untilSignal, type CliView } from '../view-option';

interface ViewFlags extends RawVmOptions {
  port?: string;
  speed: string;
  paused?: boolean;
  vm?: string;
}

export function registerViewCommand(program: Command, io: CliIo): void {
  const command = program
    .command('view')
    .description('watch a VM live in a local web page (statecharts, messages, memory, controls), or replay a recorded run')
    .argument('[file]', 'a scenario file (run it live) or a recorded run (run ... --record run.json); without it, a VM from the flags')
    .option('--port <port>', 'port on 127.0.0.1 (default 0: a free one)')
    .option('--speed <factor>', 'virtual ms per wall ms (the page can change it)', '1')
    .option('--paused', 'start with virtual time stopped (press run or step in the page)')
    .option('--vm <name>', 'of a host scenario or a recorded host run: a VM whose detail to open (live: recorded from the start; with --inspect, the VM the inspector shows)');
  addVmOptions(command)
    .addHelpText('after', '\nExamples:\n  hv-balloon-sim view examples/shrink-and-grow.json\n  hv-balloon-sim run examples/reboot.json --record run.json && hv-balloon-sim view run.json\n  hv-balloon-sim view examples/host-vdi-login-storm.json --speed 100\n  hv-balloon-sim run examples/host-overcommit-weight.json --record host-run.json && hv-balloon-sim view host-run.json --vm db\n  hv-balloon-sim view --memory 4G --maxmem 44G --memdev 8G --status-report')
    .action(async (file: string | undefined, flags: ViewFlags, cmd: Command) => {
      // --view and --view-port come with the VM flags; here the page is the point, --port its port.
      const port = flags.port !== undefined ? parsePort(flags.port) : parsePort(flags.viewPort, '--view-port');
      const speed = parseSpeed(flags.speed);
      if (file !== undefined) {
        for (const flag of ['memory', 'maxmem', 'memdev', 'statusReport', 'guest', 'seed', 'scenario'] as const) {
          if (cmd.getOptionValueSource(flag) === 'cli') throw new CliError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with a file: the file describes the VM`);
        }
      }
      rejectVmFlagsWithScenario(cmd);
      const json = file === undefined ? undefined : readJson(file);
      // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
      const { ReplayViewSource } = require('../../view/view-source') as typeof import('../../view/view-source');
      const { isHostRecording } = require('../../view/host-recording') as typeof import('../../view/host-recording');
      if (isHostRecording(json)) {
        const { viewHostRecording } = require('../host-view') as typeof import('../host-view');
        await viewHostRecording(json, file!, { port, vm: flags.vm }, io);
        return;
      }
      const recording = json === undefined ? undefined : recordingIn(json, file!, flags.vm);
      const hostScenario = file !== undefined && recording === undefined && readHostScenarioJson(file);
      if (flags.vm !== undefined && recording === undefined && !hostScenario) throw new CliError('--vm: goes with a host scenario or a recorded host run (run <host.json> --record run.json)');
      if (recording !== undefined) {
        const server = await serveView(new ReplayViewSource(recording), port, io);
        await untilSignal(io);
        await server.close();
        return;
      }
      const options = vmOptionsFromCli(flags);
      const live = { port, speed, paused: flags.paused === true, inspect: options.inspect, inspectPort: flags.inspectPort, inspectWait: flags.inspectWait, vm: flags.vm };
      if (file !== undefined) {
        await viewScenarioLive(file, live, io);
        return;
      }
      let view: CliView | undefined;
      const inspector = options.inspect ? await startInspectorForCli(io, options.inspectPort) : undefined;
      const { createVmFromOptions } = require('../../vm-factory') as typeof import('../../vm-factory');
      const vm = createVmFromOptions(options, inspector?.vmOptions ?? {}, (step) => view?.source.recorder.step(step), (text) => io.stderr(`hv-balloon-sim: warning: ${text}\n`));
      if (inspector) await waitForInspector(inspector, flags.inspectWait, io);
      view = await startLiveViewForCli(vm, { name: options.scenario ?? 'VM from the command line', untilMs: 0 }, live, io);
      await untilSignal(io);
      await view.stop();
      vm.dispose();
      await inspector?.stop();
    });
}

export interface LiveViewFlags {
  port: number;
  speed: number;
  paused?: boolean;
  inspect?: boolean;
  inspectPort?: string | undefined;
  inspectWait?: string | undefined;
  /** Of a host scenario: a VM whose detail to open (and, with inspect, the VM the inspector shows). */
  vm?: string | undefined;
}

/** A scenario run live in the view until Ctrl-C (`view <scenario>`, `run <scenario> --view`); it pauses at the scenario's end. */
export async function viewScenarioLive(file: string, flags: LiveViewFlags, io: CliIo, onStep?: (step: ScenarioStepResult) => void): Promise<void> {
  if (readHostScenarioJson(file)) {
    // A host: the host view, every VM a click away (../host-view.ts).
    const { viewHostLive } = require('../host-view') as typeof import('../host-view');
    await viewHostLive(file, flags, io, { printSteps: onStep !== undefined });
    return;
  }
  const { scheduleScenarioSteps } = require('../../scenario/scenario') as typeof import('../../scenario/scenario');
  const { createVm } = require('../../vm/create-vm') as typeof import('../../vm/create-vm');
  const scenario = loadScenarioForCli(file);
  const inspectPort = flags.inspectPort === undefined ? undefined : parsePort(flags.inspectPort, '--inspect-port');
  const inspector = flags.inspect ? await startInspectorForCli(io, inspectPort) : undefined;
  let view: CliView | undefined;
  const vm = createVm(scenario.vm, { epochMs: Date.now(), ...(inspector?.vmOptions ?? {}) });
  scheduleScenarioSteps(vm, scenario, (step) => {
    view?.source.recorder.step(step);
    onStep?.(step);
  });
  try {
    if (inspector) await waitForInspector(inspector, flags.inspectWait, io);
    const info = { name: scenario.name, ...(scenario.description ? { description: scenario.description } : {}), source: file, untilMs: scenario.until };
    view = await startLiveViewForCli(vm, info, { port: flags.port, speed: flags.speed, paused: flags.paused === true }, io);
    await untilSignal(io);
  } finally {
    await view?.stop();
    vm.dispose();
    await inspector?.stop();
  }
}

/** The recording `json` holds, or undefined when it is no recording (a host recording is the host view's). */
function recordingIn(json: unknown, file: string, vm: string | undefined): ViewRecording | undefined {
  const { RECORDING_FORMAT } = require('../../view/view-model') as typeof import('../../view/view-model');
  const { parseRecording, RecordingError } = require('../../view/view-source') as typeof import('../../view/view-source');
  try {
    if (vm !== undefined && !readHostScenarioJson(file)) throw new CliError(`--vm: goes with a host scenario or a recorded host run (run <host.json> --record run.json); ${file} is not one`);
    if ((json as { format?: unknown } | null)?.format === RECORDING_FORMAT) return parseRecording(json, file);
    return undefined;
  } catch (err) {
    if (err instanceof RecordingError) throw new CliError(err.message);
    throw err;
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${file}: not JSON (${(err as Error).message})`);
  }
}

export function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === '' || !Number.isFinite(speed) || speed <= 0) throw new CliError(`--speed ${JSON.stringify(text)}: expected a number > 0 (1 = real time)`);
  return speed;
}
