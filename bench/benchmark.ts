/**
 * The benchmark harness: a benchmark measures some figures once; the runner repeats it and
 * reports the median of each figure against the benchmark's target. Wall-clock timing lives
 * here in bench/ only, never in the simulated core.
 */
import { BENCHMARKS } from './registry';

export interface BenchTarget {
  /** The figure the target applies to (a key of what run() returns). */
  figure: string;
  op: '>=' | '<=';
  value: number;
  unit: string;
}

export interface Benchmark {
  name: string;
  description: string;
  target: BenchTarget;
  /** One measurement: figure name -> value. Must return the target figure. */
  run(): Record<string, number>;
  /** Measured runs when the caller does not say (a long benchmark asks for fewer). Default DEFAULT_REPEATS. */
  repeats?: number;
  /** Whether an unmeasured warm-up run comes first. Default true. */
  warmUp?: boolean;
  /** Warm-up the benchmark does itself beyond the runner's, for the table ("that also runs 4 untimed phases"). */
  warmUpNote?: string;
  /** At most this many measured runs, whatever --repeats says (for benchmarks that take minutes). */
  maxRepeats?: number;
  /** Runs only when named (`--only <name>`): too long for every `npm run bench`. */
  onlyByName?: boolean;
}

export interface BenchResult {
  name: string;
  description: string;
  /** Median of each figure over the repeats. */
  figures: Record<string, number>;
  target: BenchTarget;
  /** Whether the median of the target figure meets the target. */
  met: boolean;
  repeats: number;
  /** Whether an unmeasured warm-up run came first (benchmarks may opt out with `warmUp: false`). */
  warmUp: boolean;
  /** The benchmark's own warm-up beyond that, when it has one (Benchmark.warmUpNote). */
  warmUpNote?: string;
}

export interface RunOptions {
  /** Measured runs per benchmark, after one unmeasured warm-up run. Default 5. */
  repeats?: number;
  /** Called before each benchmark starts (for progress output). */
  onStart?: (benchmark: Benchmark, index: number, total: number) => void;
}

export const DEFAULT_REPEATS = 5;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function meetsTarget(target: BenchTarget, figures: Record<string, number>): boolean {
  const value = figures[target.figure];
  if (value === undefined || Number.isNaN(value)) return false;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

/** Names in `names` that no registered benchmark has. */
export function unknownBenchmarks(names: readonly string[], benchmarks: readonly Benchmark[] = BENCHMARKS): string[] {
  const known = new Set(benchmarks.map((b) => b.name));
  return names.filter((name) => !known.has(name));
}

/** Runs one benchmark: a warm-up, then `repeats` measured runs; medians per figure. */
export function runBenchmark(benchmark: Benchmark, repeats = DEFAULT_REPEATS): BenchResult {
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new RangeError(`repeats must be a positive integer, got ${String(repeats)}`);
  }
  if (benchmark.maxRepeats !== undefined) repeats = Math.min(repeats, benchmark.maxRepeats);
  if (benchmark.warmUp !== false) benchmark.run();
  const samples: Record<string, number[]> = {};
  for (let i = 0; i < repeats; i++) {
    for (const [figure, value] of Object.entries(benchmark.run())) (samples[figure] ??= []).push(value);
  }
  const figures: Record<string, number> = {};
  for (const [figure, values] of Object.entries(samples)) figures[figure] = median(values);
  return {
    name: benchmark.name,
    description: benchmark.description,
    figures,
    target: benchmark.target,
    met: meetsTarget(benchmark.target, figures),
    repeats,
    warmUp: benchmark.warmUp !== false,
    ...(benchmark.warmUpNote === undefined ? {} : { warmUpNote: benchmark.warmUpNote }),
  };
}

/**
 * Runs the named benchmarks (all registered ones when `names` is absent or empty), in registry
 * order. Throws a RangeError naming any unknown benchmark before running anything.
 */
export function runBenchmarks(names?: readonly string[], opts: RunOptions = {}): BenchResult[] {
  return runBenchmarksFrom(BENCHMARKS, names, opts);
}

export function runBenchmarksFrom(
  benchmarks: readonly Benchmark[],
  names: readonly string[] | undefined,
  opts: RunOptions = {},
): BenchResult[] {
  const unknown = names === undefined ? [] : unknownBenchmarks(names, benchmarks);
  if (unknown.length > 0) {
    throw new RangeError(
      `unknown benchmark ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${benchmarks.map((b) => b.name).join(', ')})`,
    );
  }
  const selected = names === undefined || names.length === 0 ? benchmarks.filter((b) => b.onlyByName !== true) : benchmarks.filter((b) => names.includes(b.name));
  return selected.map((benchmark, index) => {
    opts.onStart?.(benchmark, index, selected.length);
    return runBenchmark(benchmark, opts.repeats ?? benchmark.repeats ?? DEFAULT_REPEATS);
  });
}

/** The JSON shape the CLI prints: `{name, ...figures, target, met}`. */
export function resultToJson(result: BenchResult): Record<string, unknown> {
  return { name: result.name, ...result.figures, target: result.target, met: result.met };
}
