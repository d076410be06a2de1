/**
 * The server owns the wall-clock follower: virtual time follows wall time only while the VM runs,
 * x-sim-speed changes the factor, manual time jumps rebase it. The follower here is a recorder.
 */
import { startQmpServer, type QmpServerHandle, type WallClockFollower } from '../../../actors/qmp/qmp-server';
import type { RunState } from '../../../actors/qmp/qmp-types';
import { FakeVm } from './fake-vm';
import { QmpTestClient } from './qmp-client';

class RecordingFollower implements WallClockFollower {
  readonly log: string[];
  constructor(log: string[]) {
    this.log = log;
  }
  stop(): void {
    this.log.push('stop');
  }
  setSpeed(speed: number): void {
    this.log.push(`setSpeed ${speed}`);
  }
  pause(): void {
    this.log.push('pause');
  }
  resume(): void {
    this.log.push('resume');
  }
}

let server: QmpServerHandle | undefined;
let client: QmpTestClient | undefined;

async function setup(runState: RunState, speed = 2): Promise<{ log: string[]; client: QmpTestClient }> {
  const log: string[] = [];
  const vm = new FakeVm({ runState });
  server = await startQmpServer(vm, {
    listen: 'tcp:127.0.0.1:0',
    speed,
    followWallClock: (s) => {
      log.push(`follow ${s}`);
      return new RecordingFollower(log);
    },
  });
  client = await QmpTestClient.negotiated(server.address);
  return { log, client };
}

/** Sends a command and reads lines up to its return (skipping events). */
async function run(c: QmpTestClient, json: string): Promise<string> {
  let line = await c.command(json);
  while (line.startsWith('{"timestamp"')) line = await c.next();
  return line;
}

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

describe('QMP server: virtual time and the wall clock', () => {
  it('follows the wall clock at --speed while the VM runs; stop pauses, cont resumes', async () => {
    const { log, client: c } = await setup('running', 2);
    expect(log).toEqual(['follow 2']);
    await run(c, '{"execute": "stop"}');
    expect(log).toEqual(['follow 2', 'pause']);
    await run(c, '{"execute": "cont"}');
    expect(log).toEqual(['follow 2', 'pause', 'resume']);
  });

  it('does not start following before cont when the VM starts in prelaunch (QEMU -S)', async () => {
    const { log, client: c } = await setup('prelaunch');
    expect(log).toEqual([]);
    await run(c, '{"execute": "cont"}');
    expect(log).toEqual(['follow 2']);
  });

  it('x-sim-speed changes the factor; 0 pauses following', async () => {
    const { log, client: c } = await setup('running', 1);
    expect(await run(c, '{"execute": "x-sim-speed", "arguments": {"speed": 10}}')).toBe('{"return": {"speed": 10}}');
    expect(log).toEqual(['follow 1', 'setSpeed 10']);
    await run(c, '{"execute": "x-sim-speed", "arguments": {"speed": 0}}');
    expect(log).toEqual(['follow 1', 'setSpeed 10', 'pause']);
    await run(c, '{"execute": "x-sim-speed", "arguments": {"speed": 3}}');
    expect(log).toEqual(['follow 1', 'setSpeed 10', 'pause', 'setSpeed 3', 'resume']);
  });

  it('rebases after a manual time jump so the jump is not swallowed', async () => {
    const { log, client: c } = await setup('running', 4);
    await run(c, '{"execute": "x-sim-advance", "arguments": {"ms": 1000}}');
    await run(c, '{"execute": "human-monitor-command", "arguments": {"command-line": "run 5s"}}');
    // Following waits while the sliced advance runs, then restarts from where the jump left time.
    expect(log).toEqual(['follow 4', 'pause', 'resume', 'setSpeed 4', 'pause', 'resume', 'setSpeed 4']);
  });

  it('with --speed 0 never follows until x-sim-speed asks for it', async () => {
    const { log, client: c } = await setup('running', 0);
    expect(log).toEqual([]);
    await run(c, '{"execute": "x-sim-speed", "arguments": {"speed": 1}}');
    expect(log).toEqual(['follow 1']);
  });

  it('stops the follower on close', async () => {
    const { log } = await setup('running');
    await client!.close();
    await server!.close();
    client = undefined;
    server = undefined;
    expect(log).toEqual(['follow 2', 'stop']);
  });

  it('without a follower, x-sim-speed is refused', async () => {
    server = await startQmpServer(new FakeVm(), { listen: 'tcp:127.0.0.1:0' });
    client = await QmpTestClient.negotiated(server.address);
    expect(await run(client, '{"execute": "x-sim-speed", "arguments": {"speed": 2}}')).toBe(
      '{"error": {"class": "GenericError", "desc": "x-sim-speed: this monitor does not follow the wall clock"}}',
    );
  });
});
