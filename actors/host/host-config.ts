/**
 * A host scenario: `"host"` (physical memory, reserve, policy) and `"vms"` (each a VM of today
 * plus Hyper-V Dynamic Memory settings and a workload), steps aimed at a VM, and an end time.
 * `parseHostScenario` checks it all and derives each VM's machine from its settings: boot RAM =
 * startup RAM; growth past it needs a memdev of maximum - startup (hot-add), with maxmem room for
 * its 32 GiB-aligned window; status reports on (the hyperv policy reads them). Errors name the
 * field and the value.
 */
import { dirname, resolve } from 'node:path';
import { DEVICE_MEMORY_ALIGN_BYTES } from '../../protocol/constants';
import {
  DM_DEFAULT_BUFFER_PERCENT,
  DM_DEFAULT_MINIMUM_BYTES,
  DM_DEFAULT_WEIGHT,
  DM_MAX_MAXIMUM_BYTES,
  DynamicMemoryError,
  validateDynamicMemory,
  type DynamicMemorySettings,
} from '../../machines/policy/dynamic-memory';
import type { PolicyFunction } from '../../machines/policy/policy-types';
import { formatSize, parseDuration, parseSize } from '../units';
import { normalizeVmConfig, type VmConfigInput } from '../vm/vm-config';

export type HostPolicyConfig =
  | { kind: 'hyperv'; intervalMs: number; hysteresisBytes: number }
  | { kind: 'manual'; intervalMs: number }
  /** A user's policy: a function (library callers), or a module exporting `policy` (a function) or `machine` (XState logic). */
  | { kind: 'function'; intervalMs: number; decide: PolicyFunction; name: string }
  | { kind: 'module'; intervalMs: number; module: string };

export interface HostVmSpec {
  name: string;
  vm: VmConfigInput;
  settings: DynamicMemorySettings;
  /** The balloon device model (`device.model`; hv-balloon unless said otherwise). */
  deviceModel: string;
}

export type HostStep = { at: number; vm: string; hmp: string } | { at: number; vm: string; qmp: Record<string, unknown> };

export interface HostScenario {
  name: string;
  source?: string;
  description?: string;
  seed: number;
  memoryBytes: number;
  reserveBytes: number;
  policy: HostPolicyConfig;
  /** Virtual ms between samples of the report's time series. */
  sampleMs: number;
  vms: HostVmSpec[];
  steps: HostStep[];
  until: number;
}

/** A host scenario that cannot be read; the message names the field (and the file). */
export class HostScenarioError extends Error {
  override readonly name = 'HostScenarioError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const TOP_FIELDS = ['name', 'description', 'seed', 'host', 'vms', 'steps', 'until'];
const HOST_FIELDS = ['memory', 'reserve', 'policy', 'sample'];
const VM_FIELDS = ['name', 'count', 'machine', 'device', 'guest', 'workload', 'seed', 'costModel', 'channel', 'memctl', 'dynamicMemory'];
const DM_FIELDS = ['startup', 'minimum', 'maximum', 'buffer', 'weight'];
const DEFAULT_POLICY_INTERVAL_MS = 1000;

/** Whether a parsed scenario file is a host scenario (has "host" or "vms"). */
export function isHostScenario(json: unknown): boolean {
  return typeof json === 'object' && json !== null && ('host' in json || 'vms' in json);
}

export interface ParseHostOptions {
  /** A function policy for `"policy": {"kind": "function"}` (library callers). */
  policyFunction?: PolicyFunction;
}

export function parseHostScenario(value: unknown, source = 'scenario', options: ParseHostOptions = {}): HostScenario {
  const fail = (field: string, message: string): never => {
    throw new HostScenarioError(field, `${source}: ${field}: ${message}`);
  };
  const obj = asObject(value, '(top level)', fail);
  rejectUnknown(obj, TOP_FIELDS, '', fail);
  const name = obj.name ?? 'host';
  if (typeof name !== 'string') fail('name', `expected a string, got ${JSON.stringify(name)}`);
  if (obj.description !== undefined && typeof obj.description !== 'string') fail('description', 'expected a string');
  const seed = (obj.seed ?? 1) as number;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) fail('seed', `expected an integer 0..4294967295, got ${JSON.stringify(seed)}`);

  const host = asObject(obj.host, 'host', fail);
  rejectUnknown(host, HOST_FIELDS, 'host', fail);
  if (host.memory === undefined) fail('host.memory', 'required: the host\'s physical memory, e.g. "64G"');
  const memoryBytes = size(host.memory, 'host.memory', fail);
  if (memoryBytes <= 0) fail('host.memory', `expected a size > 0, got ${JSON.stringify(host.memory)}`);
  const reserveBytes = host.reserve === undefined ? 0 : size(host.reserve, 'host.reserve', fail);
  if (reserveBytes >= memoryBytes) fail('host.reserve', `${formatSize(reserveBytes)} leaves nothing of host.memory ${formatSize(memoryBytes)} for VMs`);
  const policy = parsePolicy(host.policy, source, fail, options);

  if (obj.until === undefined) fail('until', 'required: the virtual time the run ends at, e.g. "24h"');
  const until = time(obj.until, 'until', fail);
  if (until <= 0) fail('until', `expected a time > 0, got ${JSON.stringify(obj.until)}`);
  const sampleMs = host.sample === undefined ? Math.max(1000, Math.ceil(until / 400 / 1000) * 1000) : time(host.sample, 'host.sample', fail);
  if (sampleMs <= 0) fail('host.sample', `expected a time > 0, got ${JSON.stringify(host.sample)}`);

  if (!Array.isArray(obj.vms) || obj.vms.length === 0) fail('vms', `expected a non-empty array of VMs, got ${JSON.stringify(obj.vms)}`);
  const vms: HostVmSpec[] = [];
  (obj.vms as unknown[]).forEach((raw, i) => {
    for (const spec of parseVm(raw, `vms[${i}]`, seed, vms.length, policy, fail)) vms.push(spec);
  });
  const seen = new Set<string>();
  for (const v of vms) {
    if (seen.has(v.name)) fail('vms', `two VMs are named "${v.name}" (names must be unique)`);
    seen.add(v.name);
  }
  const startupSum = vms.reduce((sum, v) => sum + v.settings.startupBytes, 0);
  // Hyper-V starts a VM only if its startup RAM is free (a manual, KVM-like host overcommits and pages).
  if (policy.kind !== 'manual' && startupSum > memoryBytes - reserveBytes) {
    fail('vms', `the VMs' startup RAM adds up to ${formatSize(startupSum)}, more than the host's ${formatSize(memoryBytes - reserveBytes)} for VMs (host.memory - host.reserve): Hyper-V would not start them all`);
  }

  const steps: HostStep[] = [];
  if (obj.steps !== undefined && !Array.isArray(obj.steps)) fail('steps', 'expected an array');
  ((obj.steps as unknown[] | undefined) ?? []).forEach((raw, i) => {
    const s = asObject(raw, `steps[${i}]`, fail);
    rejectUnknown(s, ['at', 'vm', 'hmp', 'qmp'], `steps[${i}]`, fail);
    const at = time(s.at, `steps[${i}].at`, fail);
    if (typeof s.vm !== 'string' || !seen.has(s.vm)) fail(`steps[${i}].vm`, `expected the name of a VM of this host, got ${JSON.stringify(s.vm)}`);
    if (steps.length > 0 && at < steps[steps.length - 1]!.at) fail(`steps[${i}].at`, 'steps must be in time order');
    if (typeof s.hmp === 'string') steps.push({ at, vm: s.vm as string, hmp: s.hmp });
    else if (typeof s.qmp === 'object' && s.qmp !== null && !Array.isArray(s.qmp)) steps.push({ at, vm: s.vm as string, qmp: s.qmp as Record<string, unknown> });
    else fail(`steps[${i}]`, 'expected "hmp": "<line>" or "qmp": {...}');
  });
  if (steps.length > 0 && steps[steps.length - 1]!.at > until) fail('until', `the last step is at ${steps[steps.length - 1]!.at} ms, after until (${until} ms)`);

  const scenario: HostScenario = { name: name as string, seed: seed as number, memoryBytes, reserveBytes, policy, sampleMs, vms, steps, until };
  if (typeof obj.description === 'string') scenario.description = obj.description;
  return scenario;
}

function parsePolicy(raw: unknown, source: string, fail: (f: string, m: string) => never, options: ParseHostOptions): HostPolicyConfig {
  const p = raw === undefined ? { kind: 'hyperv' } : asObject(raw, 'host.policy', fail);
  const kind = p.kind;
  const intervalMs = p.interval === undefined ? DEFAULT_POLICY_INTERVAL_MS : time(p.interval, 'host.policy.interval', fail);
  if (intervalMs <= 0) fail('host.policy.interval', `expected a time > 0, got ${JSON.stringify(p.interval)}`);
  switch (kind) {
    case 'hyperv': {
      rejectUnknown(p, ['kind', 'interval', 'hysteresis'], 'host.policy', fail);
      const hysteresisBytes = p.hysteresis === undefined ? 32 * 2 ** 20 : size(p.hysteresis, 'host.policy.hysteresis', fail);
      return { kind, intervalMs, hysteresisBytes };
    }
    case 'manual':
      rejectUnknown(p, ['kind', 'interval'], 'host.policy', fail);
      return { kind, intervalMs };
    case 'module': {
      rejectUnknown(p, ['kind', 'interval', 'module'], 'host.policy', fail);
      if (typeof p.module !== 'string' || p.module === '') fail('host.policy.module', `expected the path of a module exporting "policy" or "machine", got ${JSON.stringify(p.module)}`);
      // Relative to the scenario file, as a user expects.
      const base = source === 'scenario' ? process.cwd() : dirname(resolve(source));
      return { kind, intervalMs, module: resolve(base, p.module as string) };
    }
    case 'function':
      rejectUnknown(p, ['kind', 'interval', 'name'], 'host.policy', fail);
      if (!options.policyFunction) fail('host.policy.kind', '"function" needs a policy function from the library caller (in a file, use "module")');
      return { kind, intervalMs, decide: options.policyFunction!, name: typeof p.name === 'string' ? p.name : 'user policy' };
    default:
      return fail('host.policy.kind', `expected "hyperv", "manual" or "module", got ${JSON.stringify(kind)}`);
  }
}

function parseVm(raw: unknown, path: string, hostSeed: number, firstIndex: number, policy: HostPolicyConfig, fail: (f: string, m: string) => never): HostVmSpec[] {
  const v = asObject(raw, path, fail);
  rejectUnknown(v, VM_FIELDS, path, fail);
  if (typeof v.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(v.name)) fail(`${path}.name`, `expected a name of letters, digits, '.', '_' or '-', got ${JSON.stringify(v.name)}`);
  const count = v.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10_000) fail(`${path}.count`, `expected an integer 1..10000, got ${JSON.stringify(count)}`);
  const machine = v.machine === undefined ? {} : asObject(v.machine, `${path}.machine`, fail);
  const dmRaw = v.dynamicMemory === undefined ? {} : asObject(v.dynamicMemory, `${path}.dynamicMemory`, fail);
  rejectUnknown(dmRaw, DM_FIELDS, `${path}.dynamicMemory`, fail);
  const machineMemory = machine.memory === undefined ? undefined : size(machine.memory, `${path}.machine.memory`, fail);
  const startupBytes = dmRaw.startup === undefined ? (machineMemory ?? 4 * 2 ** 30) : size(dmRaw.startup, `${path}.dynamicMemory.startup`, fail);
  if (machineMemory !== undefined && machineMemory !== startupBytes) {
    fail(`${path}.dynamicMemory.startup`, `${formatSize(startupBytes)} differs from machine.memory ${formatSize(machineMemory)} (startup RAM is the boot size: give one of them)`);
  }
  const dev = v.device === undefined ? {} : v.device === null ? fail(`${path}.device`, 'a VM on a host needs a balloon device (null given)') : asObject(v.device, `${path}.device`, fail);
  const deviceModel = typeof dev.model === 'string' ? dev.model : 'hv-balloon';
  const canHotAdd = deviceModel === 'hv-balloon';
  const maximumBytes =
    dmRaw.maximum === undefined
      ? canHotAdd
        ? typeof dev.memdev === 'string' || typeof dev.memdev === 'number'
          ? startupBytes + size(dev.memdev, `${path}.device.memdev`, fail)
          : DM_MAX_MAXIMUM_BYTES
        : startupBytes
      : size(dmRaw.maximum, `${path}.dynamicMemory.maximum`, fail);
  const settings: DynamicMemorySettings = {
    startupBytes,
    minimumBytes: dmRaw.minimum === undefined ? Math.min(DM_DEFAULT_MINIMUM_BYTES, startupBytes) : size(dmRaw.minimum, `${path}.dynamicMemory.minimum`, fail),
    maximumBytes,
    bufferPercent: (dmRaw.buffer as number | undefined) ?? DM_DEFAULT_BUFFER_PERCENT,
    weight: (dmRaw.weight as number | undefined) ?? DM_DEFAULT_WEIGHT,
  };
  try {
    validateDynamicMemory(settings, `${path}.dynamicMemory`);
  } catch (err) {
    if (err instanceof DynamicMemoryError) fail(err.field, err.message.slice(err.field.length + 2));
    throw err;
  }
  // The machine the settings need: boot at startup RAM; hot-add up to maximum from a memdev.
  const growth = maximumBytes - startupBytes;
  const device: Record<string, unknown> = { ...dev };
  // hv-balloon's status reports are what the hyperv policy reads (virtio-balloon has none).
  if (canHotAdd && device.statusReport === undefined) device.statusReport = true;
  if (canHotAdd && device.statusReport === false && policy.kind === 'hyperv') {
    fail(`${path}.device.statusReport`, 'the hyperv policy reads the guest\'s status reports: leave it on (true)');
  }
  if (growth > 0) {
    if (!canHotAdd) fail(`${path}.dynamicMemory.maximum`, `${formatSize(maximumBytes)} is above startup RAM ${formatSize(startupBytes)}, but a ${deviceModel} device cannot hot-add: set maximum to the startup RAM`);
    if (dev.memdev === undefined) device.memdev = growth;
    else if (size(dev.memdev, `${path}.device.memdev`, fail) < growth) {
      fail(`${path}.device.memdev`, `${JSON.stringify(dev.memdev)} is smaller than maximum - startup (${formatSize(growth)}): memory past startup RAM is hot-added from the memdev`);
    }
  }
  const memdevBytes = device.memdev === undefined ? 0 : size(device.memdev as string | number, `${path}.device.memdev`, fail);
  const vmMachine: Record<string, unknown> = { ...machine, memory: startupBytes };
  if (machine.maxmem === undefined && memdevBytes > 0) vmMachine.maxmem = startupBytes + memdevBytes + DEVICE_MEMORY_ALIGN_BYTES;

  const specs: HostVmSpec[] = [];
  const width = String(count).length;
  for (let k = 0; k < (count as number); k++) {
    const name = count === 1 ? (v.name as string) : `${v.name as string}-${String(k + 1).padStart(width, '0')}`;
    // Each VM its own seed, derived from the host's: copies of one entry differ.
    const seed = v.seed !== undefined && count === 1 ? v.seed : ((hostSeed as number) * 7919 + firstIndex + k + 1) % 0x1_0000_0000;
    const vm: VmConfigInput = { machine: vmMachine as VmConfigInput['machine'], device: device as VmConfigInput['device'], seed: seed as number };
    for (const key of ['guest', 'workload', 'costModel', 'channel', 'memctl'] as const) if (v[key] !== undefined) (vm as Record<string, unknown>)[key] = v[key];
    if (k === 0) {
      try {
        normalizeVmConfig(vm, path);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        let field = err instanceof Error && 'field' in err ? String((err as { field: unknown }).field) : path;
        if (!field.startsWith(path)) field = `${path}.${field}`;
        const bare = field.slice(path.length + 1);
        fail(field, message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message.startsWith(bare) ? message.slice(bare.length).replace(/^:?\s*/, '') : message);
      }
    }
    specs.push({ name, vm, settings, deviceModel });
  }
  return specs;
}

function asObject(value: unknown, field: string, fail: (f: string, m: string) => never): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, `expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], path: string, fail: (f: string, m: string) => never): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) fail(path ? `${path}.${key}` : key, `unknown field (expected one of: ${known.join(', ')})`);
  }
}

function size(value: unknown, field: string, fail: (f: string, m: string) => never): number {
  if (typeof value !== 'string' && typeof value !== 'number') fail(field, `expected a size like "4G" or a number of bytes, got ${JSON.stringify(value)}`);
  try {
    return parseSize(value as string | number, field);
  } catch (err) {
    return fail(field, (err as Error).message.replace(`${field}: `, ''));
  }
}

function time(value: unknown, field: string, fail: (f: string, m: string) => never): number {
  if (typeof value !== 'string' && typeof value !== 'number') fail(field, `expected a time like "90s" or a number of ms, got ${JSON.stringify(value)}`);
  try {
    return parseDuration(value as string | number, field);
  } catch (err) {
    return fail(field, (err as Error).message.replace(`${field}: `, ''));
  }
}
