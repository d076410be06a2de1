/** The benchmark harness: medians over repeats, targets, selection by name, and what `bench` prints. */

import { runCli } from '../../actors/cli/main';
import { median, runBenchmarksFrom, type Benchmark } from '../../bench/benchmark';
import { benchCommand } from '../../bench/main';

/** A benchmark whose runs return the given figures in turn (the first is the warm-up). */
function scripted(name: string, runs: Array<Record<string, number>>, target: Benchmark['target']): Benchmark & { calls: number } {
  const bench = {
    name,
    description: `scripted ${name}`,
    target,
    calls: 0,
    run(): Record<string, number> {
      const figures = runs[Math.min(bench.calls, runs.length - 1)];
      bench.calls++;
      return figures;
    },
  };
  return bench;
}

function collector(): { io: { stdout: (t: string) => void; stderr: (t: string) => void }; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (t) => {
        stdout += t;
      },
      stderr: (t) => {
        stderr += t;
      },
    },
    out: () => stdout,
    err: () => stderr,
  };
}

const fastTarget = { figure: 'wallMs', op: '<=' as const, value: 100, unit: 'ms' };

describe('runBenchmarks', () => {
  it('runs a warm-up, then reports the median of each figure over the repeats', () => {
    // The warm-up (first) run is an outlier that must not count.
    const bench = scripted(
      'b',
      [{ wallMs: 9999, ops: 0 }, { wallMs: 50, ops: 1 }, { wallMs: 500, ops: 3 }, { wallMs: 40, ops: 2 }],
      fastTarget,
    );
    const [result] = runBenchmarksFrom([bench], undefined, { repeats: 3 });
    expect(bench.calls).toBe(4);
    expect(result.figures).toEqual({ wallMs: 50, ops: 2 });
    expect(result.met).toBe(true);
    expect(result.repeats).toBe(3);
  });

  it('marks a target missed when the median is on the wrong side, for both directions', () => {
    const slow = scripted('slow', [{ wallMs: 150 }], fastTarget);
    const rate = scripted('rate', [{ perSec: 10 }], { figure: 'perSec', op: '>=', value: 20, unit: '/s' });
    const missing = scripted('missing', [{ other: 1 }], fastTarget);
    const results = runBenchmarksFrom([slow, rate, missing], undefined, { repeats: 1 });
    expect(results.map((r) => r.met)).toEqual([false, false, false]);
  });

  it('runs only the named benchmarks, in registry order, and rejects unknown names before running any', () => {
    const a = scripted('a', [{ wallMs: 1 }], fastTarget);
    const b = scripted('b', [{ wallMs: 1 }], fastTarget);
    const c = scripted('c', [{ wallMs: 1 }], fastTarget);
    expect(runBenchmarksFrom([a, b, c], ['c', 'a'], { repeats: 1 }).map((r) => r.name)).toEqual(['a', 'c']);
    expect(b.calls).toBe(0);
    expect(() => runBenchmarksFrom([a, b, c], ['b', 'nope'], { repeats: 1 })).toThrow(/unknown benchmark "nope" \(known: a, b, c\)/);
    expect(b.calls).toBe(0);
  });

  it('takes the mean of the middle two for an even number of repeats', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
});

describe('benchCommand output', () => {
  const ok = scripted('ok-bench', [{ wallMs: 12.5, ranges: 3 }], fastTarget);
  const bad = scripted('bad-bench', [{ wallMs: 250 }], fastTarget);

  it('--json prints {name, ...figures, target, met} per benchmark and exits 1 when a target is missed', () => {
    const c = collector();
    const code = benchCommand({ json: true, repeats: 1 }, c.io, [ok, bad]);
    expect(code).toBe(1);
    expect(JSON.parse(c.out())).toEqual([
      { name: 'ok-bench', wallMs: 12.5, ranges: 3, target: fastTarget, met: true },
      { name: 'bad-bench', wallMs: 250, target: fastTarget, met: false },
    ]);
  });

  it('the table shows each target figure beside its target with ✓ or ✗, and the other figures', () => {
    const c = collector();
    expect(benchCommand({ json: false, only: ['ok-bench'], repeats: 1 }, c.io, [ok, bad])).toBe(0);
    const lines = c.out().split('\n');
    expect(lines[0]).toMatch(/^benchmark\s+median\s+target\s+met$/);
    expect(lines[1]).toMatch(/^ok-bench\s+wallMs 12\.50 ms\s+<= 100 ms\s+✓$/);
    expect(lines[2]).toBe('    ranges 3');
    expect(c.out()).not.toContain('bad-bench');
  });

  it('an unknown name exits 2 with one line naming it and the known ones', () => {
    const c = collector();
    expect(benchCommand({ json: false, only: ['nope'] }, c.io, [ok])).toBe(2);
    expect(c.err()).toBe('hv-balloon-sim: unknown benchmark "nope" (known: ok-bench)\n');
    expect(c.out()).toBe('');
  });
});

describe('hv-balloon-sim bench (CLI)', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const c = collector();
    const code = await runCli(argv, c.io);
    return { code, out: c.out(), err: c.err() };
  }

  it('rejects an unknown benchmark name with one line, before running anything', async () => {
    const run = await cli('bench', '--only', 'no-such-bench');
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toMatch(/^hv-balloon-sim: unknown benchmark "no-such-bench" \(known: [^\n]*range-tree-merge-1M[^\n]*\)\n$/);
  });

  it('rejects a bad --repeats value, naming it', async () => {
    const run = await cli('bench', '--repeats', 'three');
    expect(run.code).toBe(2);
    expect(run.err).toBe('hv-balloon-sim: bad --repeats "three": must be a positive integer\n');
  });
});
