/**
 * The view's web server, on 127.0.0.1 only: the browser app (app/), the statecharts as SVG (laid
 * out here in Node with ELK, the same pictures `diagram --format svg` writes), and a JSON API:
 *
 *   GET  /api/snapshot[?t=ms]   the VM now (or at a recorded time): virtualTimeMs, parts, actualBytes, counters
 *   GET  /api/run               the run so far: scenario, end, every kept event (the app's start, a replay's whole run)
 *   GET  /api/events            Server-Sent Events: batches of new events, and the virtual time as it moves
 *   GET  /api/charts            the parts, their titles and the compound states shown collapsed at first
 *   GET  /api/chart/<part>.svg[?collapsed=id,id]
 *   POST /api/qmp               a QMP command (JSON) through the QMP dispatcher (live only)
 *
 * Nothing is fetched from anywhere else: every byte the page needs comes from here.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { findMachine } from '../diagram/machine-registry';
import { describeStatechart } from '../diagram/statechart-diagram';
import { defaultCollapsed, layoutStatechart } from '../diagram/statechart-layout';
import { renderStatechartSvg } from '../diagram/statechart-svg';
import { toQmpJson } from '../qmp/qmp-json';
import { APP_FILES, appDir } from './view-assets';
import { VIEW_PARTS, type ViewEvent, type ViewPart } from './view-model';
import type { ViewSource } from './view-source';

export interface ViewServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface ViewServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class ViewServerError extends Error {
  override readonly name = 'ViewServerError';
}

/** How often the event stream sends what piled up (wall ms): bursts become one message. */
const FLUSH_MS = 100;
const MAX_BODY = 64 * 1024;

export async function startViewServer(source: ViewSource, options: ViewServerOptions = {}): Promise<ViewServer> {
  const routes = createViewRoutes(source);
  return listenOnLoopback(options.port ?? 0, async (req, res, url) => {
    if (!(await routes.handle(req, res, url.pathname, url))) sendJson(res, 404, { error: `no such page: ${req.method ?? 'GET'} ${url.pathname}` });
  }, () => routes.close());
}

/** The view's pages and API for one source, under any prefix (the host view serves one per VM under /vm/<name>/). */
export interface ViewRoutes {
  /** Answers `path` (the URL path less any prefix); false when it is none of the view's. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean>;
  /** Ends the open event streams. */
  close(): void;
}

export function createViewRoutes(source: ViewSource): ViewRoutes {
  const dir = appDir();
  const svgCache = new Map<string, Promise<string>>();
  const streams = new Set<ServerResponse>();

  const chartSvg = (part: ViewPart, collapsed: string[]): Promise<string> => {
    const key = `${part} ${collapsed.join(',')}`;
    let svg = svgCache.get(key);
    if (!svg) {
      const entry = findMachine(part)!;
      svg = layoutStatechart(describeStatechart(entry.machine), { collapsed }).then((laid) => renderStatechartSvg(laid, entry.title));
      svgCache.set(key, svg);
    }
    return svg;
  };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<boolean> {
    const asset = APP_FILES[path === '/index.html' ? '/' : path];
    if (req.method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
      res.end(readFileSync(join(dir, asset.file)));
      return true;
    }
    if (req.method === 'GET' && path === '/api/snapshot') {
      const t = url.searchParams.get('t');
      const at = t === null ? undefined : Number(t);
      if (at !== undefined && !(at >= 0)) {
        sendJson(res, 400, { error: `t: expected a virtual time in ms >= 0, got ${JSON.stringify(t)}` });
        return true;
      }
      sendJson(res, 200, source.snapshot(at));
      return true;
    }
    if (req.method === 'GET' && path === '/api/run') {
      sendJson(res, 200, { mode: source.mode, scenario: source.scenario, nowMs: source.now(), omitted: source.omitted(), events: source.events() });
      return true;
    }
    if (req.method === 'GET' && path === '/api/charts') {
      const parts = VIEW_PARTS.map((part) => {
        const entry = findMachine(part)!;
        return { part, title: entry.title, source: entry.source, collapsed: defaultCollapsed(describeStatechart(entry.machine)) };
      });
      sendJson(res, 200, { parts });
      return true;
    }
    const chart = /^\/api\/chart\/([a-z]+)\.svg$/.exec(path);
    if (req.method === 'GET' && chart) {
      const part = VIEW_PARTS.find((p) => p === chart[1]);
      if (!part) {
        sendJson(res, 404, { error: `no part ${JSON.stringify(chart[1])} (parts: ${VIEW_PARTS.join(', ')})` });
        return true;
      }
      const collapsed = (url.searchParams.get('collapsed') ?? '').split(',').filter((s) => s !== '');
      res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-store' });
      res.end(await chartSvg(part, collapsed));
      return true;
    }
    if (req.method === 'GET' && path === '/api/events') {
      openStream(res);
      return true;
    }
    if (req.method === 'POST' && path === '/api/qmp') {
      if (!source.execute) {
        sendJson(res, 409, { error: 'this is a recorded run: replay it with the time slider; it takes no commands' });
        return true;
      }
      let request: unknown;
      try {
        request = JSON.parse(await readBody(req));
      } catch (err) {
        sendJson(res, 400, { error: { class: 'GenericError', desc: `JSON parse error, ${err instanceof Error ? err.message : String(err)}` } });
        return true;
      }
      // The reply as QEMU's monitor writes it (u64s above 2^53 as exact numbers).
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(toQmpJson(source.execute(request)));
      return true;
    }
    return false;
  }

  function openStream(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`event: hello\ndata: ${JSON.stringify({ mode: source.mode, nowMs: source.now() })}\n\n`);
    streams.add(res);
    let pending: ViewEvent[] = [];
    let lastNow = -1;
    const off = source.subscribe((e) => pending.push(e));
    const timer = setInterval(() => {
      if (pending.length > 0) {
        res.write(`event: events\ndata: ${JSON.stringify(pending)}\n\n`);
        pending = [];
      }
      const now = source.now();
      if (now !== lastNow) {
        lastNow = now;
        res.write(`event: time\ndata: ${JSON.stringify({ nowMs: now, clock: source.snapshot().clock ?? null })}\n\n`);
      }
    }, FLUSH_MS);
    res.on('close', () => {
      clearInterval(timer);
      off();
      streams.delete(res);
    });
  }

  return {
    handle,
    close: () => {
      for (const s of streams) s.end();
    },
  };
}

/**
 * An HTTP server on 127.0.0.1 (loopback only: the view can run commands on the VM and has no
 * authentication) around `handle`; a handler's throw becomes a 500 with its message.
 */
export async function listenOnLoopback(
  port: number,
  handle: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>,
  onClose: () => void = () => undefined,
): Promise<ViewServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ViewServerError(`--port ${String(port)}: expected an integer from 0 to 65535`);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res, new URL(req.url ?? '/', 'http://127.0.0.1')).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ViewServerError(`cannot start the view on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use (try --port 0 for a free one)' : err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        onClose();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error(`request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
