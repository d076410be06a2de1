/**
 * The 1 TiB run (a 1032 GiB Linux guest ballooned towards 8 GiB, then given 256 GiB back; the run
 * vm-balloon-1t measures) does exactly what its golden trace says: 2,320 DM messages and 6,301
 * device trace points at the same virtual µs, the same final accounting.
 */
import { goldenRuns } from '../../actors/golden-trace/golden-runs';
import { TERABYTE_SCENARIO } from '../../actors/golden-trace/terabyte-run';
import { expectGoldenTrace } from './golden-check';

describe('golden trace of the 1 TiB run', () => {
  it('replays its golden trace exactly', () => {
    const run = goldenRuns().find((r) => r.name === TERABYTE_SCENARIO.name);
    expect(run).toBeDefined();
    expectGoldenTrace(run!);
  });
});
