/**
 * Issue #9, item 4 for the HMP monitor: `run 1000000h` no longer freezes the REPL. A run goes in
 * slices; Ctrl-C (SIGINT) cancels the run, not the monitor; lines typed meanwhile wait their turn.
 */
import { PassThrough } from 'node:stream';
import { createVm } from '../../actors/vm/create-vm';
import { runMonitor } from '../../actors/cli/commands/monitor';

function session() {
  const vm = createVm({ machine: { memory: '1G' }, device: {} });
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const done = runMonitor(vm, { input, output, terminal: false });
  return { vm, input, done, text: () => text };
}

describe('monitor `run` in slices', () => {
  it('SIGINT cancels a run of a million hours; the monitor goes on', async () => {
    const s = session();
    s.input.write('run 1000000h\n');
    while (s.vm.now() === 0) await new Promise((r) => setTimeout(r, 10));
    process.emit('SIGINT');
    s.input.end('info status\nquit\n');
    await s.done;
    expect(s.text()).toMatch(/run cancelled at virtual time \d+(\.\d+)? ms/);
    expect(s.text()).toContain('(qemu) info status\nVM status: running\n');
    expect(s.vm.now()).toBeLessThan(3_600_000_000_000);
    s.vm.dispose();
  });

  it('lines typed during a run wait for it, in order', async () => {
    const s = session();
    s.input.end('run 10min\ninfo sim\nrun 1.5s\ninfo sim\n');
    await s.done;
    const times = [...s.text().matchAll(/virtual time: ([\d.]+) ms/g)].map((m) => Number(m[1]));
    expect(times).toEqual([600_000, 601_500]);
    s.vm.dispose();
  });

  it('a run past the clock range is refused with the limit', async () => {
    const s = session();
    s.input.end('run 300000000h\n');
    await s.done;
    expect(s.text()).toContain("Error: Parameter 'time' would take virtual time past 9007199254740 ms (about 285 years, the clock's range)");
    s.vm.dispose();
  });
});
