/**
 * The QMP server over real sockets (TCP on 127.0.0.1 port 0, and a unix socket) with a plain
 * `net` client. Expected lines are the ones a real QEMU QMP session shows, byte for byte.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packageJson from '../../../package.json';
import { parseListenAddress, startQmpServer, type QmpServerHandle } from '../../../actors/qmp/qmp-server';
import { FakeVm } from './fake-vm';
import { QmpTestClient } from './qmp-client';

const GREETING = `{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "hv-balloon-sim ${packageJson.version}"}, "capabilities": ["oob"]}}`;

let server: QmpServerHandle | undefined;
const clients: QmpTestClient[] = [];

async function serve(vm: FakeVm, onQuit?: () => void): Promise<string> {
  server = await startQmpServer(vm, { listen: 'tcp:127.0.0.1:0', ...(onQuit ? { onQuit } : {}) });
  return server.address;
}

async function open(address: string): Promise<{ client: QmpTestClient; greeting: string }> {
  const opened = await QmpTestClient.open(address);
  clients.push(opened.client);
  return opened;
}

async function negotiated(address: string): Promise<QmpTestClient> {
  const client = await QmpTestClient.negotiated(address);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server?.close();
  server = undefined;
});

describe('QMP server over TCP', () => {
  it('listens on an ephemeral loopback port and greets like QEMU 10.0.2', async () => {
    const address = await serve(new FakeVm());
    expect(address).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
    expect(address).not.toBe('tcp:127.0.0.1:0');
    const { greeting } = await open(address);
    expect(greeting).toBe(GREETING);
  });

  it('replays a real QEMU QMP session line by line', async () => {
    const vm = new FakeVm({ runState: 'prelaunch' });
    const { client } = await open(await serve(vm));
    const exchange: [string, string][] = [
      ['{"execute": "query-balloon"}', `{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`],
      ['{"execute": "qmp_capabilities"}', '{"return": {}}'],
      ['{"execute": "qmp_capabilities"}', '{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}'],
      ['{"execute": "query-balloon", "id": "x1"}', '{"return": {"actual": 4294967296}, "id": "x1"}'],
      ['{"execute": "no-such-command"}', '{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}}'],
      ['{"execute": "balloon", "arguments": {"value": "lots"}}', `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'value', expected: integer"}}`],
      ['{"execute": "balloon", "arguments": {"value": -5}}', `{"error": {"class": "GenericError", "desc": "Parameter 'value' expects a size"}}`],
      ['{"execute": "balloon", "arguments": {"value": 0}}', `{"error": {"class": "GenericError", "desc": "Parameter 'value' expects a size"}}`],
      ['{"execute": "balloon", "arguments": {}}', `{"error": {"class": "GenericError", "desc": "Parameter 'value' is missing"}}`],
      ['{"execute": "balloon", "arguments": {"value": 2147483648, "extra": 1}}', `{"error": {"class": "GenericError", "desc": "Parameter 'extra' is unexpected"}}`],
      ['{"execute": "balloon", "arguments": {"value": 2147483648}}', '{"return": {}}'],
      ['{"execute": "query-balloon"]', '{"error": {"class": "GenericError", "desc": "JSON parse error, expected separator in dict"}}'],
      ['[1,2]', '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'],
      ['{"exec": "query-balloon"}', `{"error": {"class": "GenericError", "desc": "QMP input member 'exec' is unexpected"}}`],
      ['{"execute": "query-status"}', '{"return": {"status": "prelaunch", "singlestep": false, "running": false}}'],
      ['{"execute": "human-monitor-command", "arguments": {"command-line": "info balloon"}}', '{"return": "balloon: actual=2048\\r\\n"}'],
      ['{"execute": "human-monitor-command", "arguments": {"command-line": "balloon 1024"}}', '{"return": ""}'],
      [
        '{"execute": "human-monitor-command", "arguments": {"command-line": "balloon lots"}}',
        `{"return": "invalid char 'l' in expression\\r\\nTry \\"help balloon\\" for more information\\r\\n"}`,
      ],
      ['{"execute": "human-monitor-command", "arguments": {"command-line": "nosuch"}}', `{"return": "unknown command: 'nosuch'\\r\\n"}`],
    ];
    for (const [request, reply] of exchange) expect(await client.command(request)).toBe(reply);
  });

  it('writes the events of a command before its return, as QEMU does', async () => {
    const client = await negotiated(await serve(new FakeVm({ runState: 'prelaunch' })));
    expect(await client.command('{"execute": "system_reset"}')).toBe(
      '{"timestamp": {"seconds": 1700000000, "microseconds": 0}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}',
    );
    expect(await client.next()).toBe('{"return": {}}');
    expect(await client.command('{"execute": "cont", "id": 1}')).toBe('{"timestamp": {"seconds": 1700000000, "microseconds": 0}, "event": "RESUME"}');
    expect(await client.next()).toBe('{"return": {}, "id": 1}');
    expect(await client.command('{"execute": "stop"}')).toMatch(/^\{"timestamp": \{"seconds": \d+, "microseconds": \d+\}, "event": "STOP"\}$/);
    expect(await client.next()).toBe('{"return": {}}');
  });

  it('sends events only to clients that negotiated, and to all of them', async () => {
    const vm = new FakeVm({ statusReport: true });
    const address = await serve(vm);
    const { client: fresh } = await open(address);
    const a = await negotiated(address);
    const b = await negotiated(address);
    vm.emit('STOP');
    const stop = '{"timestamp": {"seconds": 1700000000, "microseconds": 0}, "event": "STOP"}';
    expect(await a.next()).toBe(stop);
    expect(await b.next()).toBe(stop);
    expect(await a.command('{"execute": "x-sim-advance", "arguments": {"ms": 1000}}')).toBe(
      '{"timestamp": {"seconds": 1700000001, "microseconds": 0}, "event": "HV_BALLOON_STATUS_REPORT", "data": {"committed": 1073741824, "available": 3221225472}}',
    );
    expect(await a.next()).toBe('{"return": {"ms": 1000}}');
    expect(await fresh.command('{"execute": "qmp_capabilities"}')).toBe('{"return": {}}');
    expect(fresh.unread).toEqual([]);
  });

  it('answers malformed JSON and keeps the connection for the next command', async () => {
    const client = await negotiated(await serve(new FakeVm()));
    expect(await client.command('{"execute": "query-balloon"]')).toBe(
      '{"error": {"class": "GenericError", "desc": "JSON parse error, expected separator in dict"}}',
    );
    expect(await client.command('{"execute": nonsense}')).toBe(
      `{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword 'nonsense'"}}`,
    );
    expect(await client.command('{"execute": "query-balloon", "id": "after"}')).toBe('{"return": {"actual": 4294967296}, "id": "after"}');
  });

  it('reads several commands in one packet and one command split across packets', async () => {
    const client = await negotiated(await serve(new FakeVm()));
    client.send('{"execute": "query-balloon", "id": 1}{"execute": "x-sim-time", "id": 2}\n');
    expect(await client.next()).toBe('{"return": {"actual": 4294967296}, "id": 1}');
    expect(await client.next()).toBe('{"return": {"ms": 0}, "id": 2}');
    client.send('{"execute": "bal');
    await new Promise((resolve) => setImmediate(resolve));
    client.send('loon", "arguments": {"value": 1073741824}, "id": "split"}');
    expect(await client.next()).toBe('{"return": {}, "id": "split"}');
  });

  it('answers wrong argument types, negative and zero sizes and unknown commands', async () => {
    const client = await negotiated(await serve(new FakeVm()));
    expect(await client.command('{"execute": "x-sim-advance", "arguments": {"ms": "soon"}}')).toBe(
      `{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'ms', expected: number"}}`,
    );
    expect(await client.command('{"execute": "balloon", "arguments": {"value": -1073741824}, "id": "neg"}')).toBe(
      `{"error": {"class": "GenericError", "desc": "Parameter 'value' expects a size"}, "id": "neg"}`,
    );
    expect(await client.command('{"execute": "balloon", "arguments": {"value": 0}, "id": "zero"}')).toBe(
      `{"error": {"class": "GenericError", "desc": "Parameter 'value' expects a size"}, "id": "zero"}`,
    );
    expect(await client.command('{"execute": "migrate"}')).toBe('{"error": {"class": "CommandNotFound", "desc": "The command migrate has not been found"}}');
  });

  it('quit: SHUTDOWN, then the return, then the connection closes and the owner is told', async () => {
    const vm = new FakeVm();
    const onQuit = jest.fn();
    const client = await negotiated(await serve(vm, onQuit));
    expect(await client.command('{"execute": "quit"}')).toBe(
      '{"timestamp": {"seconds": 1700000000, "microseconds": 0}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}',
    );
    expect(await client.next()).toBe('{"return": {}}');
    await client.closed;
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('quit seen from another client: SHUTDOWN arrives before the owner closes the server', async () => {
    const vm = new FakeVm();
    const address = await serve(vm, () => void server?.close());
    const watcher = await negotiated(address);
    const quitter = await negotiated(address);
    await quitter.command('{"execute": "quit"}');
    expect(await watcher.next()).toMatch(/"event": "SHUTDOWN"/);
    await watcher.closed;
    await quitter.closed;
  });

  it('survives a client that disconnects in the middle of a command, and serves the next one', async () => {
    const vm = new FakeVm();
    const address = await serve(vm);
    const leaving = await negotiated(address);
    vm.onAdvance = () => leaving.socket.destroy();
    leaving.send('{"execute": "x-sim-advance", "arguments": {"ms": 5000}}\n');
    await leaving.closed;
    const halfway = await negotiated(address);
    halfway.send('{"execute": "query-bal');
    await halfway.close();
    const next = await negotiated(address);
    expect(await next.command('{"execute": "x-sim-time"}')).toBe('{"return": {"ms": 5000}}');
  });

  it('close() ends every connection', async () => {
    const address = await serve(new FakeVm());
    const { client } = await open(address);
    await server!.close();
    server = undefined;
    await client.closed;
    await expect(QmpTestClient.connect(address)).rejects.toThrow();
  });
});

describe('QMP server over a unix socket', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qmp-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the same protocol and removes the socket file on close', async () => {
    const path = join(dir, 'qmp.sock');
    server = await startQmpServer(new FakeVm(), { listen: `unix:${path}` });
    expect(server.address).toBe(`unix:${path}`);
    const { client, greeting } = await open(server.address);
    expect(greeting).toBe(GREETING);
    expect(await client.command('{"execute": "qmp_capabilities"}')).toBe('{"return": {}}');
    expect(await client.command('{"execute": "query-balloon"}')).toBe('{"return": {"actual": 4294967296}}');
    await server.close();
    server = undefined;
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket but refuses to overwrite a regular file', async () => {
    const path = join(dir, 'qmp.sock');
    const first = await startQmpServer(new FakeVm(), { listen: `unix:${path}` });
    // A crashed server leaves its socket behind: simulate by starting over on the same path.
    server = await startQmpServer(new FakeVm(), { listen: `unix:${path}` });
    await first.close().catch(() => undefined);
    const file = join(dir, 'file');
    writeFileSync(file, 'keep me');
    await expect(startQmpServer(new FakeVm(), { listen: `unix:${file}` })).rejects.toThrow(`cannot listen on unix:${file}`);
    expect(existsSync(file)).toBe(true);
  });
});

describe('QMP listen addresses', () => {
  it('parses tcp, IPv6 and unix forms, and QEMU\'s server/wait flags', () => {
    expect(parseListenAddress('tcp:127.0.0.1:4444')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 4444 });
    expect(parseListenAddress('tcp:[::1]:4444')).toEqual({ kind: 'tcp', host: '::1', port: 4444 });
    expect(parseListenAddress('tcp:localhost:4444,server=on,wait=off')).toEqual({ kind: 'tcp', host: 'localhost', port: 4444 });
    expect(parseListenAddress('unix:/tmp/qmp.sock')).toEqual({ kind: 'unix', path: '/tmp/qmp.sock' });
  });

  it.each([
    ['4444', 'expected tcp:HOST:PORT or unix:PATH'],
    ['tcp:127.0.0.1', 'expected tcp:HOST:PORT or unix:PATH'],
    ['tcp:127.0.0.1:70000', 'port 70000 is out of range'],
    ['unix:', 'unix: needs a socket path'],
    ['tcp:127.0.0.1:4444,reconnect=1', "unsupported option 'reconnect=1'"],
  ])('refuses %j', (listen, message) => {
    expect(() => parseListenAddress(listen)).toThrow(message);
  });

  it.each(['tcp:0.0.0.0:0', 'tcp::0', 'tcp:192.0.2.1:0'])('refuses the non-loopback %s unless allowRemote is set', async (listen) => {
    await expect(startQmpServer(new FakeVm(), { listen })).rejects.toThrow(/not a loopback address.*--allow-remote/);
  });

  it('reports a port already in use', async () => {
    const address = await serve(new FakeVm());
    await expect(startQmpServer(new FakeVm(), { listen: address })).rejects.toThrow(`cannot listen on ${address}: listen EADDRINUSE: address already in use`);
  });
});
