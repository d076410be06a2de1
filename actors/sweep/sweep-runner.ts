/**
 * Runs a sweep: finds what the results file already holds, runs the rest on this machine's
 * pool of worker processes or through a Redis queue, writes each run to the file in combination order,
 * and summarizes every run of the sweep. The results do not depend on the engine or the number of
 * workers: each run is deterministic from its scenario and seed, and the file is written in order.
 */
import { createRunPool, defaultWorkers, runAll, type RunPool } from './run-pool';
import { runThroughQueue, type QueueTarget } from './queue-producer';
import type { RunOutcome, RunTask, SerializedRunOutcome } from './run-task';
import { digestOf, OrderedResultsWriter, readResults, recordOf, startResults, type RunDigest } from './results-file';
import { combinationOf, scenarioOf, type Sweep } from './sweep-file';
import { summarize, type SweepSummary } from './summary';

export interface SweepProgress {
  /** Runs in the results file (resumed ones included). */
  done: number;
  total: number;
  /** Failed and over-budget runs among `done`. */
  failed: number;
  /** Runs found in the file at the start. */
  resumed: number;
}

export interface RunSweepOptions {
  /** The results file (JSON lines). */
  out: string;
  /** Replace the file's runs instead of resuming from them. */
  restart?: boolean;
  /** Worker processes of the local pool (default: one per core). Ignored with `queue`. */
  workers?: number;
  /** Run through this Redis queue instead of the local pool. */
  queue?: QueueTarget;
  onProgress?: (progress: SweepProgress) => void;
  /** Notes for the user (resuming, a dropped torn line, queue status). */
  note?: (message: string) => void;
  /** Aborting stops the sweep: runs in flight are dropped (a resume does them again). */
  signal?: AbortSignal;
  /**
   * A local pool already started (startRunPool), whose worker processes loaded the simulator while
   * the caller read and checked the sweep file; the sweep closes it. Default: one is started here.
   */
  pool?: RunPool;
  /**
   * When the caller started working on this sweep (performance.now() and process.cpuUsage() then):
   * the report's wall and CPU time count from there, so a pool started before the sweep file was
   * read is counted whole. Default: when runSweep is called.
   */
  startedAt?: { wallMs: number; cpu: NodeJS.CpuUsage };
}

export interface SweepReport {
  summary: SweepSummary;
  /** Runs found in the results file at the start. */
  resumed: number;
  /** Runs done by this call. */
  ran: number;
  /** True when stopped before every run was done. */
  interrupted: boolean;
  engine: 'processes' | 'queue';
  workers: number;
  wallMs: number;
  /** CPU time of this process and its worker processes (with a queue, the workers' CPU is elsewhere and not counted). */
  cpuMs: number;
}

/** The task of run `index`, as a pool worker or a queue worker receives it. */
export function taskOf(sweep: Sweep, index: number): RunTask {
  return {
    kind: sweep.kind,
    // The base's own name: a kind may resolve files relative to it. The run's line says which combination it was.
    source: sweep.baseSource,
    scenario: scenarioOf(sweep, index),
    figures: sweep.figures.map(({ name, segments, divisor }) => ({ name, segments, divisor })),
    budgetMs: sweep.budgetMs,
  };
}

export async function runSweep(sweep: Sweep, options: RunSweepOptions): Promise<SweepReport> {
  const note = options.note ?? (() => undefined);
  const started = options.startedAt?.wallMs ?? performance.now();
  const cpu0 = options.startedAt?.cpu ?? process.cpuUsage();
  if (options.restart) startResults(options.out);
  const done = readResults(options.out, sweep, note);
  const resumed = done.size;
  if (resumed === 0) startResults(options.out);
  else if (resumed < sweep.runs) note(`resuming: ${resumed} of ${sweep.runs} runs are already in ${options.out}`);
  else note(`all ${sweep.runs} runs are already in ${options.out} (--restart runs them again)`);
  const todo: number[] = [];
  for (let i = 0; i < sweep.runs; i++) if (!done.has(i)) todo.push(i);

  let failed = [...done.values()].filter((d) => d.status !== 'ok').length;
  const progress = (): void => options.onProgress?.({ done: done.size, total: sweep.runs, failed, resumed });
  const writer = new OrderedResultsWriter(options.out, todo, (record) => {
    const digest: RunDigest = digestOf(record);
    done.set(record.index, digest);
    if (digest.status !== 'ok') failed++;
    progress();
  });
  const stopped = (): boolean => options.signal?.aborted === true;
  const onOutcome = (index: number, outcome: RunOutcome): void => {
    if (!stopped()) writer.add(recordOf(sweep, index, combinationOf(sweep, index), outcome));
  };
  // A batch from the local pool: its lines go to the file in one write.
  const onOutcomes = (outcomes: ReadonlyArray<readonly [number, RunOutcome | SerializedRunOutcome]>): void => {
    if (!stopped()) writer.add(...outcomes.map(([index, outcome]) => recordOf(sweep, index, combinationOf(sweep, index), outcome)));
  };
  progress();

  const engine = options.queue ? 'queue' : 'processes';
  let workersCpuMs = 0;
  const workers = options.queue ? 0 : Math.max(1, Math.min(options.pool?.workers ?? options.workers ?? defaultWorkers(), todo.length || 1));
  if (todo.length === 0 && options.pool) await options.pool.close();
  if (todo.length > 0) {
    if (options.queue) {
      const whenStopped = new Promise<void>((resolve) => {
        if (stopped()) resolve();
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      await runThroughQueue(sweep.id, todo, (i) => taskOf(sweep, i), options.queue, { onOutcome, note, stopped, whenStopped });
    } else {
      const pool = options.pool ?? createRunPool(workers);
      // Ctrl-C ends the workers at once; what they were running is done again on resume.
      const onAbort = (): void => void pool.close();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await runAll(pool, todo, (i) => taskOf(sweep, i), onOutcomes, stopped);
      } finally {
        options.signal?.removeEventListener('abort', onAbort);
        workersCpuMs = pool.cpuMs();
        if (!stopped()) await pool.close();
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const ordered = [...done.values()].sort((a, b) => a.index - b.index);
  return {
    summary: summarize(sweep, ordered),
    resumed,
    ran: done.size - resumed,
    interrupted: done.size < sweep.runs,
    engine,
    workers,
    wallMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000 + workersCpuMs,
  };
}
