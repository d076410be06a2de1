/**
 * The view server's JSON API, as tools use it: the snapshot, the event stream, commands through
 * the QMP dispatcher, a recorded run that refuses commands, and loopback only.
 */
import { request } from 'node:http';
import { createVm, type Vm } from '../../actors/vm/create-vm';
import { LiveViewSource, makeRecording, ReplayViewSource } from '../../actors/view/view-source';
import { startViewServer, type ViewServer } from '../../actors/view/view-server';
import type { ViewEvent, ViewSnapshot } from '../../actors/view/view-model';

const VM = { machine: { memory: '4G', maxmem: '44G' }, device: { memdev: '8G', statusReport: true }, guest: { profile: 'linux' as const } };

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Reads Server-Sent Events until `done` says enough (or 10 s pass). */
function readStream(url: string, done: (events: Array<{ event: string; data: unknown }>) => boolean): Promise<Array<{ event: string; data: unknown }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ event: string; data: unknown }> = [];
    let buffer = '';
    const req = request(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown;
          got.push({ event, data });
        }
        if (done(got)) {
          clearTimeout(timer);
          req.destroy();
          resolve(got);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`stream: no end after 10 s; got ${JSON.stringify(got).slice(0, 500)}`));
    }, 10_000);
    req.on('error', () => undefined);
    req.end();
  });
}

describe('the live view API', () => {
  let vm: Vm;
  let source: LiveViewSource;
  let server: ViewServer;

  beforeEach(async () => {
    vm = createVm(VM);
    source = new LiveViewSource(vm, { name: 'api', untilMs: 0 }, { speed: 1, paused: true });
    server = await startViewServer(source);
  });

  afterEach(async () => {
    await server.close();
    source.close();
    vm.dispose();
  });

  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('GET /api/snapshot gives the time, every part state, actual bytes and the counters', async () => {
    vm.run(60_000);
    const res = await get(`${server.url}api/snapshot`);
    expect(res.status).toBe(200);
    const snap = JSON.parse(res.body) as ViewSnapshot;
    expect(snap.virtualTimeMs).toBe(60_000);
    expect(snap.parts.device?.state).toBe('S_IDLE');
    expect(snap.parts.channel?.state).toBe('open');
    expect(Object.keys(snap.parts).sort()).toEqual(['channel', 'device', 'guest', 'memctl', 'vcpu']);
    expect(snap.actualBytes).toBe(4 * 2 ** 30);
    expect(snap.counters).toMatchObject({ state: 'S_IDLE' });
    expect(snap.clock).toEqual({ running: false, speed: 1 });
  });

  it('runs commands through the QMP dispatcher, with QEMU errors', async () => {
    expect((await post(`${server.url}api/qmp`, { execute: 'x-sim-advance', arguments: { ms: 60_000 } })).json).toEqual({ return: { ms: 60_000 } });
    expect((await post(`${server.url}api/qmp`, { execute: 'balloon', arguments: { value: 2 ** 31 } })).json).toEqual({ return: {} });
    await post(`${server.url}api/qmp`, { execute: 'x-sim-advance', arguments: { ms: 5_000 } });
    expect((await post(`${server.url}api/qmp`, { execute: 'query-balloon' })).json).toEqual({ return: { actual: 2 ** 31 } });
    expect((await post(`${server.url}api/qmp`, { execute: 'human-monitor-command', arguments: { 'command-line': 'info balloon' } })).json).toEqual({
      return: 'balloon: actual=2048\r\n',
    });
    // A bad target: exactly what the QMP dispatcher answers a QMP client.
    const bad = { execute: 'balloon', arguments: { value: -1 } };
    const reply = (await post(`${server.url}api/qmp`, bad)).json as { error: { class: string; desc: string } };
    expect(reply.error.desc).toMatch(/expects a size/);
    expect(reply).toEqual(vm.execute(bad));
    // What the user typed is in the run's steps; time controls are not.
    const run = JSON.parse((await get(`${server.url}api/run`)).body) as { events: ViewEvent[] };
    const steps = run.events.filter((e) => e.kind === 'step').map((e) => (e.kind === 'step' ? e.command : ''));
    expect(steps).toEqual(['{"execute":"balloon","arguments":{"value":2147483648}}', '{"execute":"query-balloon"}', 'info balloon', '{"execute":"balloon","arguments":{"value":-1}}']);
  });

  it('a body that is not JSON gets a QMP-style error', async () => {
    const res = await fetch(`${server.url}api/qmp`, { method: 'POST', body: '{"execute": ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { class: string } }).error.class).toBe('GenericError');
  });

  it('streams the device state changes of a balloon as they happen', async () => {
    vm.run(60_000);
    const stream = readStream(`${server.url}api/events`, (got) =>
      got.some((g) => g.event === 'events' && (g.data as ViewEvent[]).some((e) => e.kind === 'state' && e.part === 'device' && e.state === 'S_IDLE' && e.t > 60_000)),
    );
    // Let the stream connect before the VM moves.
    await new Promise((resolve) => setTimeout(resolve, 200));
    vm.balloon(2 ** 31);
    vm.run(2_000);
    const got = await stream;
    expect(got[0]!.event).toBe('hello');
    const device = got
      .filter((g) => g.event === 'events')
      .flatMap((g) => g.data as ViewEvent[])
      .filter((e) => e.kind === 'state' && e.part === 'device')
      .map((e) => (e.kind === 'state' ? e.state : ''));
    expect(device).toEqual(['S_BALLOON_RB_WAIT', 'S_BALLOON_POSTING', 'S_BALLOON_REPLY_WAIT', 'S_IDLE']);
  });

  it('serves each part as an SVG statechart with its states marked for highlighting', async () => {
    const res = await get(`${server.url}api/chart/device.svg`);
    expect(res.type).toMatch(/^image\/svg\+xml/);
    expect(res.body).toContain('data-state-id="S_IDLE"');
    const unknown = await get(`${server.url}api/chart/nosuch.svg`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('no part \\"nosuch\\"');
  });

  it('serves the app itself, and nothing in it points off the machine', async () => {
    for (const path of ['', 'app.js', 'view-base.css', 'app.css', 'lanes.js', 'memory-chart.js']) {
      const res = await get(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|www\.w3\.org\/2000\/svg)/);
    }
  });
});

describe('a recorded run', () => {
  it('answers snapshots at any recorded time and refuses commands', async () => {
    const vm = createVm(VM);
    const source = new LiveViewSource(vm, { name: 'rec', untilMs: 0 }, { speed: 1, paused: true });
    vm.run(60_000);
    vm.balloon(2 ** 31);
    vm.run(5_000);
    const recording = makeRecording(source.recorder, { name: 'rec', untilMs: 65_000 }, vm.now());
    source.close();
    vm.dispose();
    const server = await startViewServer(new ReplayViewSource(JSON.parse(JSON.stringify(recording))));
    try {
      const at = async (t: number): Promise<ViewSnapshot> => JSON.parse((await get(`${server.url}api/snapshot?t=${t}`)).body) as ViewSnapshot;
      expect((await at(30_000)).parts.device?.state).toBe('S_POST_INIT_WAIT');
      expect((await at(60_000)).parts.device?.state).toBe('S_BALLOON_REPLY_WAIT');
      expect((await at(65_000)).parts.device?.state).toBe('S_IDLE');
      expect((await at(65_000)).actualBytes).toBe(2 ** 31);
      expect((await get(`${server.url}api/snapshot?t=-1`)).status).toBe(400);
      const refused = await post(`${server.url}api/qmp`, { execute: 'balloon', arguments: { value: 2 ** 30 } });
      expect(refused.status).toBe(409);
    } finally {
      await server.close();
    }
  });
});
