/**
 * The host view's server over HTTP, as the page and tools use it: the overview at a time, the
 * host's controls, each VM's detail (the VM view's own page and API) under /vm/<name>/, clear
 * answers for a VM that is not there, and a recorded host run that takes no commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../actors/host/create-host';
import { loadHostScenarioFile } from '../../../actors/host/host-scenario';
import { runCommand } from '../../../actors/cli/commands/run';
import type { HostRecording } from '../../../actors/view/host-recording';
import { hostViewInfo } from '../../../actors/view/host/host-view-recorder';
import { LiveHostViewSource, ReplayHostViewSource } from '../../../actors/view/host/host-view-source';
import { startHostViewServer } from '../../../actors/view/host/host-view-server';
import type { ViewServer } from '../../../actors/view/view-server';
import { writeSmallHost } from '../../actors/host/small-host';

const { dir, file } = writeSmallHost('hv-host-server-');

async function get(url: string): Promise<{ status: number; type: string; body: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text(), location: res.headers.get('location') };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe('the live host view server', () => {
  let host: Host;
  let source: LiveHostViewSource;
  let server: ViewServer;

  beforeAll(async () => {
    const scenario = loadHostScenarioFile(file);
    host = createHost(scenario);
    source = new LiveHostViewSource(host, hostViewInfo(scenario, host, file), { speed: 1, paused: true });
    server = await startHostViewServer(source);
  });

  afterAll(async () => {
    await server.close();
    source.close();
    host.dispose();
  });

  it('serves the host page on 127.0.0.1 and the overview at any time, moved by its controls', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('host-app.js');
    // The style both views share comes from the VM view's files, the overview's own after it.
    for (const sheet of ['view-base.css', 'host.css']) {
      const css = await get(`${server.url}${sheet}`);
      expect(css.status).toBe(200);
      expect(css.type).toMatch(/^text\/css/);
    }
    expect((await get(`${server.url}view-base.css`)).body).toContain('header#top');
    expect((await post(`${server.url}api/host/qmp`, { execute: 'x-sim-advance', arguments: { ms: 60_000 } })).json).toEqual({ return: { ms: 60_000 } });
    const now = JSON.parse((await get(`${server.url}api/host?points=10&rowPoints=5`)).body);
    expect(now.t).toBe(60_000);
    expect(now.host.times.length).toBeLessThanOrEqual(10);
    expect(now.vms.rows.map((r: { name: string }) => r.name)).toEqual(['web', 'idle']);
    const before = JSON.parse((await get(`${server.url}api/host?t=30000`)).body);
    expect(before.t).toBe(30_000);
    expect(before.host.times.at(-1)).toBe(30_000);
    expect(await get(`${server.url}api/host?t=soon`)).toMatchObject({ status: 400, body: '{"error":"t: expected a number >= 0, got \\"soon\\""}' });
  });

  it('serves each VM\'s detail under /vm/<name>/: the VM view\'s page and API, on the host\'s clock', async () => {
    expect(await get(`${server.url}vm/web`)).toMatchObject({ status: 301, location: '/vm/web/' });
    const page = await get(`${server.url}vm/web/`);
    expect(page.body).toContain('<script type="module" src="app.js">');
    expect((await get(`${server.url}vm/web/app.js`)).type).toMatch(/^text\/javascript/);
    const snap = JSON.parse((await get(`${server.url}vm/web/api/snapshot`)).body);
    expect(snap.virtualTimeMs).toBe(host.now());
    expect(snap.parts.device.state).toMatch(/^S_/);
    // Its step moves the host.
    const t = host.now();
    expect((await post(`${server.url}vm/idle/api/qmp`, { execute: 'x-sim-advance', arguments: { ms: 1000 } })).json).toEqual({ return: { ms: t + 1000 } });
    await source.settled();
    expect(host.now()).toBe(t + 1000);
    // Its console reaches the VM: QEMU's reply for the VM's balloon.
    const info = await post(`${server.url}vm/idle/api/qmp`, { execute: 'query-balloon' });
    expect(info.json).toEqual({ return: { actual: host.vmStates()[1]!.assignedBytes } });
    expect(await get(`${server.url}vm/db/`)).toMatchObject({ status: 404, body: '{"error":"no VM named \\"db\\" on this host (VMs: web, idle)"}' });
  });
});

describe('a recorded host run in the view server', () => {
  it('shows the overview and each VM\'s recording, and takes no commands', async () => {
    const record = join(dir, 'run.json');
    await runCommand(file, { record }, { stdout: () => undefined, stderr: () => undefined });
    const server = await startHostViewServer(new ReplayHostViewSource(JSON.parse(readFileSync(record, 'utf8')) as HostRecording, record));
    try {
      const o = JSON.parse((await get(`${server.url}api/host`)).body);
      expect(o).toMatchObject({ mode: 'replay', t: 120_000, nowMs: 120_000, clock: null });
      expect(o.decisions.total).toBeGreaterThan(0);
      const run = JSON.parse((await get(`${server.url}vm/idle/api/run`)).body);
      expect(run.mode).toBe('replay');
      expect(run.scenario.name).toBe('small host: idle');
      expect((await post(`${server.url}api/host/qmp`, { execute: 'x-sim-speed', arguments: { speed: 1 } })).status).toBe(409);
      expect((await post(`${server.url}vm/idle/api/qmp`, { execute: 'query-balloon' })).status).toBe(409);
    } finally {
      await server.close();
    }
  });
});
