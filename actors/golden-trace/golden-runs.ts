/**
 * The runs that have golden traces: every VM scenario among the examples (a new example gets one
 * too; host and sweep files are not one VM), the scenarios in spec/fixtures/golden-traces/scenarios/
 * (what the TypeScript examples do, as scenarios at the times those examples reach, and a small
 * virtio-balloon run), and the 1 TiB run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { loadScenarioFile, type Scenario } from '../scenario/scenario';
import { PACKAGE_ROOT, packagePath } from '../package-root';
import { TERABYTE_SCENARIO } from './terabyte-run';

export interface GoldenRun {
  /** The fixture's name: spec/fixtures/golden-traces/<name>.trace. */
  name: string;
  /** Where the scenario comes from (a path inside the repository, or the module that defines it). */
  source: string;
  load(): Scenario;
}

/** Where the golden traces live in the repository. */
export const GOLDEN_DIR = packagePath('spec', 'fixtures', 'golden-traces');
export const GOLDEN_SCENARIO_DIR = join(GOLDEN_DIR, 'scenarios');

export function goldenPath(name: string): string {
  return join(GOLDEN_DIR, `${name}.trace`);
}

/** A scenario file of one VM (not a host's `vms`, not a sweep's `base`/`axes`). */
function isVmScenario(path: string): boolean {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return !('vms' in json) && !('host' in json) && !('axes' in json) && !('base' in json);
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

function fileRun(path: string, prefix = ''): GoldenRun {
  return { name: prefix + basename(path, '.json'), source: relative(PACKAGE_ROOT, path), load: () => loadScenarioFile(path) };
}

export function goldenRuns(): GoldenRun[] {
  const examples = jsonFiles(packagePath('examples')).filter(isVmScenario).map((p) => fileRun(p));
  const rig = jsonFiles(packagePath('examples', 'qemu-10-rig')).map((p) => fileRun(p, 'qemu-10-rig-'));
  const written = jsonFiles(GOLDEN_SCENARIO_DIR).map((p) => fileRun(p));
  const terabyte: GoldenRun = { name: TERABYTE_SCENARIO.name, source: 'actors/golden-trace/terabyte-run.ts', load: () => TERABYTE_SCENARIO };
  return [...examples, ...rig, ...written, terabyte];
}
