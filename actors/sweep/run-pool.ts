/**
 * Runs on every core: a piscina worker-thread pool, one thread per worker. A run's thread is ended
 * by the pool if the run outlives its budget by far (a run stuck inside one step never reaches the
 * run's own budget check); a thread that dies takes only its run with it.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { overBudget, type RunOutcome, type RunTask } from './run-task';

/**
 * Extra time the pool gives a run beyond its budget before ending its thread: a fresh thread loads
 * the simulator first (seconds when it compiles TypeScript), and the run checks its own budget
 * precisely from when it starts.
 */
const THREAD_START_ALLOWANCE_MS = 60_000;

export interface RunPool {
  readonly threads: number;
  run(task: RunTask): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** The thread entry: compiled run-task.js when this file is compiled JS, else a shim that registers ts-node (see run-task-ts.js). */
function taskFile(): string {
  return __filename.endsWith('.ts') ? join(__dirname, 'run-task-ts.js') : join(__dirname, 'run-task.js');
}

export function defaultWorkers(): number {
  return availableParallelism();
}

export function createRunPool(threads: number): RunPool {
  const pool = new Piscina<RunTask, RunOutcome>({
    filename: taskFile(),
    minThreads: threads,
    maxThreads: threads,
    // Keep threads (and their loaded simulator) for the whole sweep.
    idleTimeout: 60_000,
  });
  return {
    threads,
    async run(task) {
      try {
        return await pool.run(task, { signal: AbortSignal.timeout(task.budgetMs + THREAD_START_ALLOWANCE_MS) });
      } catch (err) {
        if ((err as Error).name === 'AbortError') return overBudget(task.budgetMs);
        return { status: 'error', error: `the run's worker thread failed: ${(err as Error).message}` };
      }
    },
    close: () => pool.destroy(),
  };
}

/**
 * Runs `indices` through the pool, at most one run per thread at a time (so a queued run's budget
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
  await Promise.all(Array.from({ length: Math.min(pool.threads, indices.length) }, lane));
}
