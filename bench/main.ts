/** `hv-balloon-sim bench`: run the benchmarks and print their medians beside their targets. */
import { spawnSync } from 'node:child_process';
import type { CliIo } from '../actors/cli/cli-io';
import { processIo } from '../actors/cli/cli-io';
import { packagePath } from '../actors/package-root';
import { DEFAULT_REPEATS, resultToJson, runBenchmarksFrom, unknownBenchmarks, type Benchmark, type BenchResult } from './benchmark';
import { BENCHMARKS } from './registry';

export interface BenchArgs {
  /** Print a JSON array of `{name, ...figures, target, met}` instead of a table. */
  json: boolean;
  /** Benchmark names to run; all when absent or empty. */
  only?: string[];
  /** Measured runs per benchmark (after one warm-up). Default 5. */
  repeats?: number;
  /**
   * Run each benchmark in a fresh Node process. Benchmarks sharing a process disturb each other
   * through the heap and the JIT (range-tree-merge-1M measured ~40% slower after bus-messages);
   * the CLI isolates them, specs run in process.
   */
  isolate?: boolean;
}

/**
 * Exit codes: 0 every target met, 1 a target missed, 2 bad arguments (unknown name, bad repeats).
 * `benchmarks` defaults to the registry (specs pass their own).
 */
export function benchCommand(args: BenchArgs, io: CliIo = processIo, benchmarks: readonly Benchmark[] = BENCHMARKS): number {
  const unknown = unknownBenchmarks(args.only ?? [], benchmarks);
  if (unknown.length > 0) {
    io.stderr(
      `hv-balloon-sim: unknown benchmark ${unknown.map((n) => JSON.stringify(n)).join(', ')} (known: ${benchmarks.map((b) => b.name).join(', ')})\n`,
    );
    return 2;
  }
  const repeats = args.repeats ?? DEFAULT_REPEATS;
  // Without --repeats, a long benchmark (the soak) runs the fewer times it asks for.
  const repeatsOf = (benchmark: Benchmark): number => args.repeats ?? benchmark.repeats ?? DEFAULT_REPEATS;
  if (!Number.isInteger(repeats) || repeats < 1) {
    io.stderr(`hv-balloon-sim: --repeats must be a positive integer, got ${String(args.repeats)}\n`);
    return 2;
  }
  const onStart = (benchmark: Benchmark, index: number, total: number): void =>
    io.stderr(`running ${benchmark.name} (${index + 1}/${total}, ${Math.min(repeatsOf(benchmark), benchmark.maxRepeats ?? Infinity)} runs${benchmark.warmUp === false ? '' : ' + warm-up'})\n`);
  const selected = args.only && args.only.length > 0 ? benchmarks.filter((b) => args.only!.includes(b.name)) : benchmarks.filter((b) => b.onlyByName !== true);
  const results =
    args.isolate === true && selected.length > 1
      ? selected.map((benchmark, index) => {
          onStart(benchmark, index, selected.length);
          return runIsolated(benchmark, repeatsOf(benchmark));
        })
      : runBenchmarksFrom(benchmarks, args.only, { ...(args.repeats === undefined ? {} : { repeats }), onStart });
  io.stdout(args.json ? `${JSON.stringify(results.map(resultToJson), null, 2)}\n` : formatTable(results));
  return results.every((r) => r.met) ? 0 : 1;
}

export function formatFigure(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  return value.toFixed(magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3);
}

/** One row per benchmark (target figure, target, met), then its other figures indented. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows = results.map((r) => {
    const figure = r.figures[r.target.figure];
    return [
      r.name,
      `${r.target.figure} ${figure === undefined ? '(missing)' : `${formatFigure(figure)} ${r.target.unit}`}`,
      `${r.target.op} ${formatFigure(r.target.value)} ${r.target.unit}`,
      r.met ? '✓' : '✗',
    ];
  });
  const header = ['benchmark', 'median', 'target', 'met'];
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((row) => row[col].length)));
  const line = (cells: readonly string[]): string => `${cells.map((c, col) => c.padEnd(widths[col])).join('  ').trimEnd()}\n`;
  let out = line(header);
  results.forEach((r, i) => {
    out += line(rows[i]);
    const others = Object.entries(r.figures).filter(([name]) => name !== r.target.figure);
    if (others.length > 0) out += `    ${others.map(([name, value]) => `${name} ${formatFigure(value)}`).join(', ')}\n`;
  });
  out += `${runsLine(results)}\n`;
  return out;
}

/** How the medians were taken: the common case, then each benchmark that differs from it. */
function runsLine(results: readonly BenchResult[]): string {
  const describe = (repeats: number, warmUp: boolean, note?: string): string =>
    `${repeats} runs${warmUp ? ' after one warm-up' : ', no warm-up'}${note === undefined ? '' : ` ${note}`}`;
  const of = (r: BenchResult): string => describe(r.repeats, r.warmUp, r.warmUpNote);
  const first = results[0];
  const common = first ? of(first) : describe(DEFAULT_REPEATS, true);
  const others = results.filter((r) => of(r) !== common).map((r) => `${r.name}: ${of(r)}`);
  return `medians of ${common}${others.length > 0 ? ` (${others.join('; ')})` : ''}`;
}

/** Runs one benchmark in a child process (`bench --only NAME --json`) and reads its result back. */
function runIsolated(benchmark: Benchmark, repeats: number): BenchResult {
  const bin = packagePath('bin', 'hv-balloon-sim.js');
  const child = spawnSync(process.execPath, [bin, 'bench', '--only', benchmark.name, '--json', '--repeats', String(repeats)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  // Exit 1 only says the target was missed; the JSON is there all the same.
  const parsed = child.stdout ? (JSON.parse(child.stdout) as Array<Record<string, unknown>>) : [];
  const json = parsed[0];
  if (child.status !== 0 && child.status !== 1) throw new Error(`benchmark ${benchmark.name} failed: ${child.stderr.trim()}`);
  if (!json) throw new Error(`benchmark ${benchmark.name} printed no result: ${child.stderr.trim()}`);
  const figures: Record<string, number> = {};
  for (const [key, value] of Object.entries(json)) if (typeof value === 'number') figures[key] = value;
  return {
    name: benchmark.name,
    description: benchmark.description,
    figures,
    target: benchmark.target,
    met: json.met === true,
    // The child caps the runs at maxRepeats, as runBenchmark does in process.
    repeats: Math.min(repeats, benchmark.maxRepeats ?? Infinity),
    warmUp: benchmark.warmUp !== false,
    ...(benchmark.warmUpNote === undefined ? {} : { warmUpNote: benchmark.warmUpNote }),
  };
}
