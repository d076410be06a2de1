/**
 * Issue #9, item 6: a deeply nested HMP expression overflowed the JS stack: over QMP the reply
 * leaked "Maximum call stack size exceeded", the monitor REPL died, a scenario exited 1.
 */
import { PassThrough } from 'node:stream';
import { createVm } from '../../actors/vm/create-vm';
import { MAX_EXPRESSION_DEPTH } from '../../actors/hmp/hmp';
import { runMonitor } from '../../actors/cli/commands/monitor';
import { parseScenario, runScenario } from '../../actors/scenario/scenario';

const deep = (n: number, inner = '1'): string => `${'('.repeat(n)}${inner}${')'.repeat(n)}`;
const TOO_DEEP = `expression nested too deeply (at most ${MAX_EXPRESSION_DEPTH} levels)`;

describe('deeply nested HMP expressions', () => {
  it('evaluates nesting up to the limit and refuses deeper with a monitor error', () => {
    const vm = createVm({ machine: { memory: '1G' }, device: {} });
    expect(vm.hmp(`balloon ${deep(MAX_EXPRESSION_DEPTH - 1, '512')}`)).toBe('');
    for (const line of [`balloon ${deep(100_000)}`, `balloon ${'-'.repeat(100_000)}1`, `balloon ${'~'.repeat(50_000)}1`]) {
      expect(vm.hmp(line)).toBe(`${TOO_DEEP}\nTry "help balloon" for more information\n`);
    }
    vm.dispose();
  });

  it('over QMP: a QEMU-shaped reply, no JS error text', () => {
    const vm = createVm({ machine: { memory: '1G' }, device: {} });
    const reply = vm.execute({ execute: 'human-monitor-command', arguments: { 'command-line': `balloon ${deep(200_000)}` }, id: 7 });
    expect(reply).toEqual({ return: `${TOO_DEEP}\r\nTry "help balloon" for more information\r\n`, id: 7 });
    expect(vm.queryBalloon()).toEqual({ actual: 2 ** 30 });
    vm.dispose();
  });

  it('the monitor REPL answers and keeps its prompt', async () => {
    const vm = createVm({ machine: { memory: '1G' }, device: {} });
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const done = runMonitor(vm, { input, output, terminal: false });
    input.end(`balloon ${deep(100_000)}\ninfo balloon\n`);
    await done;
    expect(text).toContain(TOO_DEEP);
    expect(text).toContain('balloon: actual=1024');
    vm.dispose();
  });

  it('a scenario step gets the error as its reply and the run finishes', () => {
    const result = runScenario(parseScenario({ machine: { memory: '1G' }, steps: [{ at: '1s', hmp: `balloon ${deep(100_000)}` }], until: '2s' }));
    result.vm.dispose();
    expect(result.steps[0]!.reply).toContain(TOO_DEEP);
    expect(result.virtualTimeMs).toBe(2000);
  });
});
