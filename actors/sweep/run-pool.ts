/**
 * Runs on every core: a pool of worker processes (workerpool), one per worker, each running one
 * scenario at a time; short runs are handed out in batches (runAll). A run whose process outlives
 * the run's budget by far (a run stuck inside one step never reaches its own budget check) has its
 * process ended by the pool; a process that dies takes only its run with it (a batch's other runs
 * are run again), and a new one takes its place.
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
import { overBudget, type RunOutcome, type SerializedRunOutcome } from './run-outcome';
import type { RunTask } from './run-task';

/**
 * Extra time the pool gives a run beyond its budget before ending its process: a fresh process
 * loads the simulator first (seconds when it compiles TypeScript), and the run checks its own
 * budget precisely from when it starts.
 */
const PROCESS_START_ALLOWANCE_MS = 60_000;

/**
 * V8 flags of each worker process: no GC or compiler helper threads (one worker, one core), and no
 * allocation-site pretenuring. V8 pretenures an allocation site (allocates its objects straight in
 * the old generation) when many of its objects survive a scavenge; a run's objects die with the
 * run, so after a few hundred runs a worker allocated much of each run in the old generation, then
 * paid mark-compacts for it and a "deopt all allocation sites" of its optimised code: from about
 * run 600 on, a run cost 1.5-2x as much CPU, for as long as the worker lived. Without pretenuring,
 * V8's default young generation does as well alone as a 64 MB one (used until then) and better
 * beside another worker, with a third fewer page faults (docs/benchmarks.md, sweep-1000, session 5).
 * And less inlining in TurboFan (a cumulative budget of 150 bytes of bytecode per function instead
 * of 920): most of a short-lived worker's fixed cost is TurboFan compiling the simulator's hot code
 * (39 % of the instructions of a 250-run worker), and inlining makes each compile dearer. Counted
 * with callgrind (deterministic, unlike time here), it takes 28 % off a worker's fixed cost and 10 %
 * off a 500-run worker; runs of a host sweep cost the same (docs/benchmarks.md, sweep-1000, session 6).
 * HVB_SWEEP_NODE_FLAGS replaces them (space-separated; "" for V8's defaults), for measuring.
 */
export const WORKER_NODE_FLAGS = ['--single-threaded', '--no-allocation-site-pretenuring', '--max-inlined-bytecode-size-cumulative=150'];

export interface RunPool {
  readonly workers: number;
  run(task: RunTask): Promise<RunOutcome>;
  /**
   * Runs `tasks` one after another in one worker process: one message each way for the lot (see
   * runAll). A batch whose process fails, or outlives one run's budget by the pool's allowance, is
   * run again task by task, so each run gets its own outcome (the stuck or crashing one alone is
   * recorded as such; the others, deterministic, give what they gave).
   */
  runBatch(tasks: readonly RunTask[]): Promise<BatchResult>;
  /** CPU time of the worker processes so far (as of each one's latest run). */
  cpuMs(): number;
  close(): Promise<void>;
}

/** What a worker process sends back for a task: the outcome, and its own CPU time so far. */
export interface PoolReply {
  outcome: RunOutcome;
  pid: number;
  cpuMs: number;
  /** Wall-clock ms the worker spent on the run. */
  runMs: number;
}

/** What a worker process sends back for a batch of tasks: their outcomes in order (final states as JSON text), and its CPU time so far. */
export interface PoolBatchReply {
  outcomes: Array<RunOutcome | SerializedRunOutcome>;
  pid: number;
  cpuMs: number;
  /** Wall-clock ms the worker spent running the batch (not waiting for it or sending it back). */
  runMs: number;
}

/** A batch's outcomes in order, and how long its runs took in their worker. */
export interface BatchResult {
  outcomes: Array<RunOutcome | SerializedRunOutcome>;
  /** The worker's own wall time for the batch's runs; undefined when the batch was run again run by run. */
  runMs?: number;
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
    // Messages in V8's structured-clone format instead of JSON: a batch's outcomes carry each run's
    // final state as JSON text (a few KiB), which JSON would escape quote by quote in the worker and
    // unescape in the sweep process; copied as they are, the sweep process parses a reply in a
    // fraction of the time (docs/benchmarks.md, sweep-1000, session 5).
    forkOpts: { execArgv: workerNodeFlags(), serialization: 'advanced' },
    // A process that will not end when asked is killed after this long.
    workerTerminateTimeout: 2000,
  });
  const cpuByProcess = new Map<number, number>();
  const timedRun = async (task: RunTask): Promise<BatchResult & { outcomes: [RunOutcome] }> => {
    try {
      const reply = (await pool.exec('run', [task]).timeout(task.budgetMs + PROCESS_START_ALLOWANCE_MS)) as PoolReply;
      cpuByProcess.set(reply.pid, reply.cpuMs);
      return { outcomes: [reply.outcome], runMs: reply.runMs };
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return { outcomes: [overBudget(task.budgetMs)] };
      return { outcomes: [{ status: 'error', error: `the run's worker process failed: ${(err as Error).message}` }] };
    }
  };
  const run = async (task: RunTask): Promise<RunOutcome> => (await timedRun(task)).outcomes[0];
  return {
    workers,
    run,
    async runBatch(tasks) {
      if (tasks.length === 1) return timedRun(tasks[0]);
      // The backstop of one run, not of all: only short runs are batched, so a batch past one budget has a stuck run.
      const budgetMs = Math.max(...tasks.map((task) => task.budgetMs));
      let reply: PoolBatchReply;
      try {
        reply = (await pool.exec('runBatch', [tasks]).timeout(budgetMs + PROCESS_START_ALLOWANCE_MS)) as PoolBatchReply;
      } catch {
        // Which run hung or killed the process is not known: each gets its own try, as if never batched.
        const outcomes: Array<RunOutcome | SerializedRunOutcome> = [];
        for (const task of tasks) outcomes.push(await run(task));
        return { outcomes };
      }
      cpuByProcess.set(reply.pid, reply.cpuMs);
      return { outcomes: reply.outcomes, runMs: reply.runMs };
    },
    cpuMs: () => [...cpuByProcess.values()].reduce((a, b) => a + b, 0),
    close: async () => {
      await pool.terminate(true);
    },
  };
}

/** Wall time a batch of short runs should take: long enough that its two messages cost little beside it, short enough that progress and the results file still move smoothly. */
export const BATCH_TARGET_MS = 100;
/** At most this many runs in one batch. */
export const MAX_BATCH = 32;

/**
 * How many runs to hand a worker at once. Short runs go in batches (each message wakes the sweep
 * process and costs both sides system calls and serialization; with every core running a worker, the
 * sweep process's work takes time from a worker), sized to take about BATCH_TARGET_MS at the
 * current time per run (one run at a time until a run has been timed), and never more than a
 * quarter of what is left per worker, so the workers finish together.
 */
export function batchSize(runMs: number | undefined, remaining: number, workers: number): number {
  if (runMs === undefined) return 1;
  const byTime = Math.floor(BATCH_TARGET_MS / Math.max(runMs, 0.001));
  const byTail = Math.floor(remaining / (4 * workers));
  return Math.max(1, Math.min(MAX_BATCH, byTime, byTail));
}

/**
 * Time per run for sizing batches: a moving average of the workers' own time per run, batch by
 * batch. The workers' own time, not the time until a batch comes back: that also holds the wait
 * in the pool's queue (see runAll) and the sweep process's turn. Moving, not over the whole sweep:
 * a worker's first runs are several times slower than the rest while V8 compiles the simulator
 * (45 ms against 4-6), and a mean over all runs would keep batches small long after that.
 */
export class RunTimer {
  private mean: number | undefined;

  add(runMs: number, runs: number): void {
    const perRun = runMs / runs;
    this.mean = this.mean === undefined ? perRun : (this.mean + perRun) / 2;
  }

  get runMs(): number | undefined {
    return this.mean;
  }
}

/**
 * Runs `indices` through the pool, handing the outcomes of each batch, as [index, outcome] in
 * order, to `onOutcomes` as the batch comes back. Two batches per worker are out at a time: one
 * running and one waiting in the pool's queue, which the pool sends to the worker as soon as the
 * worker's reply to the one before arrives. So a worker never waits for the sweep process to
 * write a batch's lines and make up the next batch (with a worker on every core, the sweep process
 * has to take a core from a worker first). A queued run's budget does not tick while it waits: the
 * pool starts a batch's timer when it sends the batch.
 */
export async function runAll(
  pool: RunPool,
  indices: readonly number[],
  taskOf: (index: number) => RunTask,
  onOutcomes: (outcomes: ReadonlyArray<readonly [number, RunOutcome | SerializedRunOutcome]>) => void,
  stopped: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const timer = new RunTimer();
  const lane = async (): Promise<void> => {
    while (next < indices.length && !stopped()) {
      const size = batchSize(timer.runMs, indices.length - next, pool.workers);
      const batch = indices.slice(next, next + size);
      next += batch.length;
      const started = performance.now();
      const { outcomes, runMs } = await pool.runBatch(batch.map(taskOf));
      timer.add(runMs ?? performance.now() - started, batch.length);
      onOutcomes(batch.map((index, i) => [index, outcomes[i]] as const));
    }
  };
  await Promise.all(Array.from({ length: Math.min(2 * pool.workers, indices.length) }, lane));
}
