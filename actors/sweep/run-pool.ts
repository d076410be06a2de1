/**
 * Runs on every core: a pool of worker processes (workerpool), one per worker, each running one
 * scenario at a time. A run whose process outlives the run's budget by far (a run stuck inside one
 * step never reaches its own budget check) has its process ended by the pool; a process that dies
 * takes only its run with it, and a new one takes its place.
 *
 * Processes rather than worker threads, and each with V8's helper threads off: a run is a burst of
 * short-lived allocations, and with V8's defaults a third of a run's CPU goes to GC and compiler
 * helper threads, which in a sweep compete with the other workers for the same cores (a
 * one-worker sweep quietly uses 1.4 cores, so two workers on two cores can only reach 1.4×). One
 * single-threaded process per worker uses exactly one core, spends less CPU per run, and shares
 * no heap, GC or allocator with its neighbours (V8 flags are per process: threads could not have
 * them alone). Measured in docs/benchmarks.md (sweep-1000).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadOptional } from './optional-package';
import { overBudget, type RunOutcome, type RunTask } from './run-task';

/**
 * Extra time the pool gives a run beyond its budget before ending its process: a fresh process
 * loads the simulator first (seconds when it compiles TypeScript), and the run checks its own
 * budget precisely from when it starts.
 */
const PROCESS_START_ALLOWANCE_MS = 60_000;

/**
 * V8 flags of each worker process: no GC or compiler helper threads (one worker, one core), and a
 * young generation large enough that a run's short-lived objects rarely survive a scavenge.
 * HVB_SWEEP_NODE_FLAGS replaces them (space-separated; "" for V8's defaults), for measuring.
 */
export const WORKER_NODE_FLAGS = ['--single-threaded', '--max-semi-space-size=64'];

export interface RunPool {
  readonly workers: number;
  run(task: RunTask): Promise<RunOutcome>;
  /** CPU time of the worker processes so far (as of each one's latest run). */
  cpuMs(): number;
  close(): Promise<void>;
}

/** What a worker process sends back for a task: the outcome, and its own CPU time so far. */
export interface PoolReply {
  outcome: RunOutcome;
  pid: number;
  cpuMs: number;
}

/** The process entry: compiled pool-worker.js when this file is compiled JS, else a shim that registers ts-node (see pool-worker-ts.js). */
function workerFile(): string {
  return __filename.endsWith('.ts') ? join(__dirname, 'pool-worker-ts.js') : join(__dirname, 'pool-worker.js');
}

export function defaultWorkers(): number {
  return availableParallelism();
}

function workerNodeFlags(): string[] {
  const fromEnv = process.env.HVB_SWEEP_NODE_FLAGS;
  return fromEnv === undefined ? WORKER_NODE_FLAGS : fromEnv.split(/\s+/).filter((f) => f !== '');
}

export function createRunPool(workers: number): RunPool {
  const { pool: workerPool } = loadOptional<typeof import('workerpool')>('workerpool', 'a sweep on this machine (its pool of worker processes)');
  const pool = workerPool(workerFile(), {
    workerType: 'process',
    minWorkers: workers,
    maxWorkers: workers,
    forkOpts: { execArgv: workerNodeFlags() },
    // A process that will not end when asked is killed after this long.
    workerTerminateTimeout: 2000,
  });
  const cpuByProcess = new Map<number, number>();
  return {
    workers,
    async run(task) {
      try {
        const reply = (await pool.exec('run', [task]).timeout(task.budgetMs + PROCESS_START_ALLOWANCE_MS)) as PoolReply;
        cpuByProcess.set(reply.pid, reply.cpuMs);
        return reply.outcome;
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') return overBudget(task.budgetMs);
        return { status: 'error', error: `the run's worker process failed: ${(err as Error).message}` };
      }
    },
    cpuMs: () => [...cpuByProcess.values()].reduce((a, b) => a + b, 0),
    close: async () => {
      await pool.terminate(true);
    },
  };
}

/**
 * Runs `indices` through the pool, at most one run per worker at a time (so a queued run's budget
 * does not tick while it waits), handing each outcome to `onOutcome` as it comes.
 */
export async function runAll(
  pool: RunPool,
  indices: readonly number[],
  taskOf: (index: number) => RunTask,
  onOutcome: (index: number, outcome: RunOutcome) => void,
  stopped: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < indices.length && !stopped()) {
      const index = indices[next++];
      onOutcome(index, await pool.run(taskOf(index)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool.workers, indices.length) }, lane));
}
