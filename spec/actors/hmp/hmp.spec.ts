/** The HMP interpreter: QEMU's texts for the commands we support, its argument parser, our run/info sim. */
import { runHmp } from '../../../actors/hmp/hmp';
import { QmpError } from '../../../actors/qmp/qmp-types';
import { FakeVm, GiB, MiB } from '../qmp/fake-vm';

function ballooned(line: string): { output: string; calls: string[] } {
  const vm = new FakeVm();
  const output = runHmp(vm, line);
  return { output, calls: vm.calls };
}

describe('HMP balloon: QEMU reads the value as an expression in MiB', () => {
  it.each([
    ['balloon 1024', GiB],
    ['balloon   2048  ', 2 * GiB],
    ['balloon 0x400', GiB],
    ['balloon 010', 8 * MiB],
    ['balloon 1024*3', 3 * GiB],
    ['balloon (1+1)*512', GiB],
    ['balloon 4096-1024', 3 * GiB],
    ['balloon 0x800|0x400', 3 * GiB],
    ['balloon 7%4', 3 * MiB],
  ])('%j sets the target to %d bytes and prints nothing', (line, bytes) => {
    expect(ballooned(line)).toEqual({ output: '', calls: [`balloon ${bytes}`] });
  });

  it.each([
    ['balloon 1G', GiB],
    ['balloon 1.5G', 1.5 * GiB],
    ['balloon 512M', 512 * MiB],
    ['balloon 2097152K', 2 * GiB],
    ['balloon 1t', 2 ** 40],
    ['balloon 4GiB', 4 * GiB],
  ])('also takes a size with a suffix: %j is %d bytes', (line, bytes) => {
    expect(ballooned(line)).toEqual({ output: '', calls: [`balloon ${bytes}`] });
  });

  const tryHelp = 'Try "help balloon" for more information\n';
  it.each([
    ['balloon lots', "invalid char 'l' in expression\n"],
    ['balloon', 'unexpected end of expression\n'],
    ['balloon -5', 'enter a positive value\n'],
    ['balloon 1024 extra', 'balloon: extraneous characters at the end of line\n'],
    ['balloon 1.5', 'balloon: extraneous characters at the end of line\n'],
    ['balloon (1+2', "')' expected\n"],
    ['balloon 5/0', 'division by zero\n'],
    ['balloon 99999999999999999999', 'number too large\n'],
    ['balloon 0x7fffffffffff', 'number too large\n'],
  ])('%j: the parse error, then a pointer to help; the VM is not called', (line, error) => {
    expect(ballooned(line)).toEqual({ output: error + tryHelp, calls: [] });
  });

  it('a zero target goes to QMP balloon, which refuses it as QEMU does', () => {
    expect(ballooned('balloon 0')).toEqual({ output: "Error: Parameter 'value' expects a size\n", calls: [] });
  });

  it('prints the error of a VM that refuses', () => {
    const vm = new FakeVm();
    vm.failNext = new QmpError('DeviceNotActive', 'No balloon device has been activated');
    expect(runHmp(vm, 'balloon 1024')).toBe('Error: No balloon device has been activated\n');
  });
});

describe('HMP info', () => {
  it('info balloon prints actual in MiB', () => {
    const vm = new FakeVm();
    expect(runHmp(vm, 'info balloon')).toBe('balloon: actual=4096\n');
    runHmp(vm, 'balloon 1536');
    expect(runHmp(vm, 'info balloon')).toBe('balloon: actual=1536\n');
  });

  it('info memory-devices prints the device block', () => {
    const vm = new FakeVm({ memdev: { bytes: 2 * GiB, addr: 0x800000000, path: '/objects/mem0' } });
    expect(runHmp(vm, 'info memory-devices')).toBe(
      'Memory device [hv-balloon]: "hvb"\n  memaddr: 0x800000000\n  max-size: 2147483648\n  memdev: /objects/mem0\n',
    );
  });

  it('info status follows the run state as QEMU prints it', () => {
    expect(runHmp(new FakeVm(), 'info status')).toBe('VM status: running\n');
    expect(runHmp(new FakeVm({ runState: 'paused' }), 'info status')).toBe('VM status: paused\n');
    expect(runHmp(new FakeVm({ runState: 'prelaunch' }), 'info status')).toBe('VM status: paused (prelaunch)\n');
  });

  it('info sim shows virtual time, run state and the counters', () => {
    const vm = new FakeVm();
    runHmp(vm, 'run 61.5s');
    expect(runHmp(vm, 'info sim')).toBe(
      [
        'virtual time: 61500 ms (1min 1.5s)',
        'run state: running',
        'counters:',
        '  device.state: IDLE',
        '  device.transId: 3',
        '  messages.sent: 12',
        '  messages.received: 11',
        '  balloonCalls: 0',
        '',
      ].join('\n'),
    );
  });

  it('info alone lists the info subcommands', () => {
    expect(runHmp(new FakeVm(), 'info')).toBe(runHmp(new FakeVm(), 'help info'));
    expect(runHmp(new FakeVm(), 'info')).toContain('info balloon  -- show balloon information\n');
  });

  it('an unknown subcommand is an unknown command', () => {
    expect(runHmp(new FakeVm(), 'info nosuch')).toBe("unknown command: 'info nosuch'\n");
  });

  it('an info subcommand takes no arguments', () => {
    expect(runHmp(new FakeVm(), 'info balloon now')).toBe(
      'balloon: extraneous characters at the end of line\nTry "help info balloon" for more information\n',
    );
  });
});

describe('HMP run control', () => {
  it.each([
    ['stop', 'stop'],
    ['s', 'stop'],
    ['cont', 'cont'],
    ['c', 'cont'],
    ['system_reset', 'system_reset'],
  ])('%j calls %s and prints nothing', (line, call) => {
    expect(ballooned(line)).toEqual({ output: '', calls: [call] });
  });

  it('refuses arguments to commands that take none, naming the command as QEMU does', () => {
    expect(ballooned('stop now')).toEqual({
      output: 'stop|s: extraneous characters at the end of line\nTry "help stop" for more information\n',
      calls: [],
    });
  });

  it('quit and q shut the VM down and tell the owner', () => {
    for (const line of ['quit', 'q']) {
      const vm = new FakeVm();
      const onQuit = jest.fn();
      expect(runHmp(vm, line, { onQuit })).toBe('');
      expect(vm.calls).toEqual(['quit']);
      expect(onQuit).toHaveBeenCalled();
    }
  });

  it('run advances virtual time (ms, s, min, h; plain number = ms)', () => {
    const vm = new FakeVm();
    const onTimeJump = jest.fn();
    expect(runHmp(vm, 'run 500', { onTimeJump })).toBe('');
    expect(runHmp(vm, 'run 1.5s')).toBe('');
    expect(runHmp(vm, 'run 2min')).toBe('');
    expect(vm.now()).toBe(500 + 1500 + 120_000);
    expect(onTimeJump).toHaveBeenCalledTimes(1);
  });

  it('run refuses a bad or missing time', () => {
    expect(runHmp(new FakeVm(), 'run soon')).toBe(
      'run: invalid time "soon" (expected a number with an optional ms, s, min or h suffix, e.g. 500ms, 10s or 2min; a plain number is ms)\n' +
        'Try "help run" for more information\n',
    );
    expect(runHmp(new FakeVm(), 'run')).toBe('run: time expected, e.g. 500ms, 10s or 2min\nTry "help run" for more information\n');
  });
});

describe('HMP command line and help', () => {
  it('an empty line does nothing', () => {
    expect(ballooned('   ')).toEqual({ output: '', calls: [] });
  });

  it('an unknown command is named', () => {
    expect(runHmp(new FakeVm(), 'nosuch')).toBe("unknown command: 'nosuch'\n");
    expect(runHmp(new FakeVm(), 'nosuch with args')).toBe("unknown command: 'nosuch'\n");
  });

  it('help lists every command as "name params -- description"', () => {
    const help = runHmp(new FakeVm(), 'help');
    expect(help).toContain('balloon target -- request VM to change its memory allocation (in MB)\n');
    expect(help).toContain('cont|c  -- resume emulation\n');
    expect(help).toContain('info [subcommand] -- show various information about the system state\n');
    expect(help).toContain('run time -- advance virtual time');
    for (const name of ['balloon', 'cont|c', 'help|?', 'info', 'quit|q', 'run', 'stop|s', 'system_reset']) {
      expect(help).toMatch(new RegExp(`^${name.replace(/[|?]/g, '\\$&')} `, 'm'));
    }
    expect(runHmp(new FakeVm(), '?')).toBe(help);
  });

  it('help <cmd> shows one command; help info <sub> one subcommand; unknown ones are named', () => {
    expect(runHmp(new FakeVm(), 'help balloon')).toBe('balloon target -- request VM to change its memory allocation (in MB)\n');
    expect(runHmp(new FakeVm(), 'help c')).toBe('cont|c  -- resume emulation\n');
    expect(runHmp(new FakeVm(), 'help info balloon')).toBe('info balloon  -- show balloon information\n');
    expect(runHmp(new FakeVm(), 'help nosuch')).toBe("unknown command: 'nosuch'\n");
    expect(runHmp(new FakeVm(), 'help info nosuch')).toBe("unknown command: 'info nosuch'\n");
  });
});
