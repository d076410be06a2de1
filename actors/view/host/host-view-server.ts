/**
 * The host view's web server, on 127.0.0.1 only: the host overview page (assets/ beside this
 * module) and, under /vm/<name>/, each VM's detail — the VM view of today (../view-server.ts
 * createViewRoutes: its page, its API) for that VM. API of the overview:
 *
 *   GET  /api/host[?t=ms&points=n&rowPoints=n]   the host at t (default now): series, one row per VM, decisions
 *   POST /api/host/qmp                            x-sim-speed or x-sim-advance for the whole host (live only; a step answers when it is done)
 *   GET  /vm/<name>/...                           the VM view of that VM (its /api/snapshot, /api/run, ...)
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { toQmpJson } from '../../qmp/qmp-json';
import { listNames } from '../host-recording';
import { appDir } from '../view-assets';
import { createViewRoutes, listenOnLoopback, readBody, sendJson, type ViewRoutes, type ViewServer, type ViewServerOptions } from '../view-server';
import type { HostViewSource } from './host-view-source';

/** The overview's files; `dir` when the file is the VM view's (the style both pages share). */
const HOST_FILES: Readonly<Record<string, { file: string; type: string; dir?: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/host-app.js': { file: 'host-app.js', type: 'text/javascript; charset=utf-8' },
  '/host-charts.js': { file: 'host-charts.js', type: 'text/javascript; charset=utf-8' },
  '/view-base.css': { file: 'view-base.css', type: 'text/css; charset=utf-8', dir: appDir() },
  '/host.css': { file: 'host.css', type: 'text/css; charset=utf-8' },
};

export async function startHostViewServer(source: HostViewSource, options: ViewServerOptions = {}): Promise<ViewServer> {
  const dir = join(__dirname, 'assets');
  const routes = new Map<string, ViewRoutes>();

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const asset = HOST_FILES[path === '/index.html' ? '/' : path];
    if (req.method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
      res.end(readFileSync(join(asset.dir ?? dir, asset.file)));
      return;
    }
    if (req.method === 'GET' && path === '/api/host') {
      const query: { t?: number; points?: number; rowPoints?: number } = {};
      for (const key of ['t', 'points', 'rowPoints'] as const) {
        const text = url.searchParams.get(key);
        if (text === null) continue;
        const value = Number(text);
        if (text.trim() === '' || !(value >= 0) || !Number.isFinite(value)) return sendJson(res, 400, { error: `${key}: expected a number >= 0, got ${JSON.stringify(text)}` });
        query[key] = value;
      }
      return sendJson(res, 200, source.overview(query));
    }
    if (req.method === 'POST' && path === '/api/host/qmp') {
      if (!source.control) return sendJson(res, 409, { error: 'this is a recorded run: replay it with the time slider; it takes no commands' });
      let request: unknown;
      try {
        request = JSON.parse(await readBody(req));
      } catch (err) {
        return sendJson(res, 400, { error: { class: 'GenericError', desc: `JSON parse error, ${err instanceof Error ? err.message : String(err)}` } });
      }
      const reply = await source.control(request);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(toQmpJson(reply));
      return;
    }
    const vm = /^\/vm\/([^/]+)(\/.*)?$/.exec(path);
    if (vm) {
      const name = decodeURIComponent(vm[1]!);
      let r = routes.get(name);
      if (!r) {
        const detail = source.vmSource(name);
        if (!detail) return sendJson(res, 404, { error: `no VM named ${JSON.stringify(name)} on this host (VMs: ${listNames(source.info.vms.map((v) => v.name))})` });
        r = createViewRoutes(detail);
        routes.set(name, r);
      }
      // The VM page's files and API are relative to its folder: /vm/<name> needs its slash.
      if (vm[2] === undefined) {
        res.writeHead(301, { location: `/vm/${vm[1]}/` });
        res.end();
        return;
      }
      if (await r.handle(req, res, vm[2], url)) return;
    }
    sendJson(res, 404, { error: `no such page: ${req.method ?? 'GET'} ${path}` });
  }

  return listenOnLoopback(options.port ?? 0, handle, () => {
    for (const r of routes.values()) r.close();
  });
}
