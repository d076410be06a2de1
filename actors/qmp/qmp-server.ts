/**
 * The QMP server: QEMU's JSON monitor protocol over TCP or a unix socket, for any number of
 * clients at once. Per connection: greeting, capabilities negotiation, commands through
 * QmpSession, events to negotiated clients. Every line it writes ends with "\r\n", as QEMU's
 * monitor writes them. Runtime code (actors/): sockets and promises are fine here.
 */

import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, isIP, type Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { QEMU_VERSION, QMP_PACKAGE, type ControlHooks } from './qmp-commands';
import { QmpSession } from './qmp-dispatcher';
import { QmpJsonStreamer, toQmpJson } from './qmp-json';
import type { QmpEvent, QmpReply, VmControl } from './qmp-types';

/** Real-time mode of a VM's clock, as actors/virtual-clock.ts followWallClock returns it. */
export interface WallClockFollower {
  stop(): void;
  setSpeed(speed: number): void;
  pause(): void;
  resume(): void;
}

export interface QmpServerOptions {
  /** `tcp:HOST:PORT` (port 0: any free port), `tcp:[::1]:PORT`, or `unix:/path`. QEMU's `,server=on,wait=off` are accepted and ignored. */
  listen: string;
  /** Overrides the greeting's version and package (default: QEMU 8.2.0, "hv-balloon-sim <version>"). */
  greeting?: { version?: { major: number; minor: number; micro: number }; package?: string };
  /** Allow a TCP host that is not loopback (QMP has no authentication). */
  allowRemote?: boolean;
  /**
   * Virtual time follows the wall clock through this (the VM's followWallClock) at `speed`; the
   * server pauses it while the VM is not running and changes it on x-sim-speed. Absent: virtual
   * time moves only with x-sim-advance / x-sim-run-until.
   */
  followWallClock?: (speed: number) => WallClockFollower;
  /** Virtual ms per wall ms when following the wall clock (default 1; 0: do not follow). */
  speed?: number;
  /** A client ran `quit`: its SHUTDOWN event and reply are written and its connection closed. */
  onQuit?: () => void;
}

export interface QmpServerHandle {
  /** Where the server listens, in the `listen` form with the real port: `tcp:127.0.0.1:40123`. */
  readonly address: string;
  /** Stops listening, closes every connection and stops following the wall clock. */
  close(): Promise<void>;
  /**
   * The hooks the server's sessions use (x-sim-speed, time jumps) and the re-sync it does after each
   * command: another front end on the same VM (the live view) runs its commands through these.
   */
  readonly control: { hooks: ControlHooks; afterCommand(): void };
}

type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses a `--listen` address; throws an Error naming the value. */
export function parseListenAddress(listen: string): ListenAddress {
  const [main, ...flags] = listen.split(',');
  for (const flag of flags) {
    if (!['server', 'server=on', 'wait=off', 'nowait'].includes(flag)) {
      throw new Error(`--listen ${listen}: unsupported option '${flag}' (only QEMU's server=on and wait=off are accepted)`);
    }
  }
  const spec = main ?? '';
  if (spec.startsWith('unix:')) {
    const path = spec.slice('unix:'.length);
    if (path === '') throw new Error(`--listen ${listen}: unix: needs a socket path`);
    return { kind: 'unix', path };
  }
  const tcp = /^tcp:(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(spec);
  if (!tcp) throw new Error(`--listen ${JSON.stringify(listen)}: expected tcp:HOST:PORT or unix:PATH, e.g. tcp:127.0.0.1:4444`);
  const port = Number(tcp[3]);
  if (port > 65535) throw new Error(`--listen ${listen}: port ${port} is out of range (0-65535)`);
  // As in QEMU, an empty host means every interface.
  const host = tcp[1] ?? (tcp[2] === '' ? '0.0.0.0' : tcp[2]!);
  return { kind: 'tcp', host, port };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}

/** Starts a QMP server for `vm`; resolves once it is listening. */
export async function startQmpServer(vm: VmControl, options: QmpServerOptions): Promise<QmpServerHandle> {
  const address = parseListenAddress(options.listen);
  if (address.kind === 'tcp' && !isLoopback(address.host) && !options.allowRemote) {
    throw new Error(
      `refusing to listen on ${address.host}: not a loopback address and QMP has no authentication (allow it explicitly with --allow-remote)`,
    );
  }
  const greeting = toQmpJson({
    QMP: {
      version: { qemu: options.greeting?.version ?? { ...QEMU_VERSION }, package: options.greeting?.package ?? QMP_PACKAGE },
      capabilities: ['oob'],
    },
  });

  const connections = new Set<Connection>();
  const clock = new ClockControl(vm, options);

  const hooks: ControlHooks = {
    onTimeJump: () => clock.rebase(),
    ...(options.followWallClock ? { setSpeed: (speed: number) => clock.setSpeed(speed) } : {}),
  };

  const server = createServer((socket) => {
    const connection = new Connection(socket, vm, hooks, {
      afterCommand: () => clock.sync(),
      onClosed: () => connections.delete(connection),
      onQuit: () => options.onQuit?.(),
    });
    connections.add(connection);
    connection.write(greeting);
  });

  const events: Subscription = vm.events$.subscribe((event) => {
    const line = eventLine(event);
    for (const connection of connections) if (connection.negotiated) connection.write(line);
    clock.sync();
  });

  if (address.kind === 'unix') removeStaleSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  }).catch((error: unknown) => {
    events.unsubscribe();
    throw new Error(`cannot listen on ${options.listen}: ${messageOf(error)}`);
  });
  // A failing client socket must never bring the server down.
  server.on('error', () => undefined);
  clock.start();

  let shownAddress: string;
  if (address.kind === 'unix') {
    shownAddress = `unix:${address.path}`;
  } else {
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : address.port;
    shownAddress = `tcp:${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`;
  }

  let closing: Promise<void> | undefined;
  return {
    address: shownAddress,
    control: { hooks, afterCommand: () => clock.sync() },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        events.unsubscribe();
        clock.stop();
        for (const connection of connections) connection.shutdown();
        connections.clear();
        server.close(() => {
          if (address.kind === 'unix') removeStaleSocket(address.path);
          resolve();
        });
      });
      return closing;
    },
  };
}

function messageOf(error: unknown): string {
  // Node's socket errors may come from another realm (instanceof Error fails under jest).
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}

/** QEMU unlinks an old socket file before binding; a regular file at the path is left alone (listen fails). */
function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // listen() reports the problem with the path.
  }
}

/** QEMU's event line: timestamp first, then event, then data. */
function eventLine(event: QmpEvent): string {
  return toQmpJson({ timestamp: event.timestamp, event: event.event, data: event.data });
}

/** How long a closing connection may take to flush its last lines. */
const FLUSH_TIMEOUT_MS = 1000;

/** One client: reads a JSON stream, answers each request, writes lines ending in "\r\n". */
class Connection {
  private readonly streamer = new QmpJsonStreamer();
  private readonly session: QmpSession;
  private open = true;
  private gone = false;
  private quitRequested = false;

  constructor(
    private readonly socket: Socket,
    vm: VmControl,
    hooks: ControlHooks,
    private readonly hooksAfter: { afterCommand(): void; onClosed(): void; onQuit(): void },
  ) {
    this.session = new QmpSession(vm, { ...hooks, onQuit: () => (this.quitRequested = true) });
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
    // A client that resets or vanishes mid-command: forget it, never throw.
    socket.on('error', () => this.closed());
    socket.on('close', () => this.closed());
  }

  get negotiated(): boolean {
    return this.open && this.session.negotiated;
  }

  write(line: string): void {
    if (this.open && this.socket.writable) this.socket.write(`${line}\r\n`);
  }

  /** Ends the connection once what was written (a SHUTDOWN event, a last reply) has gone out. */
  shutdown(): void {
    if (this.gone) return;
    this.open = false;
    // A peer that stops reading must not keep the server from closing.
    const timer = setTimeout(() => this.socket.destroy(), FLUSH_TIMEOUT_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
    this.socket.end(() => this.socket.destroy());
  }

  private receive(chunk: string): void {
    for (const input of this.streamer.feed(chunk)) {
      if (!this.open) return;
      let reply: QmpReply;
      if (input.kind === 'error') {
        reply = { error: { class: 'GenericError', desc: `JSON parse error, ${input.reason}` } };
      } else {
        reply = this.session.execute(input.value);
        this.hooksAfter.afterCommand();
      }
      this.write(toQmpJson(reply));
      if (this.quitRequested) {
        // QEMU: SHUTDOWN, then the return, then the monitor goes away with the process.
        this.shutdown();
        this.hooksAfter.onQuit();
        return;
      }
    }
  }

  private closed(): void {
    if (this.gone) return;
    this.gone = true;
    this.open = false;
    this.hooksAfter.onClosed();
  }
}

/**
 * Keeps the wall-clock follower in step with the VM: it runs only while the VM is running and the
 * speed is above 0; x-sim-speed changes the speed; a manual time jump rebases it.
 */
class ClockControl {
  private follower: WallClockFollower | undefined;
  private speed: number;
  private running = false;

  constructor(
    private readonly vm: VmControl,
    private readonly options: QmpServerOptions,
  ) {
    this.speed = options.speed ?? 1;
  }

  start(): void {
    this.sync();
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    if (this.follower && speed > 0) this.follower.setSpeed(speed);
    this.sync();
  }

  rebase(): void {
    if (this.follower && this.speed > 0) this.follower.setSpeed(this.speed);
  }

  /** Pause or resume following to match the VM's run state. */
  sync(): void {
    if (!this.options.followWallClock) return;
    const shouldRun = this.speed > 0 && this.vm.runState() === 'running';
    if (shouldRun === this.running) return;
    this.running = shouldRun;
    if (shouldRun) {
      if (this.follower) this.follower.resume();
      else this.follower = this.options.followWallClock(this.speed);
    } else {
      this.follower?.pause();
    }
  }

  stop(): void {
    this.follower?.stop();
    this.follower = undefined;
    this.running = false;
  }
}
