/**
 * MachineMemory's configuration and argument checks (machines/machine-memory.ts): every bad
 * argument is a MemoryModelError naming the field and the value.
 */
import type { PageRange } from '../../protocol/messages';
import type { LinuxMemoryOptions } from '../linux-memory/linux-memory-params';
import type { MachineType } from '../pc-memory-map';

export interface MachineMemoryConfig {
  /** `-machine` type: `pc` (default) or `q35`. */
  machineType?: MachineType;
  /** `-m` boot RAM in bytes. */
  ramBytes: number;
  /** `maxmem=` in bytes; default ramBytes (no device memory). */
  maxmemBytes?: number;
  /** `slots=`; pc adds 1 GiB of device-memory area per slot. Default 0. */
  slots?: number;
  /**
   * The simple model: pages of low RAM the kernel holds from boot, counted as used and committed,
   * one zone, balloon units from the top. Given, it replaces the calibrated Linux model.
   */
  kernelReservedPages?: number;
  /** The calibrated Linux guest model's parameters (machines/linux-memory/); used unless kernelReservedPages is given. */
  linux?: LinuxMemoryOptions;
  /** Host page size backing boot RAM. Default 4096. */
  hostPageSize?: number;
  /** The memdev is hugepage-backed (host page size 2 MiB unless memdevHostPageSize says otherwise). */
  memdevHugepages?: boolean;
  /** Host page size backing memdev slots. Default 4096 (2 MiB with memdevHugepages). */
  memdevHostPageSize?: number;
  /** Whether the memdev's host addresses are 4 KiB aligned. Default true. */
  memdevHostAligned?: boolean;
  /** Boot RAM starts resident on the host (the guest touched it at boot). Default true. */
  bootRamResident?: boolean;
}

export class MemoryModelError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryModelError';
  }
}

export function checkCount(method: string, field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MemoryModelError(field, `MachineMemory.${method}: ${field} must be a non-negative integer, got ${String(value)}`);
  }
}

export function checkRange(method: string, range: PageRange): void {
  checkCount(method, 'startPage', range.startPage);
  checkCount(method, 'pageCount', range.pageCount);
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
