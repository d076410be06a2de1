/**
 * `qmp --host host.json`: a whole host behind QMP, one monitor per VM (a socket each), as a host
 * running one QEMU per VM has. Virtual time follows wall time (times --speed) for the host's one
 * clock; the policy keeps running; the scenario's steps run when their time comes. Each server is
 * a plain QMP server of its VM: x-sim-advance on any of them moves the whole host. Runs until every
 * VM has quit, or SIGINT/SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../cli/cli-error';
import type { CliIo } from '../cli/cli-io';
import { loadHostScenarioForCli } from '../cli/scenario-file';
import { startQmpServer, type QmpServerHandle } from '../qmp/qmp-server';
import { followWallClock } from '../virtual-clock';
import { formatDuration } from '../units';
import { createHost } from './create-host';

export interface ServeHostOptions {
  /** Unix sockets <dir>/<vm>.sock (default), or TCP ports from tcpBasePort on 127.0.0.1. */
  socketDir?: string;
  tcpBasePort?: number;
  speed: number;
  signal?: AbortSignal;
}

export async function serveHost(file: string, options: ServeHostOptions, io: CliIo): Promise<void> {
  const scenario = loadHostScenarioForCli(file);
  const host = createHost(scenario, { epochMs: Date.now() });
  host.decisions$.subscribe((d) => io.stderr(`[host] ${formatDuration(d.time)} ${d.vm}: target -> ${d.toBytes} (${d.reason})\n`));
  for (const step of scenario.steps) {
    host.clock.setTimeout(() => {
      const reply = host.runStep(step);
      io.stderr(`[scenario] ${step.vm}: ${'hmp' in step ? step.hmp : JSON.stringify(step.qmp)} -> ${typeof reply === 'string' ? reply || 'ok' : JSON.stringify(reply)}\n`);
    }, step.at);
  }
  const dir = options.socketDir ?? join(process.cwd(), `qmp-${scenario.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}`);
  if (options.tcpBasePort === undefined) mkdirSync(dir, { recursive: true });
  const servers: QmpServerHandle[] = [];
  let quits = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  try {
    for (const [i, v] of host.vms.entries()) {
      const listen = options.tcpBasePort === undefined ? `unix:${join(dir, `${v.name}.sock`)}` : `tcp:127.0.0.1:${options.tcpBasePort + i}`;
      const server = await startQmpServer(v.vm, {
        listen,
        onQuit: () => {
          if (++quits === host.vms.length) finish();
        },
      });
      servers.push(server);
      io.stdout(`${v.name}: QMP listening on ${server.address}\n`);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()));
    host.dispose();
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  // One follower for the host's one clock (each server alone would move it for everybody).
  const follower = options.speed > 0 ? followWallClock(host.clock, { speed: options.speed }) : undefined;
  if (options.signal?.aborted) finish();
  options.signal?.addEventListener('abort', () => finish(), { once: true });
  await finished;
  follower?.stop();
  await Promise.all(servers.map((s) => s.close()));
  host.dispose();
}
