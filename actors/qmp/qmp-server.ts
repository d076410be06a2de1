/**
 * The QMP server: QEMU's JSON monitor protocol over TCP or a unix socket, for several clients at
 * once (QEMU has one client per monitor socket; docs/qmp.md says why we differ). Per connection:
 * greeting, capabilities negotiation, commands through QmpSession, events to negotiated clients.
 * Every line it writes ends with "\r\n", as QEMU's monitor writes them. Runtime code (actors/):
 * sockets and promises are fine here.
 *
 * No client can freeze or flood the server (docs/qmp.md, "Limits"):
 * - long advances of virtual time run in slices that yield to the event loop (one at a time, in
 *   arrival order), so other clients are served and signals end the process;
 * - a client's commands are handled a few per event-loop turn, one at a time in order;
 * - a client whose replies pile up unread is not read from until it reads them (QEMU suspends a
 *   monitor whose queue is full), and one that never reads its events is disconnected;
 * - at most MAX_CLIENTS connections at once.
 */

import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, isIP, type Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { QEMU_VERSION, QMP_PACKAGE, type ControlHooks } from './qmp-commands';
import { QmpSession } from './qmp-dispatcher';
import { parseErrorDesc, QmpJsonStreamer, toQmpJson, type QmpInput } from './qmp-json';
import { asQmpError } from './qmp-commands';
import type { QmpEvent, QmpReply, VmControl } from './qmp-types';
import { runUntilInSlices } from '../slicing/time-slicer';

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
  /** Each connected client: output it has not read yet, commands waiting, whether reading from it is paused. */
  clients(): ClientStats[];
}

export interface ClientStats {
  unreadOutputBytes: number;
  queuedCommands: number;
  readingPaused: boolean;
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
  const closing = new AbortController();
  const timeJobs = new TimeJobs(vm, clock, closing.signal);

  const hooks: ControlHooks = {
    onTimeJump: () => clock.rebase(),
    ...(options.followWallClock ? { setSpeed: (speed: number) => clock.setSpeed(speed) } : {}),
  };

  const server = createServer((socket) => {
    if (connections.size >= MAX_CLIENTS) {
      // QEMU's monitor takes one client and leaves the rest waiting; we serve several, up to a bound.
      socket.end(`${toQmpJson({ error: { class: 'GenericError', desc: `too many QMP clients (at most ${MAX_CLIENTS} at once)` } })}\r\n`);
      socket.on('error', () => undefined);
      return;
    }
    const connection = new Connection(socket, vm, hooks, timeJobs, {
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

  let closed: Promise<void> | undefined;
  return {
    address: shownAddress,
    clients: () => [...connections].map((connection) => connection.stats()),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        events.unsubscribe();
        clock.stop();
        for (const connection of connections) connection.shutdown();
        connections.clear();
        server.close(() => {
          if (address.kind === 'unix') removeStaleSocket(address.path);
          resolve();
        });
      });
      return closed;
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
/** Connections served at once. */
export const MAX_CLIENTS = 16;
/** Commands of one client handled per event-loop turn before the server serves the others. */
const COMMANDS_PER_TURN = 32;
/** Parsed commands a client may have waiting before the server stops reading from it. */
const MAX_QUEUED_COMMANDS = 64;
/** Unread output (bytes) at which the server stops reading a client's commands until it reads. */
export const OUTPUT_HIGH_WATER_BYTES = 1 << 20;
/** Unread output (bytes; events keep coming) at which a client that never reads is disconnected. */
export const OUTPUT_LIMIT_BYTES = 8 << 20;

/**
 * One client: reads a JSON stream, answers each request in order, writes lines ending in "\r\n".
 * Commands wait in `inbox` and are handled by `pump`, a few per turn, one at a time.
 */
class Connection {
  private readonly streamer = new QmpJsonStreamer();
  private readonly session: QmpSession;
  private readonly inbox: QmpInput[] = [];
  private inboxHead = 0;
  /** A command is in progress (a sliced advance) or the pump is scheduled for the next turn. */
  private busy = false;
  private readingPaused = false;
  private open = true;
  private gone = false;
  private quitRequested = false;
  private deferredTarget: number | undefined;

  constructor(
    private readonly socket: Socket,
    vm: VmControl,
    hooks: ControlHooks,
    private readonly timeJobs: TimeJobs,
    private readonly hooksAfter: { afterCommand(): void; onClosed(): void; onQuit(): void },
  ) {
    this.session = new QmpSession(vm, {
      ...hooks,
      onQuit: () => (this.quitRequested = true),
      deferAdvance: (targetMs) => (this.deferredTarget = targetMs),
    });
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('drain', () => this.pump());
    // A client that resets or vanishes mid-command: forget it, never throw.
    socket.on('error', () => this.closed());
    socket.on('close', () => this.closed());
  }

  get negotiated(): boolean {
    return this.open && this.session.negotiated;
  }

  stats(): ClientStats {
    return { unreadOutputBytes: this.socket.writableLength, queuedCommands: this.inbox.length - this.inboxHead, readingPaused: this.readingPaused };
  }

  write(line: string): void {
    if (!this.open || !this.socket.writable) return;
    if (this.socket.writableLength > OUTPUT_LIMIT_BYTES) {
      // It has not read megabytes of replies and events: it is not listening. Drop it rather than
      // hold its output without bound.
      this.socket.destroy();
      this.closed();
      return;
    }
    this.socket.write(`${line}\r\n`);
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
    if (!this.open) return;
    for (const input of this.streamer.feed(chunk)) this.inbox.push(input);
    this.pump();
  }

  /** Handles waiting commands in order, a few per turn; pauses reading while output or commands pile up. */
  private pump(): void {
    if (this.busy || !this.open) return;
    let handled = 0;
    while (this.inboxHead < this.inbox.length) {
      if (this.socket.writableLength > OUTPUT_HIGH_WATER_BYTES) {
        // Its replies are not being read: read nothing more until they are ('drain' pumps again).
        this.pauseReading();
        return;
      }
      if (handled === COMMANDS_PER_TURN) {
        this.busy = true;
        setImmediate(() => {
          this.busy = false;
          this.pump();
        });
        this.updateReading();
        return;
      }
      const input = this.inbox[this.inboxHead++]!;
      handled++;
      const job = this.handle(input);
      if (!this.open) return;
      if (job) {
        this.busy = true;
        this.updateReading();
        void job.then(() => {
          this.busy = false;
          this.pump();
        });
        return;
      }
    }
    this.inbox.length = 0;
    this.inboxHead = 0;
    this.updateReading();
  }

  /** Answers one input; a command that moves time far returns the promise of its sliced advance. */
  private handle(input: QmpInput): Promise<void> | undefined {
    if (input.kind === 'error') {
      this.write(toQmpJson({ error: { class: 'GenericError', desc: parseErrorDesc(input.reason) } }));
      return undefined;
    }
    this.deferredTarget = undefined;
    const reply = this.session.execute(input.value);
    const target = this.deferredTarget;
    this.deferredTarget = undefined;
    if (target !== undefined && 'return' in reply) {
      return this.timeJobs.run(target).then(
        (outcome) => {
          if (outcome === 'done') this.finish(reply);
        },
        (error: unknown) => {
          const e = asQmpError(error);
          this.finish(reply.id === undefined ? { error: { class: e.errorClass, desc: e.desc } } : { error: { class: e.errorClass, desc: e.desc }, id: reply.id });
        },
      );
    }
    this.finish(reply);
    return undefined;
  }

  private finish(reply: QmpReply): void {
    this.hooksAfter.afterCommand();
    this.write(toQmpJson(reply));
    if (this.quitRequested) {
      // QEMU: SHUTDOWN, then the return, then the monitor goes away with the process.
      this.shutdown();
      this.hooksAfter.onQuit();
    }
  }

  private updateReading(): void {
    if (this.inbox.length - this.inboxHead > MAX_QUEUED_COMMANDS) this.pauseReading();
    else if (this.readingPaused && this.socket.writableLength <= OUTPUT_HIGH_WATER_BYTES) {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private closed(): void {
    if (this.gone) return;
    this.gone = true;
    this.open = false;
    this.hooksAfter.onClosed();
  }
}

/**
 * Long advances, one at a time in arrival order: each runs in slices (actors/slicing/), with the
 * wall-clock follower held while it runs and rebased after. Ends early when the server closes.
 */
class TimeJobs {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly vm: VmControl,
    private readonly clock: ClockControl,
    private readonly closing: AbortSignal,
  ) {}

  run(targetMs: number): Promise<'done' | 'cancelled'> {
    const job = this.tail.then(async () => {
      this.clock.hold(true);
      try {
        return await runUntilInSlices(this.vm, targetMs, { signal: this.closing });
      } finally {
        this.clock.hold(false);
        this.clock.rebase();
      }
    });
    this.tail = job.catch(() => undefined);
    return job;
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
  private held = false;

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

  /** A sliced advance is running: wall-clock following waits for it. */
  hold(on: boolean): void {
    this.held = on;
    this.sync();
  }

  /** Pause or resume following to match the VM's run state. */
  sync(): void {
    if (!this.options.followWallClock) return;
    const shouldRun = this.speed > 0 && !this.held && this.vm.runState() === 'running';
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
