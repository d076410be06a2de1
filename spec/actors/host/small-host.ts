/** The small host the `run host.json` specs run: 8G, the hyperv policy, a busy VM and an idle one, two minutes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes the scenario (plus `extra` top-level fields, e.g. steps) into a new temp folder; returns the folder and the file. */
export function writeSmallHost(prefix: string, extra: Record<string, unknown> = {}): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'host.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'small host',
      host: { memory: '8G', policy: { kind: 'hyperv' } },
      vms: [
        { name: 'web', dynamicMemory: { startup: '2G', minimum: '1G', maximum: '4G' }, workload: { kind: 'demand', shape: 'steady', baseBytes: '2500M' } },
        { name: 'idle', dynamicMemory: { startup: '2G', minimum: '1G', maximum: '4G' } },
      ],
      until: '2min',
      ...extra,
    }),
  );
  return { dir, file };
}
