/**
 * The human monitor (HMP): one command line in, QEMU's text out. Used by the `monitor` REPL and by
 * QMP's human-monitor-command (which turns our `\n` into QEMU's `\r\n`). Texts, command names and
 * argument parsing follow QEMU's monitor/hmp.c and hmp-commands.hx; `run` and `info sim` are ours.
 */

import { advanceTo, asQmpError, balloonCommand, queryStatus, type ControlHooks } from '../qmp/qmp-commands';
import { toQmpJson } from '../qmp/qmp-json';
import { QmpError, type VmControl } from '../qmp/qmp-types';
import { formatDuration, parseDuration, parseSize, UnitsError } from '../units';

/** How a command reads what follows its name (QEMU args_type, reduced to what we need). */
type ArgKind =
  /** no arguments */
  | 'none'
  /** QEMU 'M': an expression in MiB; we also take a size with a suffix (1G, 512M) */
  | 'mib'
  /** ours: a duration (10s, 2min) */
  | 'time'
  /** QEMU 'S?': the rest of the line, optional */
  | 'rest';

interface HmpCommand {
  /** Name and aliases as QEMU lists them: "cont|c". */
  name: string;
  params: string;
  help: string;
  args: ArgKind;
  run(context: HmpContext, arg: HmpArg): void;
}

type HmpArg = { kind: 'none' } | { kind: 'bytes'; bytes: number } | { kind: 'ms'; ms: number } | { kind: 'rest'; text: string };

interface HmpContext {
  vm: VmControl;
  hooks: ControlHooks;
  print(text: string): void;
}

class HmpArgError extends Error {}

const OURS = ' [hv-balloon-sim]';

const INFO_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'balloon',
    params: '',
    help: 'show balloon information',
    args: 'none',
    run: ({ vm, print }) => print(line(vm.hmpInfoBalloon())),
  },
  {
    name: 'memory-devices',
    params: '',
    help: 'show memory devices',
    args: 'none',
    run: ({ vm, print }) => print(line(vm.hmpInfoMemoryDevices())),
  },
  {
    name: 'sim',
    params: '',
    help: `show virtual time, run state and simulation counters${OURS}`,
    args: 'none',
    run: ({ vm, print }) => print(infoSim(vm)),
  },
  {
    name: 'status',
    params: '',
    help: 'show the current VM status (running|paused)',
    args: 'none',
    run: ({ vm, print }) => {
      // QEMU hmp_info_status: "paused" plus the run state when it is not plain paused.
      const { status, running } = queryStatus(vm);
      print(`VM status: ${running ? 'running' : 'paused'}${!running && status !== 'paused' ? ` (${status})` : ''}\n`);
    },
  },
];

const COMMANDS: readonly HmpCommand[] = [
  {
    name: 'balloon',
    params: 'target',
    help: 'request VM to change its memory allocation (in MB)',
    args: 'mib',
    run: ({ vm }, arg) => {
      if (arg.kind === 'bytes') balloonCommand(vm, arg.bytes);
    },
  },
  {
    name: 'cont|c',
    params: '',
    help: 'resume emulation',
    args: 'none',
    run: ({ vm }) => vm.cont(),
  },
  {
    name: 'help|?',
    params: '[cmd]',
    help: 'show the help',
    args: 'rest',
    run: ({ print }, arg) => print(helpText(arg.kind === 'rest' ? arg.text : '')),
  },
  {
    name: 'info',
    params: '[subcommand]',
    help: 'show various information about the system state',
    args: 'none',
    // `info` alone lists its subcommands (QEMU hmp_info_help).
    run: ({ print }) => print(helpText('info')),
  },
  {
    name: 'qom-get',
    params: 'path property',
    help: 'print QOM property',
    args: 'rest',
    run: ({ vm, print }, arg) => {
      const [path, property] = words(arg, 2, 'qom-get');
      // QEMU hmp_qom_get: the value as pretty JSON.
      if (!vm.qomGet) throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
      print(prettyJson(vm.qomGet(path!, property!), 0) + '\n');
    },
  },
  {
    name: 'qom-set',
    params: 'path property value',
    help: 'set QOM property',
    args: 'rest',
    run: ({ vm }, arg) => {
      const [path, property, value] = words(arg, 3, 'qom-set');
      if (!vm.qomSet) throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
      // QEMU hmp_qom_set without -j parses the text as the property's type (an integer here).
      if (!/^-?\d+$/.test(value!)) throw new QmpError('GenericError', `Parameter '${property}' expects int64`);
      vm.qomSet(path!, property!, Number(value));
    },
  },
  {
    name: 'quit|q',
    params: '',
    help: 'quit the emulator',
    args: 'none',
    run: ({ vm, hooks }) => {
      vm.quit();
      hooks.onQuit?.();
    },
  },
  {
    name: 'run',
    params: 'time',
    help: `advance virtual time, e.g. run 10s (ms, s, min or h; a plain number is ms)${OURS}`,
    args: 'time',
    run: ({ vm, hooks }, arg) => {
      if (arg.kind !== 'ms') return;
      advanceTo(vm, vm.now() + arg.ms, hooks, 'time');
    },
  },
  {
    name: 'stop|s',
    params: '',
    help: 'stop emulation',
    args: 'none',
    run: ({ vm }) => vm.stop(),
  },
  {
    name: 'system_reset',
    params: '',
    help: 'reset the system',
    args: 'none',
    run: ({ vm }) => vm.systemReset(),
  },
];

/**
 * Runs one HMP command line and returns what QEMU would print: every line ends with `\n`, and a
 * command that succeeds silently (balloon, stop, cont, system_reset) returns "".
 */
export function runHmp(vm: VmControl, commandLine: string, hooks: ControlHooks = {}): string {
  let output = '';
  const context: HmpContext = { vm, hooks, print: (text) => (output += text) };
  const start = commandLine.search(/\S/);
  if (start < 0) return '';

  // QEMU get_command_name: a name ends at whitespace or '/'.
  let nameEnd = endOfName(commandLine, start);
  let command = findCommand(COMMANDS, commandLine.slice(start, nameEnd));
  if (!command) return `unknown command: '${commandLine.slice(0, nameEnd)}'\n`;
  let rest = commandLine.slice(nameEnd);
  if (command.name === 'info' && rest.trim() !== '') {
    const subStart = nameEnd + rest.search(/\S/);
    nameEnd = endOfName(commandLine, subStart);
    command = findCommand(INFO_COMMANDS, commandLine.slice(subStart, nameEnd));
    if (!command) return `unknown command: '${commandLine.slice(0, nameEnd)}'\n`;
    rest = commandLine.slice(nameEnd);
  }

  let arg: HmpArg;
  try {
    arg = parseArg(command, rest);
  } catch (error) {
    if (!(error instanceof HmpArgError)) throw error;
    // QEMU handle_hmp_command: the parse error, then a pointer to the command's help.
    return `${error.message}\nTry "help ${commandLine.slice(start, nameEnd)}" for more information\n`;
  }
  try {
    command.run(context, arg);
  } catch (error) {
    // QEMU hmp_handle_error: "Error: <desc>".
    output += `Error: ${asQmpError(error).desc}\n`;
  }
  return output;
}

/** Every command HMP knows, for completion: top level and `info` subcommands. */
export function hmpCommandNames(): string[] {
  const names = (table: readonly HmpCommand[]) => table.flatMap((c) => c.name.split('|'));
  return [...names(COMMANDS), ...names(INFO_COMMANDS).map((n) => `info ${n}`)];
}

function endOfName(text: string, from: number): number {
  let end = from;
  while (end < text.length && !/[\s/]/.test(text[end]!)) end++;
  return end;
}

function findCommand(table: readonly HmpCommand[], name: string): HmpCommand | undefined {
  return table.find((command) => command.name.split('|').includes(name));
}

function parseArg(command: HmpCommand, rest: string): HmpArg {
  const text = rest.trim();
  switch (command.args) {
    case 'none':
      if (text !== '') throw new HmpArgError(`${command.name}: extraneous characters at the end of line`);
      return { kind: 'none' };
    case 'rest':
      return { kind: 'rest', text };
    case 'mib':
      return { kind: 'bytes', bytes: parseMib(command.name, text) };
    case 'time':
      if (text === '') throw new HmpArgError(`${command.name}: time expected, e.g. 500ms, 10s or 2min`);
      try {
        return { kind: 'ms', ms: parseDuration(text, command.name) };
      } catch (error) {
        if (error instanceof UnitsError) throw new HmpArgError(error.message);
        throw error;
      }
  }
}

/** The words of a 'rest' argument; exactly `n` of them. */
function words(arg: HmpArg, n: number, name: string): string[] {
  const list = arg.kind === 'rest' && arg.text !== '' ? arg.text.split(/\s+/) : [];
  if (list.length < n) throw new HmpArgError(`${name}: missing parameter`);
  if (list.length > n) throw new HmpArgError(`${name}: extraneous characters at the end of line`);
  return list;
}

/** QEMU qobject_to_json_pretty: 4-space indents, "key": value. */
function prettyJson(value: unknown, depth: number): string {
  if (typeof value !== 'object' || value === null) return toQmpJson(value);
  const pad = '    '.repeat(depth + 1);
  const end = '    '.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad + prettyJson(v, depth + 1)).join(',\n')}\n${end}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${toQmpJson(k)}: ${prettyJson(v, depth + 1)}`).join(',\n')}\n${end}}`;
}

const MIB = 1n << 20n;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * QEMU's 'M' argument: an integer expression (+ - * / % & | ^ ~, parentheses, 0x hex, 0 octal)
 * in MiB, which must not be negative. Our extension: a size with a suffix ("1G", "1.5G", "512M",
 * "4096K", "100B") is read as that many bytes, the way QEMU's size parser reads it.
 */
function parseMib(commandName: string, text: string): number {
  if (/^\d+(\.\d+)?\s*[bkmgtpe](ib)?$/i.test(text)) {
    try {
      return parseSize(text, commandName);
    } catch (error) {
      if (error instanceof UnitsError) throw new HmpArgError(error.message);
      throw error;
    }
  }
  const parser = new ExpressionParser(text);
  const mib = parser.parse();
  if (!parser.atEnd()) throw new HmpArgError(`${commandName}: extraneous characters at the end of line`);
  if (mib < 0n) throw new HmpArgError('enter a positive value');
  const bytes = mib * MIB;
  if (bytes > INT64_MAX) throw new HmpArgError('number too large');
  return Number(bytes);
}

/**
 * How deeply parentheses and unary operators may nest. QEMU's recursive expression parser runs on a
 * C stack where 10^5 levels fit; ours would overflow the JS stack, so deeper input is refused.
 */
export const MAX_EXPRESSION_DEPTH = 256;

/** QEMU monitor expressions, evaluated in signed 64 bits; errors carry QEMU's texts. */
class ExpressionParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.skipSpace();
  }

  parse(): bigint {
    return this.sum();
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private get ch(): string {
    return this.text[this.pos] ?? '';
  }

  private at(ch: string): boolean {
    return this.ch === ch;
  }

  private skipSpace(): void {
    while (/\s/.test(this.ch) && this.ch !== '') this.pos++;
  }

  private advance(): void {
    this.pos++;
    this.skipSpace();
  }

  private sum(): bigint {
    let value = this.logic();
    while (this.ch === '+' || this.ch === '-') {
      const op = this.ch;
      this.advance();
      const right = this.logic();
      value = BigInt.asIntN(64, op === '+' ? value + right : value - right);
    }
    return value;
  }

  private logic(): bigint {
    let value = this.product();
    while (this.ch === '&' || this.ch === '|' || this.ch === '^') {
      const op = this.ch;
      this.advance();
      const right = this.product();
      value = op === '&' ? value & right : op === '|' ? value | right : value ^ right;
    }
    return value;
  }

  private product(): bigint {
    let value = this.unary();
    while (this.ch === '*' || this.ch === '/' || this.ch === '%') {
      const op = this.ch;
      this.advance();
      const right = this.unary();
      if (op !== '*' && right === 0n) throw new HmpArgError('division by zero');
      value = BigInt.asIntN(64, op === '*' ? value * right : op === '/' ? value / right : value % right);
    }
    return value;
  }

  private unary(): bigint {
    if (++this.depth > MAX_EXPRESSION_DEPTH) throw new HmpArgError(`expression nested too deeply (at most ${MAX_EXPRESSION_DEPTH} levels)`);
    try {
      return this.unaryAt();
    } finally {
      this.depth--;
    }
  }

  private unaryAt(): bigint {
    switch (this.ch) {
      case '+':
        this.advance();
        return this.unary();
      case '-':
        this.advance();
        return BigInt.asIntN(64, -this.unary());
      case '~':
        this.advance();
        return ~this.unary();
      case '(': {
        this.advance();
        const value = this.sum();
        if (!this.at(')')) throw new HmpArgError("')' expected");
        this.advance();
        return value;
      }
      case '':
        throw new HmpArgError('unexpected end of expression');
      default:
        return this.number();
    }
  }

  /** C strtoull with base 0: 0x hex, leading 0 octal, else decimal. */
  private number(): bigint {
    const match = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(this.text.slice(this.pos));
    if (!match) throw new HmpArgError(`invalid char '${this.ch}' in expression`);
    const literal = match[1]!;
    const value = /^0[0-7]+$/.test(literal) ? BigInt(`0o${literal.slice(1)}`) : BigInt(literal);
    if (value >= 1n << 64n) throw new HmpArgError('number too large');
    this.pos += literal.length;
    this.skipSpace();
    return BigInt.asIntN(64, value);
  }
}

/** QEMU help_cmd: "name params -- help" per command; `help info` lists the info subcommands. */
function helpText(topic: string): string {
  const words = topic.split(/\s+/).filter((w) => w !== '');
  const dump = (prefix: string, command: HmpCommand) => `${prefix}${command.name} ${command.params} -- ${command.help}\n`;
  if (words.length === 0) return COMMANDS.map((c) => dump('', c)).join('');
  const command = findCommand(COMMANDS, words[0]!);
  if (!command) return `unknown command: '${words[0]}'\n`;
  if (command.name !== 'info') return dump('', command);
  if (words.length === 1) return INFO_COMMANDS.map((c) => dump('info ', c)).join('');
  const sub = findCommand(INFO_COMMANDS, words[1]!);
  if (!sub) return `unknown command: 'info ${words[1]}'\n`;
  return dump('info ', sub);
}

/** Our `info sim`: virtual time, run state and the VM's counters, one per line. */
function infoSim(vm: VmControl): string {
  const now = vm.now();
  const lines = [`virtual time: ${now} ms (${formatDuration(now)})`, `run state: ${vm.runState()}`];
  const counters = flatten(vm.counters() as Record<string, unknown>, '');
  if (counters.length > 0) lines.push('counters:', ...counters.map(([key, value]) => `  ${key}: ${value}`));
  return lines.map((l) => `${l}\n`).join('');
}

function flatten(value: Record<string, unknown>, prefix: string): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, member] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (member !== null && typeof member === 'object' && !Array.isArray(member)) {
      out.push(...flatten(member as Record<string, unknown>, `${name}.`));
    } else if (member !== undefined) {
      out.push([name, typeof member === 'string' ? member : toQmpJson(member)]);
    }
  }
  return out;
}

/** A VM text with exactly one line end, or nothing when empty. */
function line(text: string): string {
  const trimmed = text.replace(/\n+$/, '');
  return trimmed === '' ? '' : `${trimmed}\n`;
}
