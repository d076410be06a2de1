/**
 * The virtio-balloon device's configuration as a scenario writes it (`"device": {"model":
 * "virtio-balloon", ...}`), checked with errors that name the field and the value.
 */
import { MAX_STATS_POLL_INTERVAL_S } from './constants';
import type { VirtioBalloonDeviceConfig } from './virtio-balloon-device.machine';

/** hv-balloon's options: meaningless for virtio-balloon, and why. */
const HV_ONLY: Readonly<Record<string, string>> = {
  memdev: 'hot-add from a memory backend is hv-balloon\'s; virtio-balloon has no memdev and cannot grow a guest past its boot size',
  memdevId: 'hot-add from a memory backend is hv-balloon\'s; virtio-balloon has no memdev',
  addr: 'the hot-add window address is hv-balloon\'s; virtio-balloon has no memdev',
  hugepages: 'a hugepage memdev is hv-balloon\'s; virtio-balloon has no memdev',
  statusReport: 'status reports are hv-balloon\'s; virtio-balloon\'s guest statistics are polled: set device.guestStatsPollingInterval',
};

/** virtio-balloon's options: an error if given with the hv-balloon model. */
export const VIRTIO_ONLY_FIELDS = ['deflateOnOom', 'guestStatsPollingInterval'] as const;

export class VirtioConfigError extends Error {
  override readonly name = 'VirtioConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Check a `device` object with model "virtio-balloon"; `path` is its field path ("device"). */
export function normalizeVirtioDevice(raw: Record<string, unknown>, path: string): VirtioBalloonDeviceConfig {
  for (const [key, value] of Object.entries(raw)) {
    const why = HV_ONLY[key];
    if (why !== undefined) throw new VirtioConfigError(`${path}.${key}`, `${path}.${key} ${JSON.stringify(value)}: ${why}`);
    if (!['model', 'id', ...VIRTIO_ONLY_FIELDS].includes(key)) {
      throw new VirtioConfigError(`${path}.${key}`, `${path}.${key}: unknown field for virtio-balloon (expected one of: model, id, ${VIRTIO_ONLY_FIELDS.join(', ')})`);
    }
  }
  const id = raw.id ?? 'balloon0';
  if (typeof id !== 'string' || id === '') throw new VirtioConfigError(`${path}.id`, `${path}.id: expected a non-empty string, got ${JSON.stringify(raw.id)}`);
  const deflateOnOom = raw.deflateOnOom ?? false;
  if (typeof deflateOnOom !== 'boolean') {
    throw new VirtioConfigError(`${path}.deflateOnOom`, `${path}.deflateOnOom: expected true or false, got ${JSON.stringify(raw.deflateOnOom)}`);
  }
  const interval = raw.guestStatsPollingInterval ?? 0;
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 0 || interval > MAX_STATS_POLL_INTERVAL_S) {
    throw new VirtioConfigError(
      `${path}.guestStatsPollingInterval`,
      `${path}.guestStatsPollingInterval: expected whole seconds 0..${MAX_STATS_POLL_INTERVAL_S} (0: off), got ${JSON.stringify(raw.guestStatsPollingInterval)}`,
    );
  }
  return { id, deflateOnOom, statsPollingIntervalS: interval };
}
