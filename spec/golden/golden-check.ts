/** Shared by the golden specs: replay a run and compare it with its fixture, failing with the first differing line. */
import { existsSync, readFileSync } from 'node:fs';
import { compareGoldenTrace } from '../../actors/golden-trace/golden-compare';
import { goldenPath, type GoldenRun } from '../../actors/golden-trace/golden-runs';
import { recordGoldenTrace } from '../../actors/golden-trace/record-golden';

export function expectGoldenTrace(run: GoldenRun, options: { stepByStep?: boolean } = {}): void {
  const path = goldenPath(run.name);
  if (!existsSync(path)) throw new Error(`${run.name} (${run.source}) has no golden trace at ${path}: record it with npm run golden:record -- ${run.name}`);
  const difference = compareGoldenTrace(readFileSync(path, 'utf8'), recordGoldenTrace(run, options));
  if (difference !== null) {
    throw new Error(
      `${run.name} (${run.source})${options.stepByStep ? ' with the device step by step' : ''} no longer does what its golden trace says.\n${difference.report}` +
        'If this change of behaviour is deliberate, re-record with npm run golden:record -- ' +
        `${run.name} and name the change in the commit (docs/benchmarks.md, "Golden traces").`,
    );
  }
}
