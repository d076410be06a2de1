/**
 * The QMP server on a real VM (not a fake), over a real TCP socket: a QEMU user's session — the
 * greeting, negotiation, `balloon` taking effect after QEMU's 50 s post-init wait, the status-report
 * events, the status query, memory devices, system_reset back to boot size, quit. Virtual time
 * moves only with x-sim-advance here, so the session is deterministic.
 */
import { createVm, startQmpServer, type QmpServerHandle, type Vm } from '../../index';
import { QmpTestClient } from '../actors/qmp/qmp-client';

let vm: Vm;
let server: QmpServerHandle;
let client: QmpTestClient;

beforeEach(async () => {
  vm = createVm({ machine: { memory: '4G', maxmem: '44G' }, device: { id: 'hvb', memdev: '8G', statusReport: true }, guest: { profile: 'linux' } });
  server = await startQmpServer(vm, { listen: 'tcp:127.0.0.1:0' });
  client = await QmpTestClient.negotiated(server.address);
});

afterEach(async () => {
  await client.close();
  await server.close();
  vm.dispose();
});

/** Sends a command and returns its reply, collecting the events written before it. */
async function exec(json: string): Promise<{ reply: unknown; events: Array<{ event: string; data?: unknown }> }> {
  client.send(json);
  const events: Array<{ event: string; data?: unknown }> = [];
  for (;;) {
    const line = JSON.parse(await client.next()) as Record<string, unknown>;
    if ('event' in line) events.push(line as { event: string; data?: unknown });
    else return { reply: line, events };
  }
}

describe('QMP on a real VM', () => {
  it('a balloon command takes effect once the device is past its post-init wait', async () => {
    expect((await exec('{"execute": "query-balloon"}')).reply).toEqual({ return: { actual: 4 * 2 ** 30 } });
    expect((await exec('{"execute": "balloon", "arguments": {"value": 2147483648}}')).reply).toEqual({ return: {} });
    // QEMU acts on a target set early once the device reaches S_IDLE, 50 s after the capabilities exchange.
    await exec('{"execute": "x-sim-advance", "arguments": {"ms": 30000}}');
    expect((await exec('{"execute": "query-balloon"}')).reply).toEqual({ return: { actual: 4 * 2 ** 30 } });
    await exec('{"execute": "x-sim-advance", "arguments": {"ms": 30000}}');
    expect((await exec('{"execute": "query-balloon", "id": 7}')).reply).toEqual({ return: { actual: 2 * 2 ** 30 }, id: 7 });
  });

  it('status reports arrive as throttled HV_BALLOON_STATUS_REPORT events and answer the status query', async () => {
    const before = await exec('{"execute": "query-hv-balloon-status-report"}');
    expect(before.reply).toEqual({ error: { class: 'GenericError', desc: 'no guest memory status report received yet' } });
    const advanced = await exec('{"execute": "x-sim-advance", "arguments": {"ms": 60000}}');
    const reports = advanced.events.filter((e) => e.event === 'HV_BALLOON_STATUS_REPORT');
    // The Linux guest drops its first 45 reports, then sends about one a second.
    expect(reports.length).toBeGreaterThan(5);
    expect(reports.length).toBeLessThan(20);
    const after = (await exec('{"execute": "query-hv-balloon-status-report"}')).reply as { return: { committed: number; available: number } };
    expect(after.return.committed).toBeGreaterThan(0);
    expect(after.return.available).toBeGreaterThan(0);
    expect(reports.at(-1)!.data).toEqual(after.return);
  });

  it('grows past boot size, lists the memory device, and a system_reset brings the guest back to boot size', async () => {
    await exec('{"execute": "x-sim-advance", "arguments": {"ms": 60000}}');
    await exec('{"execute": "human-monitor-command", "arguments": {"command-line": "balloon 10240"}}');
    await exec('{"execute": "x-sim-advance", "arguments": {"ms": 20000}}');
    expect((await exec('{"execute": "human-monitor-command", "arguments": {"command-line": "info balloon"}}')).reply).toEqual({
      return: 'balloon: actual=10240\r\n',
    });
    expect((await exec('{"execute": "query-memory-devices"}')).reply).toEqual({
      return: [{ type: 'hv-balloon', data: { id: 'hvb', memaddr: 32 * 2 ** 30, 'max-size': 8 * 2 ** 30, memdev: '/objects/mem0' } }],
    });
    const reset = await exec('{"execute": "system_reset"}');
    expect(reset.events.map((e) => e.event)).toEqual(['RESET']);
    await exec('{"execute": "x-sim-advance", "arguments": {"ms": 60000}}');
    // QEMU frees the hot-add range on reboot and does not re-apply the old target.
    expect((await exec('{"execute": "query-balloon"}')).reply).toEqual({ return: { actual: 4 * 2 ** 30 } });
  });

  it('quit sends SHUTDOWN, then the reply, then closes the connection', async () => {
    const quit = await exec('{"execute": "quit"}');
    expect(quit.events).toEqual([expect.objectContaining({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } })]);
    expect(quit.reply).toEqual({ return: {} });
    await client.closed;
  });
});
