/** The `qmp` command's serving loop (serveQmp) and its option checks, with a fake VM. */
import { Command } from 'commander';
import { registerQmpCommand, serveQmp, type ServedVm } from '../../../actors/cli/commands/qmp';
import type { CliIo } from '../../../actors/cli/cli-io';
import type { WallClockFollower } from '../../../actors/qmp/qmp-server';
import { FakeVm } from '../qmp/fake-vm';
import { QmpTestClient } from '../qmp/qmp-client';

class ServedFakeVm extends FakeVm implements ServedVm {
  readonly followed: number[] = [];
  disposed = 0;
  followWallClock(speed: number): WallClockFollower {
    this.followed.push(speed);
    return { stop: () => undefined, setSpeed: () => undefined, pause: () => undefined, resume: () => undefined };
  }
  dispose(): void {
    this.disposed++;
  }
}

function recorder(): CliIo & { out: string; err: string; listening: Promise<string> } {
  let announce: (address: string) => void = () => undefined;
  const io = {
    out: '',
    err: '',
    listening: new Promise<string>((resolve) => (announce = resolve)),
    stdout: (text: string) => {
      io.out += text;
      const match = /^QMP listening on (\S+)\n$/.exec(text);
      if (match) announce(match[1]!);
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

describe('qmp command', () => {
  it('prints where it listens, serves until a client quits, then disposes the VM', async () => {
    const vm = new ServedFakeVm();
    const io = recorder();
    const serving = serveQmp(vm, { listen: 'tcp:127.0.0.1:0', speed: 5 }, io);
    const address = await io.listening;
    expect(io.out).toMatch(/^QMP listening on tcp:127\.0\.0\.1:\d+\n$/);
    expect(vm.followed).toEqual([5]);
    const client = await QmpTestClient.negotiated(address);
    await client.command('{"execute": "quit"}');
    await serving;
    await client.closed;
    expect(vm.disposed).toBe(1);
  });

  it('stops on a signal (SIGINT in the CLI)', async () => {
    const vm = new ServedFakeVm();
    const io = recorder();
    const stop = new AbortController();
    const serving = serveQmp(vm, { listen: 'tcp:127.0.0.1:0', speed: 1, signal: stop.signal }, io);
    await io.listening;
    stop.abort();
    await serving;
    expect(vm.disposed).toBe(1);
  });

  it('refuses a non-loopback address without --allow-remote, and disposes the VM', async () => {
    const vm = new ServedFakeVm();
    await expect(serveQmp(vm, { listen: 'tcp:0.0.0.0:4444', speed: 1 }, recorder())).rejects.toThrow(/not a loopback address/);
    expect(vm.disposed).toBe(1);
  });

  it.each([
    [['--speed', 'fast'], '--speed "fast": expected a number >= 0'],
    [['--speed', '-1'], '--speed "-1": expected a number >= 0'],
    [['--listen', 'localhost:4444'], 'expected tcp:HOST:PORT or unix:PATH'],
    [['--memory', 'lots'], '--memory: invalid size "lots"'],
  ])('checks %j before building the VM', async (argv, message) => {
    const program = new Command().exitOverride();
    registerQmpCommand(program, recorder());
    await expect(program.parseAsync(['qmp', ...argv], { from: 'user' })).rejects.toThrow(message);
  });
});
