/**
 * The hv-balloon device's properties (QEMU `-device hv-balloon,...`) and the checks QEMU makes
 * before the device exists (realize in hw/hyperv/hv-balloon.c, pre-plug in hw/mem/memory-device.c).
 */
import { DEVICE_MEMORY_ALIGN_BYTES, MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT, PAGE_SIZE } from '../../protocol/constants';

export interface HvBalloonMemdevConfig {
  /** The memory backend's id (`-object memory-backend-ram,id=...`); QMP shows it as /objects/<id>. */
  id: string;
  /** Backend size in bytes. */
  sizeBytes: number;
  /** Guest-physical address of the window (QEMU `addr`), already placed by the VM: a multiple of 32 GiB. */
  addrBytes: number;
  /** Host page size backing the memdev (4096, or a hugepage size). Used by the memory model; validated here. */
  hostPageSize?: number;
  /**
   * The memslot limit the memory-device core hands the device (QEMU memory_device_memslot_decision_limit).
   * Defaults to 256, what QEMU gives a device that owns the whole device-memory area.
   */
  memslotLimit?: number;
}

export interface HvBalloonDeviceConfig {
  /** `-device hv-balloon,id=...` */
  id?: string;
  /** `status-report=on|off` (QEMU default off). */
  statusReport: boolean;
  /** `memdev=...` with its backend's size and the window's placement. */
  memdev?: HvBalloonMemdevConfig;
  /**
   * `addr=` given WITHOUT a memdev. QEMU rejects it at realize; only validateDeviceConfig looks at
   * it (with a memdev, the address is memdev.addrBytes).
   */
  addrBytes?: number;
}

export type DeviceConfigErrorCode =
  /** QEMU realize: "'memdev' property memdev size has to be a multiple of 0x1000". */
  | 'MEMDEV_SIZE_NOT_PAGE_MULTIPLE'
  /** QEMU realize: "'memdev' property must not be set without a memdev" (`addr` without `memdev`). */
  | 'ADDR_WITHOUT_MEMDEV'
  /** QEMU memory-device pre-plug: "address must be aligned to 0x800000000 bytes". */
  | 'ADDR_NOT_ALIGNED'
  /** Not a QEMU error: a field with a value of the wrong type or range (e.g. a negative size). */
  | 'INVALID_VALUE';

/** A realize (or pre-plug) failure: QEMU's text in `message`, the offending property in `field`. */
export class DeviceConfigError extends Error {
  override readonly name = 'DeviceConfigError';
  constructor(
    readonly code: DeviceConfigErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** QEMU's realize error texts. */
export const REALIZE_ERROR_TEXTS = {
  memdevSizeNotPageMultiple: `'memdev' property memdev size has to be a multiple of 0x${PAGE_SIZE.toString(16)}`,
  addrWithoutMemdev: "'memdev' property must not be set without a memdev",
  addrNotAligned: `address must be aligned to 0x${DEVICE_MEMORY_ALIGN_BYTES.toString(16)} bytes`,
} as const;

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function invalid(field: string, expected: string, value: unknown): DeviceConfigError {
  return new DeviceConfigError('INVALID_VALUE', field, `${field}: expected ${expected}, got ${JSON.stringify(value) ?? String(value)}`);
}

/**
 * The first error QEMU (or our own type checks) would report for this configuration, or undefined
 * when the device can be realized. QEMU stops at the first error, so this returns one.
 */
export function validateDeviceConfig(config: HvBalloonDeviceConfig): DeviceConfigError | undefined {
  if (typeof config.statusReport !== 'boolean') return invalid('statusReport', 'true or false', config.statusReport);
  if (config.id !== undefined && (typeof config.id !== 'string' || config.id === '')) {
    return invalid('id', 'a non-empty string', config.id);
  }
  const memdev = config.memdev;
  if (memdev === undefined) {
    if (config.addrBytes !== undefined && !isWhole(config.addrBytes)) return invalid('addrBytes', 'a whole number of bytes', config.addrBytes);
    // QEMU: addr 0 means "auto", so only a non-zero addr without memdev is an error.
    if (config.addrBytes !== undefined && config.addrBytes !== 0) {
      return new DeviceConfigError('ADDR_WITHOUT_MEMDEV', 'addrBytes', REALIZE_ERROR_TEXTS.addrWithoutMemdev);
    }
    return undefined;
  }
  if (typeof memdev.id !== 'string' || memdev.id === '') return invalid('memdev.id', 'a non-empty string', memdev.id);
  if (!isWhole(memdev.sizeBytes) || memdev.sizeBytes === 0) return invalid('memdev.sizeBytes', 'a positive whole number of bytes', memdev.sizeBytes);
  if (!isWhole(memdev.addrBytes)) return invalid('memdev.addrBytes', 'a whole number of bytes', memdev.addrBytes);
  if (memdev.hostPageSize !== undefined) {
    const p = memdev.hostPageSize;
    if (!isWhole(p) || p < PAGE_SIZE || (p & (p - 1)) !== 0) {
      return invalid('memdev.hostPageSize', 'a power of two of at least 4096', p);
    }
  }
  if (memdev.memslotLimit !== undefined && (!isWhole(memdev.memslotLimit) || memdev.memslotLimit < 1)) {
    return invalid('memdev.memslotLimit', 'a whole number of at least 1', memdev.memslotLimit);
  }
  if (config.addrBytes !== undefined && config.addrBytes !== memdev.addrBytes) {
    return invalid('addrBytes', `the memdev's address ${memdev.addrBytes} (or nothing)`, config.addrBytes);
  }
  // QEMU memory_device_pre_plug runs before realize: the window must sit on the device's 32 GiB alignment.
  if (memdev.addrBytes % DEVICE_MEMORY_ALIGN_BYTES !== 0) {
    return new DeviceConfigError('ADDR_NOT_ALIGNED', 'memdev.addrBytes', REALIZE_ERROR_TEXTS.addrNotAligned);
  }
  if (memdev.sizeBytes % PAGE_SIZE !== 0) {
    return new DeviceConfigError('MEMDEV_SIZE_NOT_PAGE_MULTIPLE', 'memdev.sizeBytes', REALIZE_ERROR_TEXTS.memdevSizeNotPageMultiple);
  }
  return undefined;
}

/** validateDeviceConfig, throwing the DeviceConfigError instead of returning it. */
export function assertDeviceConfig(config: HvBalloonDeviceConfig): void {
  const error = validateDeviceConfig(config);
  if (error) throw error;
}

/** The memdev window in pages. */
export function memdevWindow(memdev: HvBalloonMemdevConfig): { startPage: number; pageCount: number } {
  return { startPage: Math.floor(memdev.addrBytes / PAGE_SIZE), pageCount: Math.floor(memdev.sizeBytes / PAGE_SIZE) };
}

export function memslotLimitOf(memdev: HvBalloonMemdevConfig): number {
  return memdev.memslotLimit ?? MEMORY_DEVICES_SOFT_MEMSLOT_LIMIT;
}
