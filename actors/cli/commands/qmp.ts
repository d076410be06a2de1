/**
 * `qmp --listen tcp:127.0.0.1:4444`: a simulated VM behind a QMP server, driven like QEMU started
 * with `-qmp tcp:...,server=on,wait=off`. Virtual time follows wall time (times --speed) while the
 * VM runs; `stop`/`cont` pause and resume it. Runs until a client sends `quit`, or SIGINT/SIGTERM.
 */

import type { Command } from 'commander';
import { parseListenAddress, startQmpServer, type QmpServerHandle, type WallClockFollower } from '../../qmp/qmp-server';
import type { VmControl } from '../../qmp/qmp-types';
import { waitForInspector } from '../inspect-option';
import { createCliVm } from '../cli-vm';
import { withSignalAbort } from '../signal-abort';
import { startLiveViewForCli } from '../view-option';
import { CliError } from '../cli-error';
import { MAX_SPEED } from '../../virtual-time';
import type { CliIo } from '../cli-io';
import { addVmOptions, type RawVmOptions } from '../vm-options';

export const DEFAULT_LISTEN = 'tcp:127.0.0.1:4444';

interface QmpCliOptions extends RawVmOptions {
  listen: string;
  speed: string;
  allowRemote?: boolean;
  host?: string;
  socketDir?: string;
  tcpBase?: string;
}

/** What serveQmp needs of a VM: the control surface, real-time following and teardown. */
export type ServedVm = VmControl & { followWallClock(speed: number): WallClockFollower; dispose(): void };

export function registerQmpCommand(program: Command, io: CliIo): void {
  const command = program
    .command('qmp')
    .description('run a simulated VM behind a QMP server, as QEMU -qmp does')
    .option('--listen <addr>', 'tcp:HOST:PORT or unix:PATH (loopback only unless --allow-remote)', DEFAULT_LISTEN)
    .option('--speed <factor>', 'virtual ms per wall ms; 0: time moves only with x-sim-advance', '1')
    .option('--allow-remote', 'allow a non-loopback --listen address (QMP has no authentication)')
    .option('--host <host.json>', 'serve a host scenario: one QMP monitor per VM (see docs/host.md)')
    .option('--socket-dir <dir>', 'with --host: unix sockets <dir>/<vm>.sock (default ./qmp-<scenario name>)')
    .option('--tcp-base <port>', 'with --host: TCP ports <port>, <port>+1, ... on 127.0.0.1 instead of sockets');
  addVmOptions(command)
    .addHelpText('after', '\nExample:\n  hv-balloon-sim qmp --listen tcp:127.0.0.1:4444 --memory 4G --maxmem 44G --memdev 8G --status-report\n  socat - tcp:127.0.0.1:4444')
    .action(async (raw: QmpCliOptions, command: Command) => {
      const speed = parseSpeed(raw.speed);
      if (raw.host !== undefined) {
        await serveHostCommand(raw, speed, command, io);
        return;
      }
      try {
        parseListenAddress(raw.listen);
      } catch (error) {
        throw new CliError(error instanceof Error ? error.message : String(error));
      }
      const session = await createCliVm(raw, command, io);
      const { vm, inspector } = session;
      if (inspector) await waitForInspector(inspector, raw.inspectWait, io);
      try {
        await withSignalAbort(
          (signal) =>
            serveQmp(vm, { listen: raw.listen, speed, allowRemote: raw.allowRemote === true, signal }, io, async (control) => {
              // The QMP server moves virtual time; the view's controls go through its hooks.
              if (session.viewPort !== undefined) {
                session.view = await startLiveViewForCli(vm, { name: session.options.scenario ?? 'QMP server', untilMs: 0 }, { port: session.viewPort, speed, external: control }, io);
              }
            }),
          (signal) => io.stderr(`terminating on ${signal}\n`),
        );
      } finally {
        await session.view?.stop();
        await inspector?.stop();
      }
    });
}

/**
 * Serves `vm` over QMP until a client quits or `signal` aborts; prints the listening address;
 * disposes the VM at the end.
 */
export async function serveQmp(
  vm: ServedVm,
  options: { listen: string; speed: number; allowRemote?: boolean; signal?: AbortSignal },
  io: CliIo,
  onListening?: (control: QmpServerHandle['control']) => Promise<void>,
): Promise<void> {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let server;
  try {
    server = await startQmpServer(vm, {
      listen: options.listen,
      speed: options.speed,
      allowRemote: options.allowRemote ?? false,
      followWallClock: (speed) => vm.followWallClock(speed),
      onQuit: () => finish(),
    });
  } catch (error) {
    vm.dispose();
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  io.stdout(`QMP listening on ${server.address}\n`);
  try {
    await onListening?.(server.control);
  } catch (error) {
    await server.close();
    vm.dispose();
    throw error;
  }
  if (options.signal?.aborted) finish();
  options.signal?.addEventListener('abort', () => finish(), { once: true });
  await finished;
  await server.close();
  vm.dispose();
}

async function serveHostCommand(raw: QmpCliOptions, speed: number, command: Command, io: CliIo): Promise<void> {
  // VM flags and --listen describe one VM: a host scenario describes its VMs itself.
  for (const flag of ['listen', 'memory', 'maxmem', 'memdev', 'statusReport', 'guest', 'seed', 'scenario']) {
    if (command.getOptionValueSource(flag) === 'cli') throw new CliError(`--host: --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with --host (the host scenario gives every VM)`);
  }
  let tcpBasePort: number | undefined;
  if (raw.tcpBase !== undefined) {
    tcpBasePort = Number(raw.tcpBase);
    if (!Number.isInteger(tcpBasePort) || tcpBasePort < 1 || tcpBasePort > 65535) throw new CliError(`--tcp-base ${JSON.stringify(raw.tcpBase)}: expected a port 1..65535`);
  }
  // Loaded when the command runs, not when the CLI starts (the cli-startup benchmark).
  const { serveHost } = require('../../host/host-qmp') as typeof import('../../host/host-qmp');
  await withSignalAbort(
    (signal) => serveHost(raw.host!, { ...(raw.socketDir !== undefined ? { socketDir: raw.socketDir } : {}), ...(tcpBasePort !== undefined ? { tcpBasePort } : {}), speed, signal }, io),
    (signal) => io.stderr(`terminating on ${signal}\n`),
  );
}

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === '' || !Number.isFinite(speed) || speed < 0) {
    throw new CliError(`--speed ${JSON.stringify(text)}: expected a number >= 0 (1 = real time, 0 = only x-sim-advance moves time)`);
  }
  if (speed > MAX_SPEED) throw new CliError(`--speed ${text}: at most ${MAX_SPEED} (virtual ms per wall ms)`);
  return speed;
}
