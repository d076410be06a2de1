/**
 * A VM's configuration in QEMU's terms — `-m 4G,maxmem=44G`, `-object memory-backend-ram,size=8G`,
 * `-device hv-balloon,memdev=...,status-report=on` — plus the simulation's own knobs (guest
 * profile, workload, seed, cost model). `normalizeVmConfig` reads what a user wrote (sizes as
 * "4G", times as "100ms") and checks it, with errors that name the field and the value; where
 * QEMU refuses a configuration, the text is QEMU's.
 */
import type { CostOverrides } from '../../machines/cost-model';
import { COST_KINDS } from '../../machines/cost-model';
import { validateGuestProfile, type GuestProfileConfig } from '../../machines/dm-guest/profiles';
import { assertDeviceConfig, type HvBalloonDeviceConfig } from '../../machines/hv-balloon-device/config';
import { buildPcMemoryMap, MACHINE_TYPES, placeMemdevWindow, type MachineType, type PcMemoryMap } from '../../machines/pc-memory-map';
import { validateWorkload, type WorkloadConfig } from '../../machines/vcpu.machine';
import { normalizeVirtioDevice, VIRTIO_ONLY_FIELDS } from '../../machines/virtio-balloon/config';
import type { VirtioBalloonDeviceConfig } from '../../machines/virtio-balloon/virtio-balloon-device.machine';
import { DEFAULT_RING_DATA_BYTES, MAX_RANGES_PER_MESSAGE, MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT, PAGE_SIZE } from '../../protocol/constants';
import { DEFAULT_KERNEL_RESERVED_PAGES } from '../../machines/machine-memory';
import { LEGACY_HOLE_END_BYTES, VGA_START_BYTES } from '../../machines/pc-memory-map';
import { ringSpaceFor } from '../../protocol/vmbus-packet';

const MiB = 2 ** 20;

/**
 * The smallest boot RAM the guest memory model boots in: its kernel reservation (64 MiB) plus the
 * legacy VGA/ROM hole below 1 MiB, rounded up to whole MiB (65 MiB). Below it the guest would have
 * no memory of its own.
 */
export const MIN_MEMORY_BYTES = Math.ceil(((DEFAULT_KERNEL_RESERVED_PAGES + 1) * PAGE_SIZE + (LEGACY_HOLE_END_BYTES - VGA_START_BYTES)) / MiB) * MiB;

/**
 * The smallest DM ring: the guest's largest message, a balloon response with 510 ranges (16 + 510 x 8
 * = 4096 bytes), takes 4120 bytes of ring space, and a VMBus ring is never filled exactly (Linux
 * ring_buffer.c), so 4128. A smaller ring accepts the guest's request and then livelocks its
 * 20 ms ring-full retries forever.
 */
export const MIN_RING_BYTES = ringSpaceFor(16 + MAX_RANGES_PER_MESSAGE * 8) + 8;
import { parseDuration, parseSize } from '../units';
import { DEVICE_MODELS, type DeviceModel } from './device-model';

export { DEVICE_MODELS, type DeviceModel } from './device-model';

/** What a user may write (scenario files, library callers). Sizes: bytes or "4G"; times: ms or "10s". */
export interface VmConfigInput {
  machine?: { memory?: string | number; maxmem?: string | number; slots?: number; /** QEMU -machine type: 'pc' (default) or 'q35'. */ type?: string };
  /** The hv-balloon device; `null` builds a VM without one (query-balloon then says so, as QEMU does). */
  device?: {
    /** "hv-balloon" (the default) or "virtio-balloon" (docs/virtio-balloon.md). */
    model?: DeviceModel;
    id?: string;
    memdev?: string | number;
    memdevId?: string;
    addr?: string | number;
    statusReport?: boolean;
    hugepages?: boolean;
    /** virtio-balloon only: the deflate-on-oom property. */
    deflateOnOom?: boolean;
    /** virtio-balloon only: guest-stats-polling-interval in seconds, set at start as libvirt does. */
    guestStatsPollingInterval?: number;
  } | null;
  guest?: unknown;
  workload?: unknown;
  seed?: number;
  costModel?: Record<string, number>;
  channel?: { ringBytes?: string | number; signalLatency?: string | number; offerDelay?: string | number };
  memctl?: { onlineDelay?: string | number | null };
}


/** A checked configuration: sizes in bytes, times in virtual ms. */
export interface VmConfig {
  /** QEMU -machine type. */
  machineType: MachineType;
  memoryBytes: number;
  maxmemBytes: number;
  slots: number;
  map: PcMemoryMap;
  /** The hv-balloon device; null without one, and null in a virtio-balloon VM (see `virtio`). */
  device: HvBalloonDeviceConfig | null;
  /** Present when the device model is virtio-balloon. */
  virtio?: VirtioBalloonDeviceConfig;
  memdevHugepages: boolean;
  guest: GuestProfileConfig;
  workload: WorkloadConfig;
  seed: number;
  costModel: CostOverrides;
  ringBytes: number;
  signalLatencyMs: number;
  offerDelayMs: number;
  onlineDelayMs: number | null;
}

/** A configuration the VM cannot be built from. `field` is the path of the offending field. */
export class VmConfigError extends Error {
  override readonly name = 'VmConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** memory_region_get_alignment() of a memory-backend-ram (QEMU_VMALLOC_ALIGN on x86-64 Linux) and of a 2 MiB hugepage backend. */
const MEMORY_BACKEND_ALIGN_BYTES = 2 * 1024 * 1024;

const KNOWN_TOP = ['machine', 'device', 'guest', 'workload', 'seed', 'costModel', 'channel', 'memctl'];

export function normalizeVmConfig(input: VmConfigInput, path = ''): VmConfig {
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  requireObject(input, path || 'config');
  rejectUnknown(input as Record<string, unknown>, KNOWN_TOP, path);
  return wrap(() => {
    const machine = input.machine ?? {};
    requireObject(machine, at('machine'));
    rejectUnknown(machine as Record<string, unknown>, ['type', 'memory', 'maxmem', 'slots'], at('machine'));
    const machineType = machine.type ?? 'pc';
    if (typeof machineType !== 'string' || !(MACHINE_TYPES as readonly string[]).includes(machineType)) {
      throw new VmConfigError(at('machine.type'), `${at('machine.type')}: expected one of ${MACHINE_TYPES.join(', ')}, got ${JSON.stringify(machineType)}`);
    }
    const memoryBytes = parseSize(machine.memory ?? '4G', at('machine.memory'));
    if (memoryBytes <= 0 || memoryBytes % 4096 !== 0) {
      throw new VmConfigError(at('machine.memory'), `${at('machine.memory')}: must be a positive multiple of 4 KiB, got ${String(machine.memory)}`);
    }
    if (memoryBytes < MIN_MEMORY_BYTES) {
      throw new VmConfigError(
        at('machine.memory'),
        `${at('machine.memory')}: must be at least ${MIN_MEMORY_BYTES / MiB}M (the guest kernel's 64 MiB reservation plus the legacy hole below 1 MiB), got ${String(machine.memory)}`,
      );
    }
    const maxmemBytes = machine.maxmem === undefined ? memoryBytes : parseSize(machine.maxmem, at('machine.maxmem'));
    if (maxmemBytes < memoryBytes) {
      // QEMU vl.c: "invalid value of maxmem: maximum memory size (0x...) must be at least the initial memory size (0x...)"
      throw new VmConfigError(
        at('machine.maxmem'),
        `${at('machine.maxmem')}: invalid value of maxmem: maximum memory size (0x${maxmemBytes.toString(16)}) must be at least the initial memory size (0x${memoryBytes.toString(16)})`,
      );
    }
    const slots = machine.slots ?? 0;
    if (!Number.isInteger(slots) || slots < 0 || slots > 256) {
      throw new VmConfigError(at('machine.slots'), `${at('machine.slots')}: expected an integer 0..256, got ${String(slots)}`);
    }
    const map = buildPcMemoryMap({ machineType: machineType as MachineType, ramBytes: memoryBytes, maxmemBytes, slots });

    const model = deviceModelOf(input.device, at('device.model'));
    const virtio = model === 'virtio-balloon' ? normalizeVirtioDevice(input.device as Record<string, unknown>, at('device')) : undefined;
    const { device, memdevHugepages } = virtio ? { device: null, memdevHugepages: false } : normalizeDevice(input.device, map, at('device'));

    // An explicit null is a mistake, not "the default".
    const seed = input.seed === undefined ? 1 : input.seed;
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new VmConfigError(at('seed'), `${at('seed')}: expected an integer 0..4294967295, got ${String(seed)}`);
    }
    const guest = validateGuestProfile(input.guest ?? { profile: 'linux' }, at('guest'));
    if (virtio && guest.profile !== 'linux') {
      throw new VmConfigError(
        at('guest.profile'),
        `${at('guest.profile')} ${JSON.stringify(guest.profile)}: a virtio-balloon VM runs Linux's virtio_balloon driver; only the "linux" profile has a model`,
      );
    }
    if (virtio && input.channel !== undefined) {
      throw new VmConfigError(at('channel'), `${at('channel')}: the VMBus channel is hv-balloon's; a virtio-balloon VM has none (its virtqueues need no settings)`);
    }
    const workload = normalizeWorkload(input.workload, at('workload'));
    validateWorkload(workload, true);
    checkWorkloadFits(workload, maxmemBytes, at('workload'));

    const costModel: CostOverrides = {};
    if (input.costModel !== undefined) {
      requireObject(input.costModel, at('costModel'));
      for (const [kind, ns] of Object.entries(input.costModel)) {
        if (!(COST_KINDS as readonly string[]).includes(kind)) {
          throw new VmConfigError(at(`costModel.${kind}`), `${at(`costModel.${kind}`)}: unknown cost kind (known: ${COST_KINDS.join(', ')})`);
        }
        if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) {
          throw new VmConfigError(at(`costModel.${kind}`), `${at(`costModel.${kind}`)}: expected ns per unit >= 0, got ${JSON.stringify(ns)}`);
        }
        costModel[kind as keyof CostOverrides] = ns;
      }
    }

    const channel = input.channel ?? {};
    requireObject(channel, at('channel'));
    rejectUnknown(channel as Record<string, unknown>, ['ringBytes', 'signalLatency', 'offerDelay'], at('channel'));
    const ringBytes = channel.ringBytes === undefined ? DEFAULT_RING_DATA_BYTES : parseSize(channel.ringBytes, at('channel.ringBytes'));
    if (ringBytes < MIN_RING_BYTES || ringBytes % 8 !== 0) {
      throw new VmConfigError(
        at('channel.ringBytes'),
        `${at('channel.ringBytes')}: must be a multiple of 8 bytes, at least ${MIN_RING_BYTES} (the guest's largest message, a 510-range balloon response, needs ${MIN_RING_BYTES - 8} bytes of ring space), got ${String(channel.ringBytes)}`,
      );
    }
    const memctl = input.memctl ?? {};
    requireObject(memctl, at('memctl'));
    rejectUnknown(memctl as Record<string, unknown>, ['onlineDelay'], at('memctl'));
    return {
      machineType: machineType as MachineType,
      memoryBytes,
      maxmemBytes,
      slots,
      map,
      device,
      ...(virtio ? { virtio } : {}),
      memdevHugepages,
      guest,
      workload,
      seed,
      costModel,
      ringBytes,
      signalLatencyMs: channel.signalLatency === undefined ? 0.01 : parseDuration(channel.signalLatency, at('channel.signalLatency')),
      offerDelayMs: channel.offerDelay === undefined ? 1000 : parseDuration(channel.offerDelay, at('channel.offerDelay')),
      onlineDelayMs:
        memctl.onlineDelay === null ? null : memctl.onlineDelay === undefined ? 100 : parseDuration(memctl.onlineDelay, at('memctl.onlineDelay')),
    };
  });
}

/** The device model named by `device.model` (hv-balloon when absent or without a device). */
function deviceModelOf(raw: VmConfigInput['device'], field: string): DeviceModel {
  if (raw === null || raw === undefined || typeof raw !== 'object') return 'hv-balloon';
  const model = (raw as { model?: unknown }).model;
  if (model === undefined) return 'hv-balloon';
  if (typeof model !== 'string' || !(DEVICE_MODELS as readonly string[]).includes(model)) {
    throw new VmConfigError(field, `${field}: expected one of ${DEVICE_MODELS.map((m) => `"${m}"`).join(', ')}, got ${JSON.stringify(model)}`);
  }
  return model as DeviceModel;
}

function normalizeDevice(
  raw: VmConfigInput['device'],
  map: PcMemoryMap,
  path: string,
): { device: HvBalloonDeviceConfig | null; memdevHugepages: boolean } {
  if (raw === null) return { device: null, memdevHugepages: false };
  const d = raw ?? {};
  requireObject(d, path);
  for (const key of VIRTIO_ONLY_FIELDS) {
    if (key in d) throw new VmConfigError(`${path}.${key}`, `${path}.${key}: a virtio-balloon option; set ${path}.model to "virtio-balloon" to use it`);
  }
  rejectUnknown(d as Record<string, unknown>, ['model', 'id', 'memdev', 'memdevId', 'addr', 'statusReport', 'hugepages'], path);
  if (d.statusReport !== undefined && typeof d.statusReport !== 'boolean') {
    throw new VmConfigError(`${path}.statusReport`, `${path}.statusReport: expected true or false, got ${JSON.stringify(d.statusReport)}`);
  }
  if (d.id !== undefined && (typeof d.id !== 'string' || d.id === '')) {
    throw new VmConfigError(`${path}.id`, `${path}.id: expected a non-empty string, got ${JSON.stringify(d.id)}`);
  }
  const config: HvBalloonDeviceConfig = { statusReport: d.statusReport ?? false };
  // QEMU's realize and pre-plug texts are kept; the prefix names our field and the value given.
  const named = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof Error) || !('field' in err)) throw err;
      const inner = String((err as { field: unknown }).field);
      const [field, value] = /addr/i.test(inner)
        ? [`${path}.addr`, d.addr]
        : /maxmem/i.test(inner)
          ? ['machine.maxmem', undefined]
          : /memdev|size/i.test(inner)
            ? [`${path}.memdev`, d.memdev]
            : [`${path}.${inner}`, undefined];
      throw new VmConfigError(field, `${field}${value === undefined ? '' : ` ${JSON.stringify(value)}`}: ${err.message}`);
    }
  };
  if (d.id !== undefined) config.id = d.id;
  const addrBytes = d.addr === undefined ? undefined : parseSize(d.addr, `${path}.addr`);
  const hugepages = d.hugepages ?? false;
  if (d.memdev !== undefined) {
    const sizeBytes = parseSize(d.memdev, `${path}.memdev`);
    const memdevId = d.memdevId ?? 'mem0';
    const hostPageSize = hugepages ? 2 * 1024 * 1024 : 4096;
    // QEMU 10 runs the memory-device core's pre-plug checks before the device's realize:
    // memory_device_pre_plug wants the region size to be a multiple of the backend's alignment
    // (2 MiB for a RAM backend on an x86-64 host, QEMU_VMALLOC_ALIGN; the hugepage size for
    // hugepages), then places the window; hv-balloon's realize checks come after.
    if (sizeBytes % MEMORY_BACKEND_ALIGN_BYTES !== 0) {
      throw new VmConfigError(
        `${path}.memdev`,
        `${path}.memdev ${JSON.stringify(d.memdev)}: backend memory size must be multiple of 0x${MEMORY_BACKEND_ALIGN_BYTES.toString(16)}`,
      );
    }
    let addr = 0;
    named(() => {
      addr = placeMemdevWindow(map, { memdevBytes: sizeBytes, ...(addrBytes === undefined ? {} : { addrBytes }) }).addrBytes;
    });
    named(() => assertDeviceConfig({ ...config, memdev: { id: memdevId, sizeBytes, addrBytes: addr, hostPageSize } }));
    // QEMU hw/mem/memory-device.c memory_device_memslot_decision_limit: a device gets the share of
    // the 256 soft memslot limit that its size has of the device-memory area (at least 1).
    const deviceMemoryBytes = map.maxmemBytes - map.ramBytes;
    const memslotLimit = Math.max(1, Math.floor((MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT * sizeBytes) / deviceMemoryBytes));
    config.memdev = { id: memdevId, sizeBytes, addrBytes: addr, hostPageSize, memslotLimit };
  } else if (addrBytes !== undefined) {
    config.addrBytes = addrBytes;
  }
  named(() => assertDeviceConfig(config));
  return { device: config, memdevHugepages: hugepages };
}

/** Workload sizes may be written "1G" and times "10s"; the vCPU takes bytes and ms. */
function normalizeWorkload(raw: unknown, path: string): WorkloadConfig {
  if (raw === undefined) return { kind: 'idle' };
  requireObject(raw, path);
  const w = raw as Record<string, unknown>;
  const out: Record<string, unknown> = { ...w };
  for (const [key, value] of Object.entries(w)) {
    if (key.endsWith('Bytes') && (typeof value === 'string' || typeof value === 'number')) out[key] = parseSize(value, `${path}.${key}`);
    if (key.endsWith('Ms') && (typeof value === 'string' || typeof value === 'number')) out[key] = parseDuration(value, `${path}.${key}`);
  }
  if (Array.isArray(w.steps)) {
    out.steps = w.steps.map((step: unknown, i: number) => {
      requireObject(step, `${path}.steps[${i}]`);
      const s = { ...(step as Record<string, unknown>) };
      if (typeof s.bytes === 'string' || typeof s.bytes === 'number') s.bytes = parseSize(s.bytes, `${path}.steps[${i}].bytes`);
      if (typeof s.atMs === 'string' || typeof s.atMs === 'number') s.atMs = parseDuration(s.atMs, `${path}.steps[${i}].atMs`);
      return s;
    });
  }
  return out as unknown as WorkloadConfig;
}

/** A workload that wants more memory than the guest can ever have (maxmem) is a mistake in the scenario. */
function checkWorkloadFits(workload: WorkloadConfig, maxmemBytes: number, path: string): void {
  const limit = `the guest can have at most machine.maxmem = ${maxmemBytes} bytes`;
  if (workload.kind === 'steady' && workload.usedBytes + workload.churnBytes > maxmemBytes) {
    throw new VmConfigError(`${path}.usedBytes`, `${path}.usedBytes: ${workload.usedBytes} + churnBytes ${workload.churnBytes} is more memory than ${limit}`);
  }
  if (workload.kind === 'script') {
    workload.steps.forEach((step, i) => {
      if (step.bytes > maxmemBytes) throw new VmConfigError(`${path}.steps[${i}].bytes`, `${path}.steps[${i}].bytes: ${step.bytes} is more memory than ${limit}`);
    });
  }
}

function requireObject(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VmConfigError(path, `${path}: expected an object, got ${JSON.stringify(value)}`);
  }
}

function rejectUnknown(obj: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      const where = path ? `${path}.${key}` : key;
      throw new VmConfigError(where, `${where}: unknown field (expected one of: ${known.join(', ')})`);
    }
  }
}

/** Every configuration error comes out as a VmConfigError naming its field. */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof VmConfigError) throw err;
    if (err instanceof Error && 'field' in err && typeof (err as { field: unknown }).field === 'string') {
      throw new VmConfigError((err as { field: string }).field, err.message);
    }
    throw err;
  }
}
