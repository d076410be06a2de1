/**
 * The live view: streams every actor of a VM to the Stately inspector. A local relay
 * (`createInspectorServer` of @statelyai/inspect, HTTP + WebSocket on one port) serves a page at
 * http://localhost:<port>/ that embeds the inspector UI (hosted at stately.ai by default, so the
 * browser needs internet) and forwards what our WebSocket client (`createWebSocketInspector`) sends.
 *
 * @statelyai/inspect is ESM-only and Jest 30 (CJS) on Node 20 cannot load it, so it is imported
 * with a dynamic import() when an inspector starts, never at module load: specs may import this
 * file safely. Nothing is printed here; the caller prints the URL.
 */
// The module object itself (not an interop copy): captureHttpServer hooks its createServer.
import http = require('node:http');
import * as net from 'node:net';
import type { InspectionEvent } from 'xstate';
import { prepareForInspector } from './inspection-sanitizer';
import { withNotedSender, type SenderNotes } from './sender-notes';

export interface StartInspectorOptions {
  /** Port of the relay (HTTP page and WebSocket). Default 8080; 0 picks a free one. */
  port?: number;
  /** The UI the page embeds. Default Stately's hosted inspector (https://stately.ai/inspect). */
  viewerUrl?: string;
  /**
   * Reduce each event to plain bounded data before sending (inspection-sanitizer.ts). Default
   * true: the parts' contexts hold whole memory models.
   */
  sanitize?: boolean;
  /**
   * Senders of events delivered from outside XState (the VM's message bus, sender-notes.ts): the
   * inspector then draws them from the sending part instead of from nowhere.
   */
  senders?: SenderNotes;
}

export interface LiveInspector {
  /** Pass as XState's `inspect` option of the VM's root actor: every actor of its system appears. */
  inspect: (event: InspectionEvent) => void;
  /** The page to open in a browser, e.g. http://localhost:8080/ */
  url: string;
  /** Browser pages connected to the relay now. */
  viewerCount(): number;
  /**
   * Resolves true once a browser page is connected (at once if one is), false after `timeoutMs`
   * of wall time. The relay replays only its last 200 messages to a page that joins late, so a
   * caller can hold the simulation until the page is open.
   */
  waitForViewer(timeoutMs: number): Promise<boolean>;
  /** Sends what is still queued, then closes the client, the relay and any browser connection. */
  stop(): Promise<void>;
}

export const DEFAULT_INSPECTOR_PORT = 8080;

/** What the user is told beside the URL (the CLI prints it). */
export const INSPECTOR_NOTE =
  'Open it in a browser before the simulation starts (the relay keeps only the last 200 messages). ' +
  'The page shows the Stately inspector hosted at stately.ai, so the browser needs internet; ' +
  'offline, record a sequence diagram instead (docs/inspector.md).';

export class InspectorStartError extends Error {
  override readonly name = 'InspectorStartError';
}

/** How long to wait for the relay to listen and our client to connect (wall time, runtime only). */
const CONNECT_TIMEOUT_MS = 5000;
const POLL_MS = 10;
/** WebSocket readyState CLOSED. */
const WS_CLOSED = 3;

export async function startInspector(opts: StartInspectorOptions = {}): Promise<LiveInspector> {
  const requested = opts.port ?? DEFAULT_INSPECTOR_PORT;
  if (!Number.isInteger(requested) || requested < 0 || requested > 65535) {
    throw new InspectorStartError(`inspector port ${String(requested)}: expected an integer from 0 to 65535`);
  }
  // The relay hard-codes its port in the page, so a free port is chosen first for port 0; and
  // it has no handler for listen errors (one would crash the process), so the port is tried first.
  const port = await probePort(requested);

  const { createInspectorServer } = await import('@statelyai/inspect/server');
  const { createWebSocketInspector } = await import('@statelyai/inspect');

  const { server, relay } = captureHttpServer(() =>
    createInspectorServer({ port, autoOpen: false, ...(opts.viewerUrl !== undefined ? { url: opts.viewerUrl } : {}) }),
  );
  // Browser connections (upgraded to WebSocket) would keep the process alive after stop().
  const sockets = new Set<net.Socket>();
  server?.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // WebSocket connections: the first is our own client, every later one a browser page.
  const upgraded: net.Socket[] = [];
  server?.on('upgrade', (_request: http.IncomingMessage, socket: net.Socket) => {
    upgraded.push(socket);
    socket.on('close', () => upgraded.splice(upgraded.indexOf(socket), 1));
  });
  let ownSocket: net.Socket | undefined;
  const viewerCount = (): number => upgraded.filter((socket) => socket !== ownSocket).length;
  const closeRelay = async (): Promise<void> => {
    const closed = server?.listening ? new Promise<void>((resolve) => server.once('close', () => resolve())) : Promise.resolve();
    relay.stop();
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  try {
    await until(() => server === undefined || server.listening, `the inspector relay did not start listening on port ${port}`);
  } catch (error) {
    await closeRelay();
    throw error;
  }

  const client = createWebSocketInspector({ url: `ws://localhost:${port}` });
  // @statelyai/inspect 0.7.2: the WebSocket adapter keeps `status` ('open' once connected) and
  // `ws`; it queues at most 200 events until open, so we wait for it before the VM starts.
  const adapter = client.adapter as unknown as { status?: string; ws?: { bufferedAmount?: number; readyState?: number } };
  try {
    await until(() => adapter.status === 'open', `the inspector client could not connect to ws://localhost:${port}`);
  } catch (error) {
    client.stop();
    await closeRelay();
    throw error;
  }

  ownSocket = upgraded[0];

  const sanitize = opts.sanitize ?? true;
  let stopped = false;
  const inspect = (event: InspectionEvent): void => {
    if (stopped) return;
    const attributed = opts.senders ? withNotedSender(event, opts.senders) : event;
    const prepared = sanitize ? prepareForInspector(attributed) : attributed;
    if (prepared) client.inspect.next?.(prepared);
  };

  return {
    inspect,
    url: `http://localhost:${port}/`,
    viewerCount,
    waitForViewer: async (timeoutMs) => {
      for (let waited = 0; viewerCount() === 0; waited += POLL_MS) {
        if (stopped || waited >= timeoutMs) return false;
        await sleep(POLL_MS);
      }
      return true;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // The inspector converts events on setTimeout(0); a later timer runs after all of them.
      await sleep(0);
      await until(() => (adapter.ws?.bufferedAmount ?? 0) === 0, 'unsent inspector messages').catch(ignore);
      // A clean close: the relay has read (and forwarded) everything sent before the close frame.
      client.stop();
      await until(() => adapter.ws?.readyState === WS_CLOSED, 'inspector client close').catch(ignore);
      // Let the relay's forwards reach the browser before its connection is cut.
      await until(() => [...sockets].every((socket) => socket.writableLength === 0), 'forwarding to the browser').catch(ignore);
      await closeRelay();
    },
  };
}

/** Resolves to a port we could listen on (the requested one, or a free one for 0). */
function probePort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'it is in use' : error.message;
      reject(new InspectorStartError(`cannot start the inspector on port ${port}: ${why}`));
    });
    probe.listen(port, () => {
      const address = probe.address();
      const chosen = typeof address === 'object' && address !== null ? address.port : port;
      probe.close(() => resolve(chosen));
    });
  });
}

/**
 * Runs `create` and returns the http.Server it made. createInspectorServer keeps its server to
 * itself; we need it to wait until it listens and to close browser connections on stop. The
 * relay is created synchronously, so the hook is in place only for that call.
 */
function captureHttpServer<T>(create: () => T): { server: http.Server | undefined; relay: T } {
  const original = http.createServer;
  let server: http.Server | undefined;
  const hook = (...args: unknown[]): http.Server => {
    const made = (original as (...a: unknown[]) => http.Server)(...args);
    server ??= made;
    return made;
  };
  (http as unknown as { createServer: unknown }).createServer = hook;
  try {
    return { relay: create(), server };
  } finally {
    (http as unknown as { createServer: unknown }).createServer = original;
  }
}

/** Best effort while stopping: a timeout only means some messages may be lost. */
function ignore(): void {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, failure: string): Promise<void> {
  for (let waited = 0; !condition(); waited += POLL_MS) {
    if (waited >= CONNECT_TIMEOUT_MS) throw new InspectorStartError(`${failure} within ${CONNECT_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}
