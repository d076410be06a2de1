/**
 * A queue worker: takes sweep runs from a BullMQ queue on Redis and runs them on this machine's
 * pool of worker processes, one job per process. Runs happen outside this process, so BullMQ keeps renewing
 * the job locks while they compute; a worker that dies (killed, machine lost) stops renewing, and
 * after the stall timeout another worker takes its job again.
 */
import { loadOptional } from './optional-package';
import { createRunPool } from './run-pool';
import type { RunOutcome } from './run-task';
import { checkRedis, connectionOf, safeUrl, type RunJobData } from './redis-queue';
import type { QueueTarget } from './queue-producer';

export interface QueueWorkerOptions extends QueueTarget {
  /** Runs at once on this machine (worker processes). */
  threads: number;
  /** How long a job's worker may stay silent before its job is given to another worker. */
  stallTimeoutMs: number;
  /** Exit after the queue has been empty and this worker idle this long (a Kubernetes Job's workers must end); undefined: run until stopped. */
  idleExitMs?: number;
  log(message: string): void;
}

export interface QueueWorkerHandle {
  /** Resolves when the worker has stopped: idle past idleExitMs, or after stop(). */
  done: Promise<void>;
  /** Stops taking jobs, lets running ones finish, closes. */
  stop(): Promise<void>;
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const { Queue, Worker } = loadOptional<typeof import('bullmq')>('bullmq', 'a queue worker');
  await checkRedis(options.url);
  const pool = createRunPool(options.threads);
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const worker = new Worker<RunJobData, RunOutcome>(
    options.name,
    async (job) => {
      active++;
      clearTimeout(idleTimer);
      options.log(`run ${job.data.sweep} #${job.data.index} started${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
      try {
        const outcome = await pool.run(job.data.task);
        options.log(`run ${job.data.sweep} #${job.data.index} ${outcome.status}`);
        return outcome;
      } finally {
        active--;
        armIdleTimer();
      }
    },
    {
      connection: connectionOf(options.url),
      concurrency: options.threads,
      lockDuration: options.stallTimeoutMs,
      stalledInterval: options.stallTimeoutMs,
      // A job whose worker died twice is retried once more, then recorded as failed.
      maxStalledCount: 2,
      autorun: false,
    },
  );
  worker.on('error', (err) => options.log(`queue: ${err.message}`));
  const counter = new Queue(options.name, { connection: connectionOf(options.url) });
  counter.on('error', (err) => options.log(`queue: ${err.message}`));
  const stop = (): Promise<void> => {
    clearTimeout(idleTimer);
    stopping ??= worker
      .close()
      .then(() => counter.close())
      .then(() => pool.close());
    return stopping;
  };
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const armIdleTimer = (): void => {
    clearTimeout(idleTimer);
    if (options.idleExitMs === undefined || active > 0) return;
    idleTimer = setTimeout(() => {
      void (async () => {
        // Idle here is not enough: a job still active elsewhere may be a dead worker's, to be retried here.
        const counts = await counter.getJobCounts('wait', 'active', 'delayed', 'prioritized').catch(() => undefined);
        const left = counts ? Object.values(counts).reduce((a, b) => a + b, 0) : 1;
        if (active > 0 || left > 0) return armIdleTimer();
        options.log(`idle for ${options.idleExitMs! / 1000} s: stopping`);
        await stop();
      })();
    }, options.idleExitMs);
  };
  void worker.run().then(
    () => resolveDone(),
    (err: Error) => {
      options.log(`queue: ${err.message}`);
      resolveDone();
    },
  );
  await worker.waitUntilReady();
  options.log(`worker on ${safeUrl(options.url)} (queue "${options.name}"), ${options.threads} worker process${options.threads === 1 ? '' : 'es'}`);
  armIdleTimer();
  return { done: done.then(() => stopping), stop };
}
