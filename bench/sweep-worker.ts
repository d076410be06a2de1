/**
 * One sweep worker's life, measured: loads what a pool worker loads, then runs the `sweep-1000`
 * scenarios one after another as a worker does (runTask, then the outcome serialized for its
 * reply), and prints the CPU time of the load and of each window of runs. Run it with the workers'
 * V8 flags (WORKER_NODE_FLAGS in actors/sweep/run-pool.ts) or others to compare them; add V8's
 * `--trace-opt --trace-deopt` or `--trace-pretenuring` to see what it compiles and throws away when
 * (the `#runs` lines mark the windows in that output). Where a worker's fixed cost is and how far a
 * sweep of N runs can scale on N/2 runs per worker: docs/benchmarks.md, sweep-1000.
 *
 *   npm run build && node --single-threaded --no-allocation-site-pretenuring --max-inlined-bytecode-size-cumulative=150 dist/bench/sweep-worker.js [runs=1000] [window=100]
 */
// perf-measure.ts loads nothing but node:os (its other imports are types), so the load below is timed alone.
const { cpuNowMs: cpuMs } = require('./perf-measure') as typeof import('./perf-measure');
const atStart = cpuMs();
const { loadRunners } = require('../actors/sweep/scenario-kinds') as typeof import('../actors/sweep/scenario-kinds');
const { runTask, serializeOutcome } = require('../actors/sweep/run-task') as typeof import('../actors/sweep/run-task');
loadRunners();
const loaded = cpuMs();
const { parseSweep } = require('../actors/sweep/sweep-file') as typeof import('../actors/sweep/sweep-file');
const { taskOf } = require('../actors/sweep/sweep-runner') as typeof import('../actors/sweep/sweep-runner');
const { SWEEP } = require('./sweep.bench') as typeof import('./sweep.bench');

const runs = Number(process.argv[2] ?? 1000);
const window = Number(process.argv[3] ?? 100);
// The seeds are set after the check: a pool worker checks nothing, and checking a thousand scenarios would warm its parsers.
const sweep = parseSweep({ ...SWEEP, axes: { seed: [1] } }, 'sweep-worker');
sweep.axes[0].values = Array.from({ length: runs }, (_, i) => i + 1);
sweep.runs = runs;
// Made before the first run and kept apart from it: a pool worker receives its tasks ready made.
const tasks = Array.from({ length: runs }, (_, i) => taskOf(sweep, i));
const windows: string[] = [];
let last = cpuMs();
const started = last;
console.log(`#runs 0: process ${Math.round(atStart)} ms of CPU before this script, loading ${Math.round(loaded - atStart)} ms`);
for (let i = 0; i < runs; i++) {
  const outcome = serializeOutcome(runTask(tasks[i]));
  if (outcome.status !== 'ok') throw new Error(`run ${i}: ${outcome.error}`);
  if ((i + 1) % window === 0 || i + 1 === runs) {
    const now = cpuMs();
    windows.push(`${i + 1}: ${Math.round(now - last)}`);
    console.log(`#runs ${i + 1}: ${Math.round(now - last)} ms of CPU`);
    last = now;
  }
}
const total = cpuMs();
console.log(
  `sweep-worker: ${runs} runs, CPU ms by window (runs so far: ms) ${windows.join(', ')}; runs ${Math.round(total - started)} ms, with loading ${Math.round(total - atStart)} ms (Node's own start before it: ${Math.round(atStart)} ms)`,
);
