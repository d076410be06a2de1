/**
 * QMP command dispatch: checks a request the way QEMU's qapi/qmp-dispatch.c does, checks its
 * arguments against a small schema the way the QAPI input visitor does, runs the command on a
 * VmControl and builds the reply. QmpSession adds the per-connection state (capabilities
 * negotiation, out-of-band). No I/O here: the server and the specs feed it parsed JSON.
 */

import { runHmp } from '../hmp/hmp';
import { advanceTo, asQmpError, balloonCommand, checkSpeed, QEMU_VERSION, QMP_PACKAGE, queryStatus, type ControlHooks } from './qmp-commands';
import { QmpError, type QmpReply, type VmControl } from './qmp-types';

/** QAPI types our commands' members use, with the word QEMU's type errors use for each. */
type ArgType = 'int' | 'number' | 'str' | 'bool' | 'str-list' | 'any';

const TYPE_WORD: Record<ArgType, string> = {
  int: 'integer',
  number: 'number',
  str: 'string',
  bool: 'boolean',
  'str-list': 'array',
  any: 'any',
};

interface ArgSpec {
  name: string;
  type: ArgType;
  optional?: boolean;
}

/** Arguments after validation: every member has the type its spec says. */
type Args = Readonly<Record<string, unknown>>;

interface CommandContext extends ControlHooks {
  negotiating: boolean;
  onCapabilities?(enable: readonly string[]): void;
}

interface CommandSpec {
  name: string;
  args: readonly ArgSpec[];
  run(vm: VmControl, args: Args, context: CommandContext): unknown;
}

const num = (args: Args, name: string): number => args[name] as number;

const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'qmp_capabilities',
    args: [{ name: 'enable', type: 'str-list', optional: true }],
    run: (_vm, args, context) => {
      // QEMU monitor/qmp-cmds-control.c: once in command mode, negotiation cannot be repeated.
      if (!context.negotiating) {
        throw new QmpError('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
      }
      const enable = (args.enable as string[] | undefined) ?? [];
      enable.forEach((capability, index) => {
        if (capability !== 'oob') throw new QmpError('GenericError', `Parameter 'enable[${index}]' does not accept value '${capability}'`);
      });
      context.onCapabilities?.(enable);
      return {};
    },
  },
  {
    name: 'balloon',
    args: [{ name: 'value', type: 'int' }],
    run: (vm, args) => {
      balloonCommand(vm, num(args, 'value'));
      return {};
    },
  },
  { name: 'query-balloon', args: [], run: (vm) => vm.queryBalloon() },
  // QEMU prints the u64s exactly: the exact form where the VM offers it.
  { name: 'query-hv-balloon-status-report', args: [], run: (vm) => (vm.queryHvBalloonStatusReportExact ?? vm.queryHvBalloonStatusReport).call(vm) },
  { name: 'query-memory-devices', args: [], run: (vm) => vm.queryMemoryDevices() },
  { name: 'query-status', args: [], run: (vm) => queryStatus(vm) },
  {
    name: 'qom-get',
    args: [
      { name: 'path', type: 'str' },
      { name: 'property', type: 'str' },
    ],
    run: (vm, args) => {
      const path = args.path as string;
      // QEMU qmp_qom_get: an object the path does not resolve to.
      if (!vm.qomGet) throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
      return vm.qomGet(path, args.property as string);
    },
  },
  {
    name: 'qom-set',
    args: [
      { name: 'path', type: 'str' },
      { name: 'property', type: 'str' },
      { name: 'value', type: 'any' },
    ],
    run: (vm, args) => {
      const path = args.path as string;
      if (!vm.qomSet) throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
      vm.qomSet(path, args.property as string, args.value);
      return {};
    },
  },
  { name: 'query-version', args: [], run: () => ({ qemu: { ...QEMU_VERSION }, package: QMP_PACKAGE }) },
  { name: 'query-commands', args: [], run: () => COMMANDS.map((command) => ({ name: command.name })) },
  {
    name: 'system_reset',
    args: [],
    run: (vm) => {
      vm.systemReset();
      return {};
    },
  },
  {
    name: 'stop',
    args: [],
    run: (vm) => {
      vm.stop();
      return {};
    },
  },
  {
    name: 'cont',
    args: [],
    run: (vm) => {
      vm.cont();
      return {};
    },
  },
  {
    name: 'quit',
    args: [],
    run: (vm, _args, context) => {
      vm.quit();
      context.onQuit?.();
      return {};
    },
  },
  {
    name: 'human-monitor-command',
    args: [
      { name: 'command-line', type: 'str' },
      { name: 'cpu-index', type: 'int', optional: true },
    ],
    run: (vm, args, context) => {
      // We model one vCPU for the monitor; QEMU answers a bad index with this text.
      if (args['cpu-index'] !== undefined && args['cpu-index'] !== 0) {
        throw new QmpError('GenericError', "Parameter 'cpu-index' expects a CPU number");
      }
      // QEMU's monitor output turns every "\n" into "\r\n" (monitor_puts).
      return runHmp(vm, args['command-line'] as string, context).replace(/\n/g, '\r\n');
    },
  },
  {
    name: 'x-sim-advance',
    args: [{ name: 'ms', type: 'number' }],
    run: (vm, args, context) => {
      const ms = num(args, 'ms');
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new QmpError('GenericError', "Parameter 'ms' expects a non-negative number");
      return { ms: advanceTo(vm, vm.now() + ms, context, 'ms') };
    },
  },
  {
    name: 'x-sim-run-until',
    args: [{ name: 't', type: 'number' }],
    run: (vm, args, context) => {
      const t = num(args, 't');
      const now = vm.now();
      if (!Number.isFinite(t) || t < now) {
        throw new QmpError('GenericError', `Parameter 't' expects a virtual time not before now (${now} ms)`);
      }
      return { ms: advanceTo(vm, t, context, 't') };
    },
  },
  {
    name: 'x-sim-speed',
    args: [{ name: 'speed', type: 'number' }],
    run: (_vm, args, context) => {
      const speed = num(args, 'speed');
      checkSpeed(speed);
      if (!context.setSpeed) throw new QmpError('GenericError', 'x-sim-speed: this monitor does not follow the wall clock');
      context.setSpeed(speed);
      return { speed };
    },
  },
  { name: 'x-sim-counters', args: [], run: (vm) => vm.counters() },
  { name: 'x-sim-time', args: [], run: (vm) => ({ ms: vm.now() }) },
];

const BY_NAME = new Map(COMMANDS.map((command) => [command.name, command]));

/** The names `query-commands` lists. */
export const QMP_COMMAND_NAMES: readonly string[] = COMMANDS.map((command) => command.name);

/** How the session around a command is set up; everything optional. */
export interface ExecuteOptions extends ControlHooks {
  /** The session has not negotiated yet: only qmp_capabilities exists. */
  negotiating?: boolean;
  /** The client enabled the oob capability: `exec-oob` is a known member. */
  oob?: boolean;
  /** qmp_capabilities succeeded while negotiating, with these capabilities. */
  onCapabilities?(enable: readonly string[]): void;
}

/**
 * Runs one request (already parsed from JSON) and returns QEMU's reply. Without options it behaves
 * like a negotiated session: qmp_capabilities answers "already complete".
 */
export function executeCommand(vm: VmControl, request: unknown, options: ExecuteOptions = {}): QmpReply {
  const negotiating = options.negotiating ?? false;
  if (!isObject(request)) return errorReply(new QmpError('GenericError', 'QMP input must be a JSON object'), undefined);
  const id = request.id;
  try {
    const { name, oob } = checkRequest(request, options.oob ?? false);
    const command = BY_NAME.get(name);
    if (!command || (negotiating && command.name !== 'qmp_capabilities')) {
      // QEMU monitor/qmp.c: while negotiating, any unknown command gets this hint instead.
      throw new QmpError(
        'CommandNotFound',
        negotiating ? "Expecting capabilities negotiation with 'qmp_capabilities'" : `The command ${name} has not been found`,
      );
    }
    // None of our commands may run out-of-band (QEMU: only those marked allow-oob).
    if (oob) throw new QmpError('GenericError', `The command ${name} does not support OOB`);
    const args = checkArgs(command, request.arguments ?? {});
    const context: CommandContext = { ...options, negotiating };
    return withId({ return: command.run(vm, args, context) ?? {} }, id);
  } catch (error) {
    return errorReply(asQmpError(error), id);
  }
}

/**
 * One client's QMP session: starts in capabilities negotiation, switches to command mode after
 * qmp_capabilities, remembers whether out-of-band was enabled.
 */
export class QmpSession {
  private negotiating = true;
  private oob = false;

  constructor(
    private readonly vm: VmControl,
    private readonly hooks: ControlHooks = {},
  ) {}

  /** Whether qmp_capabilities has succeeded (events flow only then). */
  get negotiated(): boolean {
    return !this.negotiating;
  }

  execute(request: unknown): QmpReply {
    return executeCommand(this.vm, request, {
      ...this.hooks,
      negotiating: this.negotiating,
      oob: this.oob,
      onCapabilities: (enable) => {
        this.negotiating = false;
        this.oob = enable.includes('oob');
      },
    });
  }
}

/** QEMU qmp_dispatch_check_obj: the request's members, in the order QEMU checks them. */
function checkRequest(request: Record<string, unknown>, allowOob: boolean): { name: string; oob: boolean } {
  let execKey: string | undefined;
  for (const [key, value] of Object.entries(request)) {
    if (key === 'execute' || (key === 'exec-oob' && allowOob)) {
      if (typeof value !== 'string') throw new QmpError('GenericError', `QMP input member '${key}' must be a string`);
      if (execKey !== undefined) throw new QmpError('GenericError', `QMP input member '${key}' clashes with '${execKey}'`);
      execKey = key;
    } else if (key === 'arguments') {
      if (!isObject(value)) throw new QmpError('GenericError', "QMP input member 'arguments' must be an object");
    } else if (key !== 'id') {
      throw new QmpError('GenericError', `QMP input member '${key}' is unexpected`);
    }
  }
  if (execKey === undefined) throw new QmpError('GenericError', "QMP input lacks member 'execute'");
  return { name: request[execKey] as string, oob: execKey === 'exec-oob' };
}

/** The QAPI input visitor: members in schema order (missing, wrong type), then leftovers. */
function checkArgs(command: CommandSpec, raw: unknown): Args {
  const given = raw as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const spec of command.args) {
    if (!Object.hasOwn(given, spec.name)) {
      if (spec.optional) continue;
      throw new QmpError('GenericError', `Parameter '${spec.name}' is missing`);
    }
    args[spec.name] = checkType(spec.name, spec.type, given[spec.name]);
  }
  const extra = Object.keys(given).find((key) => !command.args.some((spec) => spec.name === key));
  if (extra !== undefined) throw new QmpError('GenericError', `Parameter '${extra}' is unexpected`);
  return args;
}

function checkType(name: string, type: ArgType, value: unknown): unknown {
  const wrong = (): never => {
    throw new QmpError('GenericError', `Invalid parameter type for '${name}', expected: ${TYPE_WORD[type]}`);
  };
  switch (type) {
    case 'int':
      // QAPI int is int64: a JSON number with a fraction (or beyond 64 bits) is a double, not an
      // integer. 2^63 itself is out of range; int64's maximum 2^63 - 1 has no double of its own
      // (it reads as 2^63), so it is refused too (docs/divergences.md).
      if (typeof value !== 'number' || !Number.isInteger(value) || value >= 2 ** 63 || value < -(2 ** 63)) wrong();
      return value;
    case 'number':
      if (typeof value !== 'number') wrong();
      return value;
    case 'str':
      if (typeof value !== 'string') wrong();
      return value;
    case 'bool':
      if (typeof value !== 'boolean') wrong();
      return value;
    case 'any':
      return value;
    case 'str-list':
      if (!Array.isArray(value)) wrong();
      (value as unknown[]).forEach((item, index) => checkType(`${name}[${index}]`, 'str', item));
      return value;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withId(reply: { return: unknown }, id: unknown): QmpReply {
  return id === undefined ? reply : { return: reply.return, id };
}

function errorReply(error: QmpError, id: unknown): QmpReply {
  const body = { class: error.errorClass, desc: error.desc };
  return id === undefined ? { error: body } : { error: body, id };
}
