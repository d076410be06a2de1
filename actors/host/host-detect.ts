/** Whether a scenario file is a host scenario ("host" or "vms" at its top level); false when unreadable (the VM loader reports that). */
import { readFileSync } from 'node:fs';
import { isHostScenario } from './host-config';

export function readHostScenarioJson(path: string): boolean {
  try {
    return isHostScenario(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return false;
  }
}
