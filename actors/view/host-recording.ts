/**
 * A recorded host run (`run host.json --record run.json`): one recording per VM, each what
 * `run <scenario> --record` writes for a single VM. `view run.json` shows one VM of it at a time
 * (`--vm <name>` picks which; the first by default): the view stays a view of one VM.
 */
import { RecordingError, parseRecording } from './view-source';
import type { ViewRecording } from './view-model';

export const HOST_RECORDING_FORMAT = 'hv-balloon-sim-host-recording';

export interface HostRecording {
  format: typeof HOST_RECORDING_FORMAT;
  version: 1;
  host: { name: string; description?: string; source?: string };
  vms: { name: string; recording: ViewRecording }[];
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
  if (index < 0) throw new RecordingError(`--vm ${JSON.stringify(vm)}: no VM of that name in ${source} (VMs: ${names.join(', ')})`);
  return { name: names[index]!, names, recording: parseRecording(r.vms[index]!.recording, `${source} (VM ${names[index]})`) };
}
