/**
 * `--view` for run, qmp and monitor, and the `view` command: start the live view of a VM on
 * 127.0.0.1 and print its URL.
 */
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import type { Vm } from '../vm/create-vm';
import type { ControlHooks } from '../qmp/qmp-commands';
import type { LiveViewSource, ViewScenarioInfo, ViewSource } from '../view/view-source';
import type { ViewServer } from '../view/view-server';

// The view (and the layout engine it loads) is loaded when a command asks for it, not when the
// CLI starts (the cli-startup benchmark).
const viewServer = (): typeof import('../view/view-server') => require('../view/view-server') as typeof import('../view/view-server');

export interface CliView {
  source: LiveViewSource;
  server: ViewServer;
  stop(): Promise<void>;
}

/** Parses --port (0 picks a free one). */
export function parsePort(text: string | undefined, flag = '--port'): number {
  if (text === undefined) return 0;
  const port = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new CliError(`${flag} ${JSON.stringify(text)}: expected a port number 0..65535 (0 picks a free one)`);
  return port;
}

export async function serveView(source: ViewSource, port: number, io: CliIo): Promise<ViewServer> {
  const { startViewServer, ViewServerError } = viewServer();
  try {
    const server = await startViewServer(source, { port });
    io.stderr(`view: open ${server.url} in a browser (everything is served from this machine; Ctrl-C stops)\n`);
    return server;
  } catch (err) {
    if (err instanceof ViewServerError) throw new CliError(err.message);
    throw err;
  }
}

export async function startLiveViewForCli(
  vm: Vm,
  info: ViewScenarioInfo,
  options: { port: number; speed: number; paused?: boolean; external?: { hooks: ControlHooks; afterCommand(): void } },
  io: CliIo,
): Promise<CliView> {
  const { LiveViewSource } = require('../view/view-source') as typeof import('../view/view-source');
  const source = new LiveViewSource(vm, info, {
    speed: options.speed,
    ...(options.paused === undefined ? {} : { paused: options.paused }),
    ...(options.external ? { external: options.external } : {}),
  });
  let server: ViewServer;
  try {
    server = await serveView(source, options.port, io);
  } catch (err) {
    source.close();
    throw err;
  }
  return {
    source,
    server,
    stop: async () => {
      source.close();
      await server.close();
    },
  };
}

/** Resolves on SIGINT or SIGTERM (and says so on stderr). */
export function untilSignal(io: CliIo): Promise<void> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      io.stderr(`terminating on ${signal}\n`);
      resolve();
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}
