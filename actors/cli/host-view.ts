/**
 * The view of a host, for `view host.json` (live), `run host.json --view` and `view run.json` of a
 * recorded host run: the host overview page on 127.0.0.1, each VM's detail under vm/<name>/.
 * `--vm <name>` names a VM whose detail to open (live: recorded from the start); with `--inspect`,
 * that VM is also shown in the Stately inspector (one VM: every VM of a host has the same parts,
 * so one inspector of them all would mix, say, a hundred `device` actors).
 */
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { startInspectorForCli, waitForInspector, type CliInspector } from './inspect-option';
import { loadHostScenarioForCli } from './scenario-file';
import { parsePort, untilSignal } from './view-option';
import { formatDuration } from '../units';
import type { HostRecording } from '../view/host-recording';
import type { ViewServer } from '../view/view-server';
import type { HostViewSource } from '../view/host/host-view-source';
import type { LiveViewFlags } from './commands/view';

/** Runs the host scenario in `file` live in the view until Ctrl-C; it pauses at the scenario's end. */
export async function viewHostLive(file: string, flags: LiveViewFlags, io: CliIo, options: { printSteps?: boolean } = {}): Promise<void> {
  const scenario = loadHostScenarioForCli(file);
  const names = scenario.vms.map((v) => v.name);
  if (flags.vm !== undefined && !names.includes(flags.vm)) throw new CliError(`--vm ${JSON.stringify(flags.vm)}: no VM of that name in ${file} (VMs: ${listNames(names)})`);
  // The inspector shows one VM: the one --vm names (or the host's only one).
  const inspected = flags.inspect ? (flags.vm ?? (names.length === 1 ? names[0] : undefined)) : undefined;
  if (flags.inspect && inspected === undefined) {
    throw new CliError(`--inspect: the Stately inspector shows one VM of a host; name it with --vm <name> (VMs: ${listNames(names)})`);
  }
  const inspectPort = flags.inspectPort === undefined ? undefined : parsePort(flags.inspectPort, '--inspect-port');
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { createHost, HostError } = require('../host/create-host') as typeof import('../host/create-host');
  const { LiveHostViewSource } = require('../view/host/host-view-source') as typeof import('../view/host/host-view-source');
  const { hostViewInfo } = require('../view/host/host-view-recorder') as typeof import('../view/host/host-view-recorder');
  const inspector: CliInspector | undefined = inspected !== undefined ? await startInspectorForCli(io, inspectPort) : undefined;
  let host;
  try {
    host = createHost(scenario, {
      epochMs: Date.now(),
      ...(inspector ? { vmOptions: (name: string) => (name === inspected ? inspector.vmOptions : {}) } : {}),
    });
  } catch (err) {
    await inspector?.stop();
    if (err instanceof HostError) throw new CliError(err.message);
    throw err;
  }
  if (inspected !== undefined) io.stderr(`inspector: VM ${inspected} of host ${scenario.name} (its parts: vm, device, channel, guest, memctl, vcpu)\n`);
  let source: InstanceType<typeof LiveHostViewSource> | undefined;
  try {
    // Virtual time starts with the view's source: after the inspector page had its chance to connect.
    if (inspector) await waitForInspector(inspector, flags.inspectWait, io);
    source = new LiveHostViewSource(host, hostViewInfo(scenario, host, file), {
      speed: flags.speed,
      paused: flags.paused === true,
      steps: scenario.steps,
      ...(flags.vm !== undefined ? { watch: [flags.vm] } : {}),
      ...(options.printSteps
        ? { onStep: (s) => io.stdout(`${formatDuration(s.at).padStart(10)} ${s.vm}: ${typeof s.command === 'string' ? s.command : JSON.stringify(s.command)} -> ${typeof s.reply === 'string' ? s.reply.trimEnd() || 'ok' : JSON.stringify(s.reply)}\n`) }
        : {}),
    });
    io.stderr(`host ${scenario.name}: ${names.length} VMs, policy ${host.policyKind}; virtual time x${flags.speed}${flags.paused ? ' (paused: press run or step)' : ''}\n`);
    const server = await serveHostView(source, flags, io);
    await untilSignal(io);
    await server.close();
  } finally {
    source?.close();
    host.dispose();
    await inspector?.stop();
  }
}

/** A recorded host run (`run host.json --record run.json`) in the view: the overview, every VM's detail. */
export async function viewHostRecording(json: unknown, file: string, flags: { port: number; vm?: string | undefined }, io: CliIo): Promise<void> {
  const { ReplayHostViewSource } = require('../view/host/host-view-source') as typeof import('../view/host/host-view-source');
  const { pickHostVmRecording } = require('../view/host-recording') as typeof import('../view/host-recording');
  const { RecordingError } = require('../view/view-source') as typeof import('../view/view-source');
  let source: HostViewSource;
  try {
    // Checks the file (and --vm) as a single VM's replay would.
    const picked = pickHostVmRecording(json, file, flags.vm);
    source = new ReplayHostViewSource(json as HostRecording, file);
    io.stderr(`recorded host run: ${picked.names.length} VMs (${listNames(picked.names)})${(json as HostRecording).overview ? '' : '; recorded before the host overview existed: run it again with --record for the host\'s charts'}\n`);
  } catch (err) {
    if (err instanceof RecordingError || err instanceof RangeError) throw new CliError(err instanceof RangeError ? `${file}: ${err.message}` : err.message);
    throw err;
  }
  const server = await serveHostView(source, flags, io);
  await untilSignal(io);
  await server.close();
}

async function serveHostView(source: HostViewSource, flags: { port: number; vm?: string | undefined }, io: CliIo): Promise<ViewServer> {
  const { startHostViewServer } = require('../view/host/host-view-server') as typeof import('../view/host/host-view-server');
  const { ViewServerError } = require('../view/view-server') as typeof import('../view/view-server');
  let server: ViewServer;
  try {
    server = await startHostViewServer(source, { port: flags.port });
  } catch (err) {
    if (err instanceof ViewServerError) throw new CliError(err.message);
    throw err;
  }
  io.stderr(`view: open ${server.url} in a browser: the host, every VM, the policy's decisions (everything is served from this machine; Ctrl-C stops)\n`);
  if (flags.vm !== undefined) io.stderr(`view: ${flags.vm}'s detail: ${server.url}vm/${encodeURIComponent(flags.vm)}/\n`);
  return server;
}

function listNames(names: readonly string[]): string {
  return (require('../view/host-recording') as typeof import('../view/host-recording')).listNames(names);
}
