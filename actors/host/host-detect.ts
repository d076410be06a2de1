/**
 * Whether a scenario file is a host scenario ("host" or "vms" at its top level); false when
 * unreadable (the VM loader reports that). Imports nothing of the simulator: `run` asks it before
 * loading either runner (the CLI starts fast).
 */
import { readFileSync } from 'node:fs';

export function readHostScenarioJson(path: string): boolean {
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof json === 'object' && json !== null && ('host' in json || 'vms' in json);
  } catch {
    return false;
  }
}
