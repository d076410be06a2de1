/** Benchmark options for long benchmarks: at most maxRepeats runs, no warm-up when asked, and only when named. */
import { runBenchmark, runBenchmarksFrom, type Benchmark } from '../../bench/benchmark';
import { formatTable } from '../../bench/main';

function counting(extra: Partial<Benchmark>): Benchmark & { runs: number } {
  const b = {
    name: 'long',
    description: 'a long one',
    target: { figure: 'x', op: '<=' as const, value: 10, unit: 'ms' },
    runs: 0,
    run() {
      b.runs++;
      return { x: 1 };
    },
    ...extra,
  };
  return b;
}

describe('long benchmarks', () => {
  it('run at most maxRepeats times, without a warm-up when warmUp is false', () => {
    const b = counting({ maxRepeats: 1, warmUp: false });
    const r = runBenchmark(b, 5);
    expect(b.runs).toBe(1);
    expect(r.repeats).toBe(1);
  });

  it('are left out of a full run and run when named', () => {
    const long = counting({ onlyByName: true });
    const short = counting({ name: 'short' });
    expect(runBenchmarksFrom([short, long], undefined, { repeats: 1 }).map((r) => r.name)).toEqual(['short']);
    expect(runBenchmarksFrom([short, long], ['long'], { repeats: 1 }).map((r) => r.name)).toEqual(['long']);
  });

  it('the table says which benchmarks ran without a warm-up, and how many times', () => {
    const short = counting({ name: 'short' });
    const long = counting({ maxRepeats: 1, warmUp: false });
    const table = formatTable(runBenchmarksFrom([short, long], ['short', 'long'], { repeats: 3 }));
    expect(table).toContain('medians of 3 runs after one warm-up (long: 1 runs, no warm-up)');
    expect(formatTable([runBenchmark(counting({ warmUp: false }), 2)])).toContain('medians of 2 runs, no warm-up\n');
  });

  it('the table names a warm-up a benchmark does itself beyond the runner\'s', () => {
    const plain = counting({ name: 'plain' });
    const phases = counting({ name: 'phases', warmUpNote: 'that also runs 4 untimed phases' });
    const table = formatTable(runBenchmarksFrom([plain, phases], ['plain', 'phases'], { repeats: 2 }));
    expect(table).toContain('medians of 2 runs after one warm-up (phases: 2 runs after one warm-up that also runs 4 untimed phases)');
  });
});
