/**
 * sweep-1000: 1,000 short scenarios through `hv-balloon-sim sweep`, once on one worker process and
 * once on one per core; runs per second of each and the speed-up. Each sweep runs in its own
 * process (the CLI), as a user runs it, timed (its `wallMs`) from when the sweep command starts,
 * before it reads the sweep file: the pool's worker processes start then, and load the simulator
 * while the sweep process reads and checks the file, so the time holds the pool's whole start and
 * the file's check, with one worker as with all. (Until session 4 the time started after the
 * check, when the pool was started.) Node's own start and the CLI's loading are outside it.
 *
 * On a machine other jobs share, wall time measures the machine as much as the pool: a sweep on
 * two workers gets two cores only if nobody else wants them. So beside the speed-up it reports
 * what depends less on load: CPU per run with one worker and with all (the runs cost the same;
 * each extra worker adds its own start, about a second of CPU to load the simulator and let V8
 * compile it), and the cores each sweep got (CPU ÷ wall: a one-worker sweep should use one core, an
 * all-worker sweep one per worker), and the load average before and after; and a yardstick, the
 * speed-up the machine gives a plain CPU loop run as that many processes (machineSpeedup): the
 * sweep's speed-up over it says how much of what the machine offers the sweep takes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../actors/package-root';
import type { Benchmark } from './benchmark';

/** A 4 GiB Linux guest balloons to 3 GiB once the post-init wait is over: ~25 ms of simulation each. */
export const SWEEP = {
  name: 'sweep-1000',
  base: { machine: { memory: '4G' }, device: { statusReport: true }, guest: { profile: 'linux' }, steps: [{ at: '55s', hmp: 'balloon 3072' }], until: '60s' },
  axes: { seed: '1..1000' },
};

interface SweepJson {
  ok: number;
  wallMs: number;
  cpuMs: number;
  runsPerSecond: number;
}

function sweepOnce(file: string, out: string, workers: number, runs: number, label: string): SweepJson {
  const bin = packagePath('bin', 'hv-balloon-sim.js');
  const child = spawnSync(process.execPath, [bin, 'sweep', file, '--json', '--restart', '--workers', String(workers), '--out', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`${label} with ${workers} worker(s) failed: ${child.stderr.trim()}`);
  const json = JSON.parse(child.stdout) as SweepJson;
  if (json.ok !== runs) throw new Error(`${label}: only ${json.ok} of ${runs} runs ok`);
  return json;
}

/** The yardsticks' loops: arithmetic only, and short-lived objects, arrays and sets (as a run makes, without the simulator). */
const YARDSTICK_LOOPS = {
  cpu: 'let x = 0; for (let i = 0; i < 1.5e8; i++) x = (x + i * 7) % 1000003; if (x < 0) console.log(x);',
  alloc:
    'let keep = []; let s = 0; for (let i = 0; i < 1.2e7; i++) { const o = { a: i, b: [i, i + 1, i + 2], c: new Set([i]) }; s += o.b[1] + o.c.size; if ((i & 1023) === 0) { keep.push(o); if (keep.length > 2000) keep = []; } } if (s < 0) console.log(s);',
} as const;

/**
 * The machine's own parallel speed-up right now: `copies` processes of a fixed loop at once against
 * one alone (wall time). On idle cores it is `copies`; on cores other jobs (or the hypervisor) take,
 * less. The sweep cannot scale better than this yardstick, whatever its pool. The `cpu` loop
 * allocates nothing; the `alloc` loop allocates as hard as a run does (single-threaded, like the
 * workers), so it also feels what two allocating processes cost each other on this host (caches,
 * memory bandwidth, a neighbour's load): on the shared two-vCPU machine of session 6 it read
 * 1.08-1.97 in consecutive rounds where the `cpu` loop read 1.85-1.95.
 */
function machineSpeedup(copies: number, kind: keyof typeof YARDSTICK_LOOPS): number {
  const script = `
    const { spawn } = require('node:child_process');
    const loop = ${JSON.stringify(YARDSTICK_LOOPS[kind])};
    const flags = ${JSON.stringify(kind === 'alloc' ? ['--single-threaded'] : [])};
    const wall = async (n) => {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => spawn(process.execPath, [...flags, '-e', loop]).on('exit', resolve))));
      return performance.now() - t0;
    };
    (async () => {
      const one = await wall(1);
      const many = await wall(${copies});
      process.stdout.write(String((${copies} * one) / many));
    })();`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`sweep benchmark: the machine yardstick (${kind}) failed: ${child.stderr.trim()}`);
  return Number(child.stdout);
}

/** The sweep benchmarks' figures: both sweeps' speeds, the speed-up, CPU per run and cores used, the yardstick. */
function measureSweeps(sweep: object, runs: number, label: string): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'hvb-sweep-bench-'));
  try {
    const file = join(dir, `${label}.json`);
    writeFileSync(file, JSON.stringify(sweep));
    const load = loadavg()[0];
    const workers = availableParallelism();
    const machineBefore = machineSpeedup(workers, 'cpu');
    const allocBefore = machineSpeedup(workers, 'alloc');
    const one = sweepOnce(file, join(dir, 'one.jsonl'), 1, runs, label);
    const all = sweepOnce(file, join(dir, 'all.jsonl'), workers, runs, label);
    const machine = (machineBefore + machineSpeedup(workers, 'cpu')) / 2;
    const machineAlloc = (allocBefore + machineSpeedup(workers, 'alloc')) / 2;
    const speedup = one.wallMs / all.wallMs;
    return {
      efficiency: Math.round((speedup / workers) * 100) / 100,
      speedup: Math.round(speedup * 100) / 100,
      // What `workers` copies of a plain CPU loop gained on this machine around the sweeps, and the sweep's share of it.
      machineSpeedup: Math.round(machine * 100) / 100,
      efficiencyVsMachine: Math.round((speedup / machine) * 100) / 100,
      // The same for copies of a loop that allocates as hard as a run: what this host gives processes like the workers.
      machineSpeedupAlloc: Math.round(machineAlloc * 100) / 100,
      efficiencyVsMachineAlloc: Math.round((speedup / machineAlloc) * 100) / 100,
      workers,
      runsPerSec1: one.runsPerSecond,
      runsPerSecAll: all.runsPerSecond,
      wallMs1: one.wallMs,
      wallMsAll: all.wallMs,
      cpuMs1: one.cpuMs,
      cpuMsAll: all.cpuMs,
      // CPU (the sweep's process and its workers) per run: equal figures mean the extra workers add no work.
      cpuMsPerRun1: Math.round((one.cpuMs / runs) * 100) / 100,
      cpuMsPerRunAll: Math.round((all.cpuMs / runs) * 100) / 100,
      // Cores each sweep kept busy: about 1 and `workers` when the machine had them to give.
      coresUsed1: Math.round((one.cpuMs / one.wallMs) * 100) / 100,
      coresUsedAll: Math.round((all.cpuMs / all.wallMs) * 100) / 100,
      loadAvgAtStart: Math.round(load * 100) / 100,
      loadAvgAtEnd: Math.round(loadavg()[0] * 100) / 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const sweep1000Bench: Benchmark = {
  name: 'sweep-1000',
  description: '1,000 short scenarios (seeds of one balloon step) through `sweep`: runs per second on 1 worker process and on one per core, the speed-up, CPU per run and cores used',
  target: { figure: 'efficiency', op: '>=', value: 0.8, unit: 'x linear' },
  // Each measurement is two 1,000-run sweeps in fresh processes (each loads the simulator itself): a warm-up warms nothing.
  warmUp: false,
  run: () => measureSweeps(SWEEP, 1000, 'sweep-1000'),
};

/**
 * sweep-ring-1000: the same measurement on runs of the length a user's sweep has, the base of
 * examples/sweep-ring-sizes.json (an 8 GiB Linux guest shrunk to 2 GiB with a workload, 85 s of
 * virtual time; about 9 ms of CPU, three times a sweep-1000 run) over its four ring sizes and 250
 * seeds. Each worker process still pays its start and V8's compiling once; here that is a smaller
 * share of its runs, so this figure is nearer to how the pool itself scales.
 */
export function ringSweep(): object {
  const example = JSON.parse(readFileSync(packagePath('examples', 'sweep-ring-sizes.json'), 'utf8')) as { base: object; figures: object };
  return { name: 'sweep-ring-1000', base: example.base, figures: example.figures, axes: { 'channel.ringBytes': ['4128', '8K', '16K', '64K'], seed: '1..250' } };
}

export const sweepRing1000Bench: Benchmark = {
  name: 'sweep-ring-1000',
  description: '1,000 runs of the ring-sizes example (4 ring sizes x 250 seeds, about 3x a sweep-1000 run) through `sweep` on 1 worker process and on one per core: the pool\'s speed-up when a worker\'s start is a small part of its work',
  target: { figure: 'efficiency', op: '>=', value: 0.8, unit: 'x linear' },
  warmUp: false,
  // Two sweeps of about 10 s of CPU each per measurement.
  maxRepeats: 3,
  run: () => measureSweeps(ringSweep(), 1000, 'sweep-ring-1000'),
};
