/**
 * Per-VM Dynamic Memory settings as Hyper-V has them (Hyper-V Manager's Memory page, PowerShell
 * Set-VMMemory: -StartupBytes, -MinimumBytes, -MaximumBytes, -Buffer, and the memory weight that
 * WMI's Msvm_MemorySettingData calls Weight). Checked with Hyper-V's rules:
 * - minimum <= startup <= maximum (Hyper-V Manager refuses the settings otherwise);
 * - buffer is a percentage from 5 to 2000 (Set-VMMemory -Buffer: "Allowed values range from 5 to
 *   2000", learn.microsoft.com/powershell/module/hyper-v/set-vmmemory); default 20;
 * - weight from 1 to 10000, default 5000 (Msvm_MemorySettingData.Weight; PowerShell's -Priority
 *   0-100 is the same knob divided by 100);
 * - sizes are multiples of 2 MiB (Hyper-V allocates guest memory in 2 MiB units and refuses other
 *   sizes), minimum at least 32 MiB, maximum at most 1 TiB (the Windows Server 2012 R2 limits).
 * Sizes here are bytes. docs/host.md explains each setting.
 */
import { formatSizeShort } from './policy-units';

export interface DynamicMemorySettings {
  startupBytes: number;
  minimumBytes: number;
  maximumBytes: number;
  /** Percent of demand kept free on top of it (Hyper-V "memory buffer"). */
  bufferPercent: number;
  /** Share when the host cannot satisfy everyone (Hyper-V "memory weight"). */
  weight: number;
}

export const DM_DEFAULT_BUFFER_PERCENT = 20;
export const DM_DEFAULT_WEIGHT = 5000;
export const DM_BUFFER_RANGE = [5, 2000] as const;
export const DM_WEIGHT_RANGE = [1, 10000] as const;
export const DM_ALIGN_BYTES = 2 * 1024 * 1024;
export const DM_MIN_MINIMUM_BYTES = 32 * 1024 * 1024;
export const DM_MAX_MAXIMUM_BYTES = 2 ** 40;
/** Hyper-V's default minimum RAM (Hyper-V Manager: 512 MB). */
export const DM_DEFAULT_MINIMUM_BYTES = 512 * 1024 * 1024;

/** A setting Hyper-V would refuse; `field` is its path (e.g. "vms[2].dynamicMemory.minimum"). */
export class DynamicMemoryError extends Error {
  override readonly name = 'DynamicMemoryError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks settings already in bytes; `path` prefixes field names. Throws DynamicMemoryError. */
export function validateDynamicMemory(s: DynamicMemorySettings, path: string): DynamicMemorySettings {
  const fail = (key: string, message: string): never => {
    throw new DynamicMemoryError(`${path}.${key}`, `${path}.${key}: ${message}`);
  };
  for (const [key, bytes] of [
    ['startup', s.startupBytes],
    ['minimum', s.minimumBytes],
    ['maximum', s.maximumBytes],
  ] as const) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) fail(key, `expected a size > 0, got ${bytes}`);
    if (bytes % DM_ALIGN_BYTES !== 0) fail(key, `${formatSizeShort(bytes)} is not a multiple of 2 MiB (Hyper-V assigns memory in 2 MiB units)`);
  }
  if (s.minimumBytes < DM_MIN_MINIMUM_BYTES) fail('minimum', `${formatSizeShort(s.minimumBytes)} is below Hyper-V's lowest minimum RAM, 32M`);
  if (s.maximumBytes > DM_MAX_MAXIMUM_BYTES) fail('maximum', `${formatSizeShort(s.maximumBytes)} is above Hyper-V's highest maximum RAM, 1T`);
  if (s.minimumBytes > s.startupBytes) {
    fail('minimum', `minimum RAM (${formatSizeShort(s.minimumBytes)}) must not exceed startup RAM (${formatSizeShort(s.startupBytes)})`);
  }
  if (s.startupBytes > s.maximumBytes) {
    fail('maximum', `maximum RAM (${formatSizeShort(s.maximumBytes)}) must be at least startup RAM (${formatSizeShort(s.startupBytes)})`);
  }
  if (!Number.isInteger(s.bufferPercent) || s.bufferPercent < DM_BUFFER_RANGE[0] || s.bufferPercent > DM_BUFFER_RANGE[1]) {
    fail('buffer', `expected a whole percentage from 5 to 2000, got ${JSON.stringify(s.bufferPercent)}`);
  }
  if (!Number.isInteger(s.weight) || s.weight < DM_WEIGHT_RANGE[0] || s.weight > DM_WEIGHT_RANGE[1]) {
    fail('weight', `expected a whole number from 1 to 10000, got ${JSON.stringify(s.weight)}`);
  }
  return s;
}
