/**
 * A recorded host run (`run host.json --record run.json`): one recording per VM, each what
 * `run <scenario> --record` writes for a single VM, and the host overview (host/host-view-model.ts:
 * the host's and every VM's sampled series, the policy's decisions). `view run.json` shows the
 * overview, each VM's detail a click away; `--vm <name>` names one VM's detail.
 */
import { RecordingError, parseRecording } from './view-source';
import type { ViewRecording } from './view-model';
import type { HostViewModelJson } from './host/host-view-model';

export const HOST_RECORDING_FORMAT = 'hv-balloon-sim-host-recording';

export interface HostRecording {
  format: typeof HOST_RECORDING_FORMAT;
  version: 1;
  host: { name: string; description?: string; source?: string };
  vms: { name: string; recording: ViewRecording }[];
  /** The host overview; absent in recordings made before it existed. */
  overview?: HostViewModelJson;
}

export function isHostRecording(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === HOST_RECORDING_FORMAT;
}

/** The recording of the VM called `vm` (the first without a name); RecordingError names the VMs there are. */
export function pickHostVmRecording(value: unknown, source: string, vm: string | undefined): { name: string; names: string[]; recording: ViewRecording } {
  const r = value as Partial<HostRecording>;
  if (!isHostRecording(value) || !Array.isArray(r.vms) || r.vms.length === 0) {
    throw new RecordingError(`${source}: not a recorded host run (expected "format": "${HOST_RECORDING_FORMAT}" with "vms"; make one with run <host.json> --record ${source})`);
  }
  const names = r.vms.map((v) => String((v as { name?: unknown }).name));
  const index = vm === undefined ? 0 : names.indexOf(vm);
  if (index < 0) throw new RecordingError(`--vm ${JSON.stringify(vm)}: no VM of that name in ${source} (VMs: ${listNames(names)})`);
  return { name: names[index]!, names, recording: parseRecording(r.vms[index]!.recording, `${source} (VM ${names[index]})`) };
}

/** VM names for an error: all of a small host, the first 20 of a big one. */
export function listNames(names: readonly string[]): string {
  return names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')}, ... (${names.length} in all)`;
}
