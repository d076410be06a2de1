/**
 * QMP commands against a fake VM: each command's reply, and each error text a real QEMU QMP
 * session shows.
 */
import { executeCommand, QMP_COMMAND_NAMES } from '../../../actors/qmp/qmp-dispatcher';
import { QmpError } from '../../../actors/qmp/qmp-types';
import { FakeVm, GiB } from './fake-vm';

const generic = (desc: string) => ({ error: { class: 'GenericError', desc } });

describe('QMP dispatcher: request checks (QEMU qmp-dispatch.c)', () => {
  const vm = new FakeVm();

  it.each([
    [[1, 2], 'QMP input must be a JSON object'],
    ['query-balloon', 'QMP input must be a JSON object'],
    [null, 'QMP input must be a JSON object'],
    [{ exec: 'query-balloon' }, "QMP input member 'exec' is unexpected"],
    [{ arguments: {} }, "QMP input lacks member 'execute'"],
    [{ execute: 42 }, "QMP input member 'execute' must be a string"],
    [{ execute: 'balloon', arguments: [1] }, "QMP input member 'arguments' must be an object"],
    [{ execute: 'balloon', arguments: null }, "QMP input member 'arguments' must be an object"],
    [{ 'exec-oob': 'query-status' }, "QMP input member 'exec-oob' is unexpected"],
  ])('%j -> %s', (request, desc) => {
    expect(executeCommand(vm, request)).toEqual(generic(desc));
  });

  it('answers an unknown command with CommandNotFound', () => {
    expect(executeCommand(vm, { execute: 'no-such-command' })).toEqual({
      error: { class: 'CommandNotFound', desc: 'The command no-such-command has not been found' },
    });
  });

  it('echoes id on success and on error, whatever its type', () => {
    expect(executeCommand(vm, { execute: 'query-balloon', id: 'x1' })).toEqual({ return: { actual: 4 * GiB }, id: 'x1' });
    expect(executeCommand(vm, { execute: 'nope', id: 7 })).toMatchObject({ id: 7 });
    expect(executeCommand(vm, { execute: 'balloon', id: { n: [1] } })).toMatchObject({ id: { n: [1] } });
    expect(executeCommand(vm, { exec: 'x', id: null })).toEqual({ ...generic("QMP input member 'exec' is unexpected"), id: null });
    expect(Object.keys(executeCommand(vm, { execute: 'query-balloon', id: 'x1' }))).toEqual(['return', 'id']);
  });

  it('does not echo an id it could not read (input not an object)', () => {
    expect(executeCommand(vm, [{ id: 1 }])).toEqual(generic('QMP input must be a JSON object'));
  });

  it('answers exec-oob with "does not support OOB" once oob is enabled', () => {
    expect(executeCommand(vm, { 'exec-oob': 'query-status', id: 1 }, { oob: true })).toEqual({
      ...generic('The command query-status does not support OOB'),
      id: 1,
    });
    expect(executeCommand(vm, { execute: 'stop', 'exec-oob': 'stop' }, { oob: true })).toEqual(
      generic("QMP input member 'exec-oob' clashes with 'execute'"),
    );
  });
});

describe('QMP dispatcher: argument checks (QAPI input visitor)', () => {
  const vm = new FakeVm();

  it.each([
    [{ value: 'lots' }, "Invalid parameter type for 'value', expected: integer"],
    [{ value: 1.5 }, "Invalid parameter type for 'value', expected: integer"],
    [{ value: null }, "Invalid parameter type for 'value', expected: integer"],
    [{}, "Parameter 'value' is missing"],
    [{ value: 2147483648, extra: 1 }, "Parameter 'extra' is unexpected"],
    [{ value: 'lots', extra: 1 }, "Invalid parameter type for 'value', expected: integer"],
  ])('balloon %j -> %s', (args, desc) => {
    expect(executeCommand(vm, { execute: 'balloon', arguments: args })).toEqual(generic(desc));
  });

  it('treats missing arguments as an empty object', () => {
    expect(executeCommand(vm, { execute: 'balloon' })).toEqual(generic("Parameter 'value' is missing"));
  });

  it('refuses any argument to a command that takes none', () => {
    expect(executeCommand(vm, { execute: 'query-balloon', arguments: { verbose: true } })).toEqual(generic("Parameter 'verbose' is unexpected"));
  });

  it.each([
    ['human-monitor-command', { 'command-line': 5 }, "Invalid parameter type for 'command-line', expected: string"],
    ['human-monitor-command', { 'command-line': 'info balloon', 'cpu-index': 'zero' }, "Invalid parameter type for 'cpu-index', expected: integer"],
    ['x-sim-advance', { ms: '10s' }, "Invalid parameter type for 'ms', expected: number"],
    ['x-sim-run-until', {}, "Parameter 't' is missing"],
    ['qmp_capabilities', { enable: 'oob' }, "Invalid parameter type for 'enable', expected: array"],
    ['qmp_capabilities', { enable: [1] }, "Invalid parameter type for 'enable[0]', expected: string"],
  ])('%s %j -> %s', (execute, args, desc) => {
    expect(executeCommand(vm, { execute, arguments: args })).toEqual(generic(desc));
  });
});

describe('QMP dispatcher: balloon and queries', () => {
  it('sets the balloon target in bytes and returns {}', () => {
    const vm = new FakeVm();
    expect(executeCommand(vm, { execute: 'balloon', arguments: { value: 2147483648 } })).toEqual({ return: {} });
    expect(vm.calls).toEqual(['balloon 2147483648']);
    expect(executeCommand(vm, { execute: 'query-balloon' })).toEqual({ return: { actual: 2 * GiB } });
  });

  it.each([-5, 0])("refuses balloon %d with the real QEMU's text and never reaches the VM", (value) => {
    const vm = new FakeVm();
    expect(executeCommand(vm, { execute: 'balloon', arguments: { value } })).toEqual(generic("Parameter 'value' expects a size"));
    expect(vm.calls).toEqual([]);
  });

  it('turns a QmpError thrown by the VM into its class and desc', () => {
    const vm = new FakeVm();
    vm.failNext = new QmpError('DeviceNotActive', 'No balloon device has been activated');
    expect(executeCommand(vm, { execute: 'balloon', arguments: { value: GiB }, id: 'b' })).toEqual({
      error: { class: 'DeviceNotActive', desc: 'No balloon device has been activated' },
      id: 'b',
    });
  });

  it('turns any other failure into a GenericError instead of throwing', () => {
    const vm = new FakeVm();
    vm.failNext = new Error('the device is on fire');
    expect(executeCommand(vm, { execute: 'query-balloon' })).toEqual(generic('the device is on fire'));
  });

  it('query-hv-balloon-status-report: the error while reports are off, the report once one arrived', () => {
    const off = new FakeVm();
    expect(executeCommand(off, { execute: 'query-hv-balloon-status-report' })).toEqual(generic('guest memory status reporting not enabled'));
    const on = new FakeVm({ statusReport: true });
    expect(executeCommand(on, { execute: 'query-hv-balloon-status-report' })).toEqual(generic('no guest memory status report received yet'));
    executeCommand(on, { execute: 'x-sim-advance', arguments: { ms: 1000 } });
    expect(executeCommand(on, { execute: 'query-hv-balloon-status-report' })).toEqual({ return: { committed: GiB, available: 3 * GiB } });
  });

  it('query-memory-devices lists the hv-balloon device', () => {
    expect(executeCommand(new FakeVm(), { execute: 'query-memory-devices' })).toEqual({
      return: [{ type: 'hv-balloon', data: { id: 'hvb', 'max-size': 0 } }],
    });
    const withMemdev = new FakeVm({ memdev: { bytes: 8 * GiB, addr: 0x800000000, path: '/objects/mem0' } });
    expect(executeCommand(withMemdev, { execute: 'query-memory-devices' })).toEqual({
      return: [{ type: 'hv-balloon', data: { id: 'hvb', memaddr: 0x800000000, 'max-size': 8 * GiB, memdev: '/objects/mem0' } }],
    });
  });

  it('query-status reports status, singlestep and running', () => {
    expect(executeCommand(new FakeVm({ runState: 'prelaunch' }), { execute: 'query-status' })).toEqual({
      return: { status: 'prelaunch', singlestep: false, running: false },
    });
    expect(executeCommand(new FakeVm(), { execute: 'query-status' })).toEqual({ return: { status: 'running', singlestep: false, running: true } });
  });

  it('query-version reports QEMU 8.2.0 and our package', () => {
    expect(executeCommand(new FakeVm(), { execute: 'query-version' })).toEqual({
      return: { qemu: { micro: 2, minor: 0, major: 10 }, package: expect.stringMatching(/^hv-balloon-sim \d+\.\d+\.\d+/) },
    });
  });

  it('query-commands lists every command by name', () => {
    const reply = executeCommand(new FakeVm(), { execute: 'query-commands' }) as { return: { name: string }[] };
    expect(reply.return.map((c) => c.name)).toEqual(QMP_COMMAND_NAMES);
    expect(QMP_COMMAND_NAMES).toEqual(
      expect.arrayContaining([
        'qmp_capabilities',
        'balloon',
        'query-balloon',
        'query-hv-balloon-status-report',
        'query-memory-devices',
        'system_reset',
        'query-status',
        'stop',
        'cont',
        'quit',
        'human-monitor-command',
        'query-commands',
        'x-sim-advance',
        'x-sim-run-until',
        'x-sim-speed',
        'x-sim-counters',
        'x-sim-time',
      ]),
    );
  });
});

describe('QMP dispatcher: run control', () => {
  it('system_reset, stop, cont reach the VM and return {}', () => {
    const vm = new FakeVm();
    for (const execute of ['system_reset', 'stop', 'cont']) expect(executeCommand(vm, { execute })).toEqual({ return: {} });
    expect(vm.calls).toEqual(['system_reset', 'stop', 'cont']);
  });

  it('quit asks the VM to shut down and tells the owner', () => {
    const vm = new FakeVm();
    const onQuit = jest.fn();
    expect(executeCommand(vm, { execute: 'quit' }, { onQuit })).toEqual({ return: {} });
    expect(vm.runState()).toBe('shutdown');
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('qmp_capabilities in a negotiated session is CommandNotFound', () => {
    expect(executeCommand(new FakeVm(), { execute: 'qmp_capabilities' })).toEqual({
      error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' },
    });
  });
});

describe('QMP dispatcher: human-monitor-command', () => {
  const hmp = (vm: FakeVm, line: string) => executeCommand(vm, { execute: 'human-monitor-command', arguments: { 'command-line': line } });

  it('returns HMP output with \\r\\n line ends, as a real QEMU session shows', () => {
    const vm = new FakeVm();
    expect(hmp(vm, 'info balloon')).toEqual({ return: 'balloon: actual=4096\r\n' });
    expect(hmp(vm, 'balloon 1024')).toEqual({ return: '' });
    expect(hmp(vm, 'info balloon')).toEqual({ return: 'balloon: actual=1024\r\n' });
    expect(hmp(vm, 'balloon lots')).toEqual({ return: 'invalid char \'l\' in expression\r\nTry "help balloon" for more information\r\n' });
    expect(hmp(vm, 'nosuch')).toEqual({ return: "unknown command: 'nosuch'\r\n" });
    expect(hmp(vm, 'info memory-devices')).toEqual({ return: 'Memory device [hv-balloon]: "hvb"\r\n  max-size: 0\r\n' });
  });

  it('accepts cpu-index 0 and refuses another CPU', () => {
    const vm = new FakeVm();
    const args = (cpu: number) => ({ execute: 'human-monitor-command', arguments: { 'command-line': 'info status', 'cpu-index': cpu } });
    expect(executeCommand(vm, args(0))).toEqual({ return: 'VM status: running\r\n' });
    expect(executeCommand(vm, args(3))).toEqual(generic("Parameter 'cpu-index' expects a CPU number"));
  });

  it('HMP quit tells the owner like QMP quit', () => {
    const onQuit = jest.fn();
    const vm = new FakeVm();
    executeCommand(vm, { execute: 'human-monitor-command', arguments: { 'command-line': 'quit' } }, { onQuit });
    expect(onQuit).toHaveBeenCalled();
    expect(vm.calls).toEqual(['quit']);
  });
});

describe('QMP dispatcher: x-sim-* extensions', () => {
  it('x-sim-advance moves virtual time and returns it; x-sim-time reads it', () => {
    const vm = new FakeVm();
    const onTimeJump = jest.fn();
    expect(executeCommand(vm, { execute: 'x-sim-advance', arguments: { ms: 1500 } }, { onTimeJump })).toEqual({ return: { ms: 1500 } });
    expect(onTimeJump).toHaveBeenCalled();
    expect(executeCommand(vm, { execute: 'x-sim-time' })).toEqual({ return: { ms: 1500 } });
  });

  it('x-sim-advance refuses a negative duration', () => {
    expect(executeCommand(new FakeVm(), { execute: 'x-sim-advance', arguments: { ms: -1 } })).toEqual(generic("Parameter 'ms' expects a non-negative number"));
  });

  it('x-sim-run-until runs to an absolute time and refuses the past', () => {
    const vm = new FakeVm();
    expect(executeCommand(vm, { execute: 'x-sim-run-until', arguments: { t: 60000 } })).toEqual({ return: { ms: 60000 } });
    expect(executeCommand(vm, { execute: 'x-sim-run-until', arguments: { t: 5 } })).toEqual(
      generic("Parameter 't' expects a virtual time not before now (60000 ms)"),
    );
  });

  it('x-sim-speed goes to the owner of the wall-clock follower', () => {
    const setSpeed = jest.fn();
    expect(executeCommand(new FakeVm(), { execute: 'x-sim-speed', arguments: { speed: 10 } }, { setSpeed })).toEqual({ return: { speed: 10 } });
    expect(setSpeed).toHaveBeenCalledWith(10);
    expect(executeCommand(new FakeVm(), { execute: 'x-sim-speed', arguments: { speed: -1 } }, { setSpeed })).toEqual(
      generic("Parameter 'speed' expects a non-negative number"),
    );
  });

  it('x-sim-speed without a wall-clock follower says so', () => {
    expect(executeCommand(new FakeVm(), { execute: 'x-sim-speed', arguments: { speed: 2 } })).toEqual(
      generic('x-sim-speed: this monitor does not follow the wall clock'),
    );
  });

  it('x-sim-counters returns the VM counters', () => {
    expect(executeCommand(new FakeVm(), { execute: 'x-sim-counters' })).toEqual({ return: new FakeVm().counters() });
  });
});
