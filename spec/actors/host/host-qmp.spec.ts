/** `qmp --host`: one QMP monitor per VM of a host scenario, on a socket each, sharing the host's clock. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveHost } from '../../../actors/host/host-qmp';
import { QmpTestClient } from '../qmp/qmp-client';

/** The command's reply, skipping the events the server writes before it. */
async function reply(client: QmpTestClient, json: string): Promise<Record<string, unknown>> {
  client.send(`${json}\n`);
  for (;;) {
    const line = JSON.parse(await client.next()) as Record<string, unknown>;
    if ('return' in line || 'error' in line) return line;
  }
}

describe('qmp --host', () => {
  it('serves every VM on its own socket; each answers QMP; time moves for the whole host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hv-host-qmp-'));
    const file = join(dir, 'host.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'two',
        host: { memory: '8G', policy: { kind: 'manual' } },
        vms: [{ name: 'a', dynamicMemory: { startup: '2G', maximum: '2G' } }, { name: 'b', dynamicMemory: { startup: '1G', maximum: '1G' } }],
        until: '1h',
      }),
    );
    let out = '';
    let listening: (v: void) => void = () => undefined;
    const ready = new Promise((resolve) => (listening = resolve));
    const serving = serveHost(file, { socketDir: join(dir, 'sockets'), speed: 0 }, {
      stdout: (t) => {
        out += t;
        if ((out.match(/QMP listening/g) ?? []).length === 2) listening();
      },
      stderr: () => undefined,
    });
    await ready;
    expect(out).toBe(`a: QMP listening on unix:${join(dir, 'sockets', 'a.sock')}\nb: QMP listening on unix:${join(dir, 'sockets', 'b.sock')}\n`);
    const a = await QmpTestClient.negotiated(`unix:${join(dir, 'sockets', 'a.sock')}`);
    const b = await QmpTestClient.negotiated(`unix:${join(dir, 'sockets', 'b.sock')}`);
    expect(await reply(a, '{"execute": "query-balloon"}')).toEqual({ return: { actual: 2 * 2 ** 30 } });
    expect(await reply(b, '{"execute": "query-balloon"}')).toEqual({ return: { actual: 2 ** 30 } });
    await reply(a, '{"execute": "x-sim-advance", "arguments": {"ms": 60000}}');
    // One clock: advancing a's monitor moved b's VM too.
    expect(await reply(b, '{"execute": "x-sim-advance", "arguments": {"ms": 0}}')).toEqual({ return: { ms: 60_000 } });
    await reply(a, '{"execute": "quit"}');
    await reply(b, '{"execute": "quit"}');
    await serving;
  });
});
