/**
 * Every example VM scenario, the TypeScript examples' runs and a small virtio-balloon run do
 * exactly what their golden traces say: every DM message, trace point, warning, guest log line,
 * QMP event and reply at the same virtual µs, and the same final counters. The contract every
 * optimisation keeps (docs/benchmarks.md, "Golden traces").
 */
import { readdirSync } from 'node:fs';
import { GOLDEN_DIR, goldenRuns } from '../../actors/golden-trace/golden-runs';
import { TERABYTE_SCENARIO } from '../../actors/golden-trace/terabyte-run';
import { expectGoldenTrace } from './golden-check';

const runs = goldenRuns().filter((r) => r.name !== TERABYTE_SCENARIO.name);

describe('golden traces of the examples', () => {
  it.each(runs.map((r) => [r.name, r] as const))('%s replays its golden trace exactly', (_name, run) => {
    expectGoldenTrace(run);
  });

  // What --inspect runs (every loop step of the device its own XState step) is the same run.
  it.each(runs.map((r) => [r.name, r] as const))('%s replays its golden trace exactly with the device step by step', (_name, run) => {
    expectGoldenTrace(run, { stepByStep: true });
  });

  it('covers every example VM scenario and the QEMU 10 rig replays, and every fixture belongs to a run', () => {
    const names = goldenRuns().map((r) => r.name);
    for (const expected of ['reboot', 'shrink-and-grow', 'hot-add-past-boot', 'windows-guest', 'compare-200g', 'qemu-10-rig-A-shrink', 'qemu-10-rig-C-shrink-grow-reboot']) {
      expect(names).toContain(expected);
    }
    const fixtures = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.trace')).map((f) => f.replace(/\.trace$/, ''));
    expect(fixtures.sort()).toEqual([...names].sort());
  });
});
