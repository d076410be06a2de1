/**
 * The VM flags shared by `qmp`, `monitor` (and any command that builds a VM from the command line),
 * modelled on QEMU's: `-m 4G,maxmem=8G` becomes `--memory 4G --maxmem 8G`, the hv-balloon memdev
 * and status-report properties become `--memdev` and `--status-report`.
 */

import { Option, type Command } from 'commander';
import { parseSize } from '../units';
import { MACHINE_TYPES, type MachineType } from '../../machines/pc-memory-map';
import { DEVICE_MODELS, type DeviceModel } from '../vm/device-model';
import { CliError } from './cli-error';

export const GUEST_KINDS = ['linux', 'windows', 'malicious'] as const;
export type GuestKind = (typeof GUEST_KINDS)[number];

/** A VM as the command line describes it; sizes in bytes. The lead's actors/vm-factory.ts builds it. */
export interface VmCliOptions {
  /** QEMU -machine type; absent: pc. */
  machine?: MachineType;
  /** Boot RAM (QEMU -m), bytes. */
  memory: number;
  /** Upper bound for boot RAM plus hot-added memory (QEMU -m maxmem=), bytes; absent: no hot-add room beyond memdev. */
  maxmem?: number;
  /** Size of the hv-balloon memdev (the memory-backend hot-add draws from), bytes; absent: no hot-add. */
  memdev?: number;
  /** hv-balloon status-report=on: HV_BALLOON_STATUS_REPORT events and query-hv-balloon-status-report. */
  statusReport: boolean;
  /** Which guest driver profile runs in the VM. */
  guest: GuestKind;
  /** The balloon device model (`-device hv-balloon` or `-device virtio-balloon-pci`); default hv-balloon. */
  device?: DeviceModel;
  /** Seed of the VM's PRNG (guest workload, malicious guest choices). */
  seed: number;
  /** A scenario file to load into the VM (guest workload, scripted steps), if any. */
  scenario?: string;
  /** Connect the Stately inspector. */
  inspect: boolean;
  /** Port of the inspector's relay (default 8080). */
  inspectPort?: number;
}

export const DEFAULT_MEMORY = '4G';
const PAGE = 4096;
const MAX_SEED = 0xffff_ffff;

/** Adds the VM flags (plus --scenario and --inspect) to a command. */
export function addVmOptions(command: Command): Command {
  return command
    .option('--machine <type>', `machine type, like QEMU -machine: ${MACHINE_TYPES.join(' or ')} (default pc)`)
    .option('--memory <size>', 'boot RAM, like QEMU -m (K/M/G/T binary suffixes; a plain number is bytes)', DEFAULT_MEMORY)
    .option('--maxmem <size>', 'maximum memory incl. hot-add, like QEMU -m maxmem=')
    .option('--memdev <size>', 'size of the memory backend the hv-balloon device hot-adds from (its memdev=)')
    .option('--status-report', 'hv-balloon status-report=on: the guest sends memory status reports')
    .addOption(new Option('--device <model>', 'balloon device model (virtio-balloon: no memdev, no hot-add)').choices(DEVICE_MODELS).default('hv-balloon'))
    .addOption(new Option('--guest <kind>', 'guest driver profile').choices(GUEST_KINDS).default('linux'))
    .option('--seed <n>', 'seed of the simulation PRNG', '1')
    .option('--scenario <file>', 'load a scenario file into the VM')
    .option('--inspect', 'connect the Stately inspector')
    .option('--inspect-port <port>', 'port of the inspector relay (default 8080; 0 picks a free one)');
}

/** Commander's raw option values for the VM flags. */
export interface RawVmOptions {
  machine?: string;
  memory?: string;
  maxmem?: string;
  memdev?: string;
  statusReport?: boolean;
  guest?: string;
  device?: string;
  seed?: string;
  scenario?: string;
  inspect?: boolean;
  inspectPort?: string;
}

/** Validates the raw flags; throws CliError naming the flag and value. */
export function vmOptionsFromCli(raw: RawVmOptions): VmCliOptions {
  const memory = size(raw.memory ?? DEFAULT_MEMORY, '--memory');
  if (memory === 0) throw new CliError('--memory: must be more than 0');
  if (memory < 2 ** 20 && /^\s*\d+\s*$/.test(raw.memory ?? '')) {
    // QEMU's -m reads a plain number as MiB; ours is bytes, like every other size here.
    throw new CliError(`--memory ${raw.memory}: that is ${memory} bytes (a plain number is bytes here, not MiB as in QEMU -m); did you mean ${raw.memory}M?`);
  }
  const options: VmCliOptions = {
    memory,
    statusReport: raw.statusReport === true,
    guest: guest(raw.guest ?? 'linux'),
    seed: seed(raw.seed ?? '1'),
    inspect: raw.inspect === true,
  };
  if (raw.maxmem !== undefined) {
    const maxmem = size(raw.maxmem, '--maxmem');
    // QEMU vl.c: maxmem below the initial memory size is refused.
    if (maxmem < memory) throw new CliError(`--maxmem ${raw.maxmem} is below --memory ${raw.memory ?? DEFAULT_MEMORY}: maxmem must be at least the boot memory`);
    options.maxmem = maxmem;
  }
  if (raw.memdev !== undefined) {
    const memdev = size(raw.memdev, '--memdev');
    if (memdev === 0) throw new CliError('--memdev: must be more than 0');
    options.memdev = memdev;
  }
  if (raw.machine !== undefined) {
    const type = MACHINE_TYPES.find((t) => t === raw.machine);
    if (!type) throw new CliError(`--machine ${JSON.stringify(raw.machine)}: expected one of ${MACHINE_TYPES.join(', ')}`);
    options.machine = type;
  }
  if (raw.device !== undefined && raw.device !== 'hv-balloon') {
    const model = DEVICE_MODELS.find((m) => m === raw.device);
    if (!model) throw new CliError(`--device ${JSON.stringify(raw.device)}: expected one of ${DEVICE_MODELS.join(', ')}`);
    options.device = model;
  }
  if (raw.scenario !== undefined) options.scenario = raw.scenario;
  if (raw.inspectPort !== undefined) {
    const port = /^\d+$/.test(raw.inspectPort) ? Number(raw.inspectPort) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new CliError(`--inspect-port ${JSON.stringify(raw.inspectPort)}: expected a port number 0..65535`);
    options.inspectPort = port;
  }
  return options;
}

function size(text: string, flag: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text, flag);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  if (bytes % PAGE !== 0) throw new CliError(`${flag} ${text}: must be a whole number of 4 KiB pages`);
  return bytes;
}

function guest(text: string): GuestKind {
  const found = GUEST_KINDS.find((kind) => kind === text);
  if (!found) throw new CliError(`--guest ${JSON.stringify(text)}: expected one of ${GUEST_KINDS.join(', ')}`);
  return found;
}

function seed(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value > MAX_SEED) {
    throw new CliError(`--seed ${JSON.stringify(text)}: expected an integer from 0 to ${MAX_SEED}`);
  }
  return value;
}

/** The VM flags a scenario replaces. */
const VM_FLAGS: ReadonlyArray<[keyof RawVmOptions, string]> = [
  ['machine', '--machine'],
  ['memory', '--memory'],
  ['maxmem', '--maxmem'],
  ['memdev', '--memdev'],
  ['statusReport', '--status-report'],
  ['guest', '--guest'],
  ['device', '--device'],
  ['seed', '--seed'],
];

/** With --scenario the scenario describes the VM: a VM flag given on the command line is a conflict. */
export function rejectVmFlagsWithScenario(command: Command): void {
  if (command.getOptionValueSource('scenario') !== 'cli') return;
  for (const [key, flag] of VM_FLAGS) {
    if (command.getOptionValueSource(key) === 'cli') {
      throw new CliError(`${flag} cannot be combined with --scenario: the scenario file describes the VM (edit its "machine", "device" or "guest")`);
    }
  }
}
