/**
 * Issue #9, items 4 and 5, over a real socket on 127.0.0.1 (bounded in count and time): no client
 * can freeze the server for the others, flood it into unbounded memory, or get more than one error
 * for one bad message; absurd values get a clear error with the limit.
 */
import { connect, type Socket } from 'node:net';
import { createVm, startQmpServer, type QmpServerHandle, type Vm } from '../../index';
import { MAX_CLIENTS, OUTPUT_HIGH_WATER_BYTES } from '../../actors/qmp/qmp-server';
import { serveQmp } from '../../actors/cli/commands/qmp';
import { QmpTestClient } from '../actors/qmp/qmp-client';

let vm: Vm;
let server: QmpServerHandle;

beforeEach(async () => {
  vm = createVm({ machine: { memory: '1G' }, device: {}, guest: { profile: 'linux' } });
  server = await startQmpServer(vm, { listen: 'tcp:127.0.0.1:0' });
});

afterEach(async () => {
  await server.close();
  vm.dispose();
});

const reply = async (client: QmpTestClient, json: string): Promise<Record<string, unknown>> => {
  client.send(json);
  for (;;) {
    const line = JSON.parse(await client.next()) as Record<string, unknown>;
    if (!('event' in line)) return line;
  }
};

describe('a long advance runs in slices', () => {
  it('other clients are answered while one client advances 20 virtual minutes; its reply comes when time gets there', async () => {
    const slow = await QmpTestClient.negotiated(server.address);
    const other = await QmpTestClient.negotiated(server.address);
    slow.send('{"execute": "x-sim-advance", "arguments": {"ms": 1200000}, "id": "slow"}\n');
    const answered = await reply(other, '{"execute": "x-sim-time", "id": "other"}');
    // Answered mid-advance: virtual time has not reached 30 days yet.
    expect(answered.id).toBe('other');
    expect((answered.return as { ms: number }).ms).toBeLessThan(1_200_000);
    expect(await reply(other, '{"execute": "query-balloon"}')).toEqual({ return: { actual: 2 ** 30 } });
    let slowReply: Record<string, unknown>;
    do slowReply = JSON.parse(await slow.next()) as Record<string, unknown>;
    while ('event' in slowReply);
    expect(slowReply).toEqual({ return: { ms: 1_200_000 }, id: 'slow' });
    await slow.close();
    await other.close();
  });

  it('gives the same result as one unsliced advance (time and counters)', async () => {
    const client = await QmpTestClient.negotiated(server.address);
    await reply(client, '{"execute": "balloon", "arguments": {"value": 536870912}}');
    expect(await reply(client, '{"execute": "human-monitor-command", "arguments": {"command-line": "run 20min"}}')).toEqual({ return: '' });
    const sliced = vm.counters();
    const direct = createVm({ machine: { memory: '1G' }, device: {}, guest: { profile: 'linux' } });
    direct.balloon(536_870_912);
    direct.hmp('run 20min');
    expect(JSON.stringify(sliced)).toBe(JSON.stringify(direct.counters()));
    direct.dispose();
    await client.close();
  });

  it('closing the server (SIGINT/SIGTERM in `qmp`) ends a run of a million hours at once', async () => {
    const local = createVm({ machine: { memory: '1G' }, device: {} });
    const stop = new AbortController();
    const lines: string[] = [];
    const serving = serveQmp(local, { listen: 'tcp:127.0.0.1:0', speed: 0, signal: stop.signal }, { stdout: (t) => lines.push(t), stderr: () => undefined });
    while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
    const address = lines[0]!.replace('QMP listening on ', '').trim();
    const client = await QmpTestClient.negotiated(address);
    client.send('{"execute": "human-monitor-command", "arguments": {"command-line": "run 1000000h"}}\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(local.now()).toBeGreaterThan(0);
    stop.abort();
    await serving; // resolves: the advance was cancelled between slices
    expect(local.now()).toBeLessThan(3_600_000_000_000);
    await client.closed;
  });
});

describe('absurd values', () => {
  it.each([
    ['{"execute": "x-sim-advance", "arguments": {"ms": 1e300}}', "Parameter 'ms' would take virtual time past 9007199254740 ms (about 285 years, the clock's range)"],
    ['{"execute": "x-sim-run-until", "arguments": {"t": 1e300}}', "Parameter 't' would take virtual time past 9007199254740 ms (about 285 years, the clock's range)"],
    ['{"execute": "x-sim-speed", "arguments": {"speed": 1e9}}', "Parameter 'speed' must be at most 1000000 (virtual ms per wall ms), got 1000000000"],
  ])('%s -> a GenericError naming the limit', async (command, desc) => {
    const client = await QmpTestClient.negotiated(server.address);
    const r = await reply(client, command);
    // x-sim-speed on a server that does not follow the wall clock fails its limit check first.
    expect(r).toEqual({ error: { class: 'GenericError', desc } });
    await client.close();
  });
});

describe('bad and flooding input', () => {
  it('answers a stray-byte flood once, then serves the next command', async () => {
    const client = await QmpTestClient.negotiated(server.address);
    client.send(`${'@'.repeat(200_000)}\n`);
    expect(await reply(client, '{"execute": "query-balloon", "id": 1}')).toEqual({ error: { class: 'GenericError', desc: "JSON parse error, stray '@'" } });
    expect(JSON.parse(await client.next())).toEqual({ return: { actual: 2 ** 30 }, id: 1 });
    expect(client.unread).toEqual([]);
    await client.close();
  });

  it('a client that writes and never reads is not read from once its replies pile up; others are served', async () => {
    const hostile: Socket = await new Promise((resolve) => {
      const s = connect(Number(server.address.split(':').pop()), '127.0.0.1', () => resolve(s));
    });
    hostile.pause(); // never reads
    const command = '{"execute": "query-commands"}\n';
    hostile.write('{"execute": "qmp_capabilities"}\n');
    let written = 0;
    for (let i = 0; i < 40 && hostile.writable; i++) {
      hostile.write(command.repeat(2000));
      written += 2000;
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    const stats = server.clients()[0]!;
    expect(stats.readingPaused).toBe(true);
    // Bounded: what the server holds for it is about the high-water mark, not 80,000 replies.
    expect(stats.unreadOutputBytes).toBeLessThan(OUTPUT_HIGH_WATER_BYTES + 64 * 1024);
    const other = await QmpTestClient.negotiated(server.address);
    expect(await reply(other, '{"execute": "query-balloon"}')).toEqual({ return: { actual: 2 ** 30 } });
    expect(written).toBe(80_000);
    hostile.destroy();
    await other.close();
  });

  it(`serves ${MAX_CLIENTS} clients at once and turns away one more with an error`, async () => {
    const clients = await Promise.all(Array.from({ length: MAX_CLIENTS }, () => QmpTestClient.negotiated(server.address)));
    const extra = await QmpTestClient.connect(server.address);
    expect(JSON.parse(await extra.next())).toEqual({ error: { class: 'GenericError', desc: `too many QMP clients (at most ${MAX_CLIENTS} at once)` } });
    await extra.closed;
    expect(await reply(clients[0]!, '{"execute": "query-status"}')).toEqual({ return: { status: 'running', singlestep: false, running: true } });
    await Promise.all(clients.map((c) => c.close()));
  });
});
