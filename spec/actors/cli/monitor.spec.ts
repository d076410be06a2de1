/** The `monitor` REPL: (qemu) prompt, HMP on each line, time only moves with `run`, quit/q/EOF exit. */
import { PassThrough } from 'node:stream';
import { HMP_PROMPT, MONITOR_BANNER, runMonitor } from '../../../actors/cli/commands/monitor';
import { FakeVm } from '../qmp/fake-vm';

async function session(vm: FakeVm, input: string): Promise<string> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let output = '';
  stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const done = runMonitor(vm, { input: stdin, output: stdout, terminal: false });
  stdin.end(input);
  await done;
  return output;
}

describe('monitor REPL', () => {
  it('prints the banner and prompt, echoes each command and prints its output', async () => {
    const vm = new FakeVm();
    const output = await session(vm, 'info balloon\nballoon 2048\ninfo balloon\n');
    expect(output).toBe(
      MONITOR_BANNER +
        `${HMP_PROMPT}info balloon\nballoon: actual=4096\n` +
        `${HMP_PROMPT}balloon 2048\n` +
        `${HMP_PROMPT}info balloon\nballoon: actual=2048\n` +
        `${HMP_PROMPT}\n`,
    );
  });

  it('is deterministic: virtual time moves only with run', async () => {
    const vm = new FakeVm();
    await session(vm, 'info sim\nrun 10s\nrun 500ms\n');
    expect(vm.now()).toBe(10_500);
  });

  it.each(['quit', 'q'])('%s ends the session and ignores what follows', async (quit) => {
    const vm = new FakeVm();
    const output = await session(vm, `${quit}\nballoon 1024\n`);
    expect(output).toBe(`${MONITOR_BANNER}${HMP_PROMPT}${quit}\n`);
    expect(vm.calls).toEqual(['quit']);
  });

  it('ends at end of input', async () => {
    const vm = new FakeVm();
    await expect(session(vm, '')).resolves.toBe(`${MONITOR_BANNER}${HMP_PROMPT}\n`);
    expect(vm.calls).toEqual([]);
  });

  it('shows errors and goes on', async () => {
    const output = await session(new FakeVm(), 'balloon lots\nnosuch\ninfo status\n');
    expect(output).toContain('invalid char \'l\' in expression\nTry "help balloon" for more information\n');
    expect(output).toContain("unknown command: 'nosuch'\n");
    expect(output).toContain('VM status: running\n');
  });
});
