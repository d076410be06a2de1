/**
 * `run host.json --view` and `view host.json --vm <name>` from the shell, as a user runs them: the
 * host runs live in the view (its URL on stderr), the scenario's steps print as they run, `--vm`
 * prints that VM's detail URL and records it from the start, Ctrl-C stops cleanly; with
 * `--inspect`, the Stately inspector's relay is shown that one VM's actors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import { writeSmallHost } from './small-host';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'hv-balloon-sim.js');

function start(args: string[], until: RegExp): Promise<{ child: ChildProcess; out: () => string; err: () => string; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`waited 30 s for ${String(until)}; stdout ${out}; stderr ${err}`)), 30_000);
    const check = (): void => {
      const m = until.exec(out + err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, out: () => out, err: () => err, match: m });
      }
    };
    child.stdout!.on('data', (c: Buffer) => ((out += c.toString()), check()));
    child.stderr!.on('data', (c: Buffer) => ((err += c.toString()), check()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the host live from the command line', () => {
  const { file } = writeSmallHost('hv-host-view-cli-', { steps: [{ at: '20s', vm: 'idle', hmp: 'info balloon' }] });

  it('run host.json --view serves the host and prints its steps as they run', async () => {
    const run = await start(['run', file, '--view', '--speed', '50'], /idle: info balloon -> balloon: actual=2048/);
    try {
      const url = /view: open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(run.err())![1]!;
      const o = (await (await fetch(`${url}api/host`)).json()) as { mode: string; t: number; vms: { rows: { name: string }[] } };
      expect(o.mode).toBe('live');
      expect(o.t).toBeGreaterThanOrEqual(20_000);
      expect(o.vms.rows.map((r) => r.name)).toEqual(['web', 'idle']);
      expect(run.out()).toMatch(/^\s+20s idle: info balloon -> balloon: actual=2048$/m);
    } finally {
      expect(await stop(run.child)).toBe(0);
    }
  });

  it('view host.json --vm idle prints the VM\'s detail URL, recorded from the start', async () => {
    const view = await start(['view', file, '--vm', 'idle', '--paused'], /view: idle's detail: (http:\/\/127\.0\.0\.1:\d+\/vm\/idle\/)\n/);
    try {
      expect(view.err()).toContain('host small host: 2 VMs, policy hyperv; virtual time x1 (paused: press run or step)');
      const detail = view.match[1]!;
      await fetch(`${detail.replace(/vm\/idle\/$/, '')}api/host/qmp`, { method: 'POST', body: JSON.stringify({ execute: 'x-sim-advance', arguments: { ms: 60_000 } }) });
      const run = (await (await fetch(`${detail}api/run`)).json()) as { events: { t: number; kind: string }[] };
      // From virtual time 0: the DM handshake is in it.
      expect(run.events[0]!.t).toBe(0);
      expect(run.events.some((e) => e.kind === 'message')).toBe(true);
    } finally {
      expect(await stop(view.child)).toBe(0);
    }
  });

  it('view host.json --vm idle --inspect shows the inspector that VM, and only it', async () => {
    const view = await start(['view', file, '--vm', 'idle', '--inspect', '--inspect-port', '0', '--inspect-wait', '20', '--speed', '50'], /virtual time waits up to 20 s/);
    const messages: { type: string; sessionId?: string; snapshot?: unknown; name?: string }[] = [];
    let viewer: WebSocket | undefined;
    try {
      expect(view.err()).toContain('inspector: VM idle of host small host (its parts: vm, device, channel, guest, memctl, vcpu)');
      const port = /Stately inspector: open http:\/\/localhost:(\d+)\//.exec(view.err())![1]!;
      // A page of the relay, as the browser's would be: virtual time starts once it is connected.
      viewer = new WebSocket(`ws://localhost:${port}`);
      viewer.on('message', (data: WebSocket.RawData) => messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no view URL after the inspector page connected: ${view.err()}`)), 30_000);
        const poll = setInterval(() => {
          if (/view: idle's detail:/.test(view.err()) && messages.some((m) => m.type === '@xstate.snapshot')) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        }, 50);
      });
      expect(view.err()).toContain('inspector page connected: virtual time starts');
      const actors = messages.filter((m) => m.type === '@xstate.actor');
      // One VM's six parts; the host's other VM (web) is not sent.
      expect(actors.map((m) => m.name).sort()).toEqual(['channel', 'device', 'guest', 'memctl', 'vcpu', 'vm']);
      const vcpu = actors.find((m) => m.name === 'vcpu')!.sessionId;
      const vcpuSnapshots = messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === vcpu).map((m) => JSON.stringify(m.snapshot));
      // idle runs no workload; web's vCPU would show its demand workload.
      expect(vcpuSnapshots.length).toBeGreaterThan(0);
      expect(vcpuSnapshots.join('\n')).not.toContain('demand');
    } finally {
      viewer?.close();
      expect(await stop(view.child)).toBe(0);
    }
  });
});
